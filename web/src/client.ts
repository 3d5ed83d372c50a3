// The one GraphQL client: urql over same-origin fetch (cookie mode) and graphql-ws for
// subscriptions. No document cache: every page asks the network, and the cart and session
// live in the shop store (store.tsx), updated from mutation results.
import {
  Client,
  fetchExchange,
  stringifyDocument,
  subscriptionExchange,
  type AnyVariables,
  type CombinedError,
  type TypedDocumentNode,
} from '@urql/core';
import { useLayoutEffect, useState } from 'preact/hooks';
import type { Client as Socket } from 'graphql-ws';
import { graphql } from './gql';

const CSRF = { 'x-bookstore-csrf': '1' };
const SESSION_FLAG = 'bookstore.session';

/** Whether this browser signed in and has not signed out (the cookies themselves are HttpOnly). */
export function hadSession(): boolean {
  try {
    return localStorage.getItem(SESSION_FLAG) === '1';
  } catch {
    return false;
  }
}

export function markSession(signedIn: boolean): void {
  try {
    if (signedIn) localStorage.setItem(SESSION_FLAG, '1');
    else localStorage.removeItem(SESSION_FLAG);
  } catch {
    // storage disabled: the session still works, it just is not refreshed after a reload
  }
}

const refreshMutation = graphql(`
  mutation Refresh {
    refreshToken(refreshToken: "") {
      expiresIn
    }
  }
`);
const refreshBody = JSON.stringify({ query: stringifyDocument(refreshMutation), operationName: 'Refresh' });

let refreshing: Promise<boolean> | null = null;

/** Rotates the session cookies with the refresh cookie; false when the session is over. */
export function refreshSession(): Promise<boolean> {
  refreshing ??= fetch('/graphql', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...CSRF },
    body: refreshBody,
  })
    .then((response) => response.json())
    .then((body: { data?: { refreshToken?: unknown } | null }) => {
      const ok = Boolean(body.data?.refreshToken);
      if (!ok) markSession(false);
      return ok;
    })
    .catch(() => false)
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

const SESSION_OPERATIONS = /"operationName":"(Login|Register|Refresh|Logout)"/;

/** fetch, plus one transparent refresh-and-retry when a signed-in browser's access token expired. */
async function shopFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const response = await fetch(input, init);
  if (!hadSession() || (typeof init?.body === 'string' && SESSION_OPERATIONS.test(init.body))) {
    return response;
  }
  let expired = false;
  try {
    const body = (await response.clone().json()) as { errors?: { extensions?: { code?: string } }[] };
    expired = Boolean(body.errors?.some((error) => error.extensions?.code === 'UNAUTHENTICATED'));
  } catch {
    return response;
  }
  if (expired && (await refreshSession())) return fetch(input, init);
  return response;
}

// graphql-ws is loaded with the first subscription (only the order page has one).
let socket: Promise<Socket> | null = null;

function currentSocket(): Promise<Socket> {
  socket ??= import('graphql-ws').then(({ createClient }) =>
    createClient({
      url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql/ws`,
      lazy: true,
      retryAttempts: 8,
      shouldRetry: () => true,
    }),
  );
  return socket;
}

/** The socket authenticates from the cookies of its upgrade request: reconnect after sign-in/out. */
export function resetSocket(): void {
  const old = socket;
  socket = null;
  void old?.then((client) => client.dispose());
}

export const client = new Client({
  url: '/graphql',
  preferGetMethod: false,
  requestPolicy: 'network-only',
  fetch: shopFetch,
  // application/json: every executed request answers 200 (under graphql-response+json the BFF
  // answers 400 whenever `data` is null, e.g. a declined payment).
  fetchOptions: { credentials: 'same-origin', headers: { accept: 'application/json', ...CSRF } },
  exchanges: [
    fetchExchange,
    subscriptionExchange({
      forwardSubscription(request) {
        const operation = { ...request, query: request.query ?? '' };
        return {
          subscribe(sink) {
            let unsubscribe: (() => void) | null = null;
            let cancelled = false;
            currentSocket().then(
              (connection) => {
                if (!cancelled) unsubscribe = connection.subscribe(operation, sink);
              },
              (error: unknown) => sink.error(error),
            );
            return {
              unsubscribe() {
                cancelled = true;
                unsubscribe?.();
              },
            };
          },
        };
      },
    }),
  ],
});

/**
 * A query started in a layout effect, so it leaves before the first paint (useQuery starts
 * after it): the pages whose content is the Largest Contentful Paint use this.
 */
export function useEagerQuery<Data, Variables extends AnyVariables>(
  query: TypedDocumentNode<Data, Variables>,
  variables: Variables,
): { data?: Data; error?: CombinedError; fetching: boolean } {
  const key = JSON.stringify(variables);
  const [state, setState] = useState<{ key: string; data?: Data; error?: CombinedError }>({ key: '' });
  useLayoutEffect(() => {
    let current = true;
    void client
      .query(query, variables)
      .toPromise()
      .then((result) => {
        if (current) setState({ key, data: result.data, error: result.error });
      });
    return () => {
      current = false;
    };
  }, [key]);
  return state.key === key ? { data: state.data, error: state.error, fetching: false } : { fetching: true };
}
