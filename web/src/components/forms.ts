import { useEffect, type MutableRef } from 'preact/hooks';
import { fieldMessage, type Problem } from '../errors';

export type FieldErrors = Record<string, string>;

/** Moves focus to the first invalid field whenever a new set of errors appears. */
export function useFocusFirstInvalid(form: MutableRef<HTMLFormElement | null>, errors: FieldErrors): void {
  useEffect(() => {
    if (!Object.keys(errors).length) return;
    form.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [errors]);
}

/**
 * The field errors for a BAD_USER_INPUT problem, keyed by input name: the field path exactly
 * (`payment.card.number`), else the input whose name ends like it (`address.country` → `country`).
 * Null when no input of the form matches (the caller shows an alert instead).
 */
export function fieldErrorsFor(problem: Problem, labels: Record<string, string>): FieldErrors | null {
  if (problem.code !== 'BAD_USER_INPUT' || !problem.field) return null;
  const field = problem.field;
  const last = field.split('.').pop() ?? field;
  const name = field in labels ? field : Object.keys(labels).find((key) => key === last || key.endsWith(`.${last}`));
  if (!name) return null;
  return { [name]: fieldMessage(labels[name] ?? name, problem) };
}

export function text(data: FormData, name: string): string {
  const value = data.get(name);
  return typeof value === 'string' ? value.trim() : '';
}

/** Only same-site paths are followed after signing in. */
export function safeNext(next: string | undefined, fallback = '/'): string {
  return next && next.startsWith('/') && !next.startsWith('//') ? next : fallback;
}
