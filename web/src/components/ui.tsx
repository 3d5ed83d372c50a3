// Small building blocks: the page heading (title + focus after navigation), alerts, form
// fields wired to their error messages, and the drawn book cover.
import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

let focusHeadingOnMount = false;

/** Called by the layout when the path changes: the next page heading takes focus. */
export function headingShouldTakeFocus(): void {
  focusHeadingOnMount = true;
}

export function useTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · Bookstore` : 'Bookstore';
  }, [title]);
}

/** The page's h1; sets document.title, and takes focus after a client-side navigation. */
export function PageHeading({ children, title }: { children: ComponentChildren; title: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useTitle(title);
  useEffect(() => {
    if (focusHeadingOnMount && ref.current) {
      focusHeadingOnMount = false;
      ref.current.focus({ preventScroll: false });
    }
  }, []);
  return (
    <h1 ref={ref} tabIndex={-1}>
      {children}
    </h1>
  );
}

export function Alert({ children, tone = 'error' }: { children: ComponentChildren; tone?: 'error' | 'info' }) {
  return (
    <div role="alert" class={`alert alert-${tone}`}>
      {children}
    </div>
  );
}

export function Status({ children }: { children: ComponentChildren }) {
  return (
    <p role="status" class="status">
      {children}
    </p>
  );
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p role="status" class="loading">
      {label}
    </p>
  );
}

type InputProps = Omit<JSX.InputHTMLAttributes<HTMLInputElement>, 'label' | 'id' | 'name' | 'class'>;

/** A labelled input; `error` sets aria-invalid and ties the message by aria-describedby. */
export function Field({
  id,
  name,
  label,
  error,
  hint,
  class: className,
  ...input
}: InputProps & { id: string; name: string; label: string; error?: string; hint?: string; class?: string }) {
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const describedBy = [errorId, hintId].filter(Boolean).join(' ') || undefined;
  return (
    <div class={`field${className ? ` ${className}` : ''}`}>
      <label for={id}>{label}</label>
      <input id={id} name={name} aria-invalid={error ? 'true' : undefined} aria-describedby={describedBy} {...input} />
      {hint && (
        <p id={hintId} class="hint">
          {hint}
        </p>
      )}
      {error && (
        <p id={errorId} class="field-error">
          {error}
        </p>
      )}
    </div>
  );
}

function hash(text: string): number {
  let value = 0;
  for (let index = 0; index < text.length; index++) value = (value * 31 + text.charCodeAt(index)) | 0;
  return Math.abs(value);
}

/** A cover drawn with CSS (covers from outside hosts are never loaded). */
export function Cover({ id, title, author, large }: { id: string; title: string; author?: string; large?: boolean }) {
  return (
    <div class={`cover cover-${hash(id) % 8}${large ? ' cover-large' : ''}`} aria-hidden="true">
      <span class="cover-title">{title}</span>
      {author && <span class="cover-author">{author}</span>}
    </div>
  );
}

const STATUS_NAMES: Record<string, string> = {
  PENDING: 'Pending',
  CONFIRMED: 'Confirmed',
  SHIPPED: 'Shipped',
  DELIVERED: 'Delivered',
  CANCELLED: 'Cancelled',
  FAILED: 'Failed',
};

export function statusName(status: string): string {
  return STATUS_NAMES[status] ?? status;
}

const dateTime = new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeStyle: 'short' });

export function formatDate(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateTime.format(date);
}

export function shortId(id: string): string {
  return id.slice(-8).toUpperCase();
}

/** A fresh key for one checkout attempt. */
export function newKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, '0')).join('');
}
