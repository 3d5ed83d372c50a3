// The contract's error codes (extensions.code) and what a shopper is told about each.
import type { CombinedError } from '@urql/core';

export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_USER_INPUT'
  | 'OUT_OF_STOCK'
  | 'PAYMENT_DECLINED'
  | 'CONFLICT'
  | 'UNAVAILABLE'
  | 'INTERNAL'
  | 'NETWORK';

export interface Problem {
  code: ErrorCode;
  message: string;
  /** BAD_USER_INPUT: the input's path, e.g. `payment.card.number`. */
  field?: string;
  /** OUT_OF_STOCK: the books that are short. */
  bookIds?: string[];
  path?: readonly (string | number)[];
}

export function problems(error: CombinedError | undefined | null): Problem[] {
  if (!error) return [];
  if (!error.graphQLErrors.length) {
    return [{ code: 'NETWORK', message: error.networkError?.message ?? 'network error' }];
  }
  return error.graphQLErrors.map((graphQLError) => {
    const extensions = graphQLError.extensions ?? {};
    return {
      code: (typeof extensions.code === 'string' ? extensions.code : 'INTERNAL') as ErrorCode,
      message: graphQLError.message,
      field: typeof extensions.field === 'string' && extensions.field ? extensions.field : undefined,
      bookIds: Array.isArray(extensions.bookIds) ? (extensions.bookIds as string[]) : undefined,
      path: graphQLError.path,
    };
  });
}

export function firstProblem(error: CombinedError | undefined | null): Problem | null {
  return problems(error)[0] ?? null;
}

const DECLINE_REASONS: Record<string, string> = {
  card_declined: 'the card was declined',
  insufficient_funds: 'the card has insufficient funds',
  paypal_declined: 'PayPal declined the payment',
};

/** The reason part of a BAD_USER_INPUT message (`payment.card.cvc: must be 3 digits`). */
export function reason(problem: Problem): string {
  const colon = problem.message.indexOf(': ');
  return colon > 0 && !problem.message.slice(0, colon).includes(' ')
    ? problem.message.slice(colon + 2)
    : problem.message;
}

/** A field's message: "Security code must be 3 digits", "The card has expired". */
export function fieldMessage(label: string, problem: Problem): string {
  const text = reason(problem);
  if (/^(is|must|should|cannot|can't|may)\b/.test(text)) return `${label} ${text}.`.replace(/\.\.$/, '.');
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}${text.endsWith('.') ? '' : '.'}`;
}

/** A sentence for an alert. */
export function describe(problem: Problem): string {
  switch (problem.code) {
    case 'NETWORK':
      return 'We could not reach the shop. Check your connection and try again.';
    case 'UNAVAILABLE':
      return 'Part of the shop is unavailable right now. Please try again in a moment.';
    case 'INTERNAL':
      return 'Something went wrong on our side. Please try again.';
    case 'UNAUTHENTICATED':
      return 'Your session has ended. Please sign in again.';
    case 'PAYMENT_DECLINED': {
      const code = problem.message.split(': ').pop() ?? '';
      const why = DECLINE_REASONS[code] ?? 'the payment was not approved';
      return `Payment declined: ${why}. Your cart is unchanged; try another card or PayPal.`;
    }
    case 'OUT_OF_STOCK':
      return 'Some books in your cart are no longer in stock in the quantity you asked for. They are marked in your order summary; change the quantity or remove them and try again.';
    default: {
      const text = reason(problem);
      return `${text.charAt(0).toUpperCase()}${text.slice(1)}${text.endsWith('.') ? '' : '.'}`;
    }
  }
}
