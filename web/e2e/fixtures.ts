// Shared set-up for the browser suite: the admin API (books, stock, order status), the
// shopper's own API calls through the browser context's cookies, unique names, an axe
// check that records its counts, and a guard that fails a test on any CSP violation or
// uncaught page error.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { test as base, expect, type APIRequestContext, type Locator, type Page } from '@playwright/test';
import { admin } from './server.mjs';

const bff = process.env.E2E_BFF_URL ?? 'http://127.0.0.1:28380';

export interface GraphQLBody<T = any> {
  data?: T;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

export async function gql<T = any>(
  request: APIRequestContext,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<GraphQLBody<T>> {
  const response = await request.post(`${bff}/graphql`, {
    data: { query, variables },
    headers: { accept: 'application/json', 'x-bookstore-csrf': '1', ...headers },
  });
  return (await response.json()) as GraphQLBody<T>;
}

export function unique(prefix = ''): string {
  const letters = Array.from({ length: 8 }, () => String.fromCharCode(97 + Math.floor(Math.random() * 26))).join('');
  return `${prefix}${letters}`;
}

export function newEmail(): string {
  return `shopper-${Date.now()}-${unique()}@example.com`;
}

export const PASSWORD = 'correct-Horse-battery-9';

function isbn13(): string {
  const digits = `978${String(Math.floor(Math.random() * 1e9)).padStart(9, '0')}`;
  let sum = 0;
  for (let index = 0; index < 12; index++) sum += Number(digits[index]) * (index % 2 ? 3 : 1);
  return digits + ((10 - (sum % 10)) % 10);
}

export interface Book {
  id: string;
  title: string;
}

export class AdminApi {
  constructor(
    private readonly request: APIRequestContext,
    private readonly token: string,
  ) {}

  async call<T = any>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const body = await gql<T>(this.request, query, variables, { authorization: `Bearer ${this.token}` });
    if (body.errors?.length || !body.data) throw new Error(`admin call failed: ${JSON.stringify(body.errors)}`);
    return body.data;
  }

  async createBook(input: {
    title: string;
    price?: number;
    stock?: number;
    authors?: string[];
    topics?: string[];
    description?: string;
  }): Promise<Book> {
    const data = await this.call<{ createBook: Book }>(
      `mutation($input: BookInput!) { createBook(input: $input) { id title } }`,
      {
        input: {
          isbn: isbn13(),
          title: input.title,
          authors: input.authors ?? ['E2E Author'],
          topics: input.topics ?? ['Fiction'],
          description: input.description ?? `A book made by the browser suite: ${input.title}.`,
          publishedYear: 2020,
          price: input.price ?? 1500,
        },
      },
    );
    if (input.stock !== undefined) await this.setStock(data.createBook.id, input.stock);
    return data.createBook;
  }

  async setStock(bookId: string, onHand: number): Promise<void> {
    await this.call(`mutation($id: ID!, $n: Int!) { setStock(bookId: $id, onHand: $n) { available } }`, {
      id: bookId,
      n: onHand,
    });
  }

  async setOrderStatus(orderId: string, status: string): Promise<void> {
    await this.call(`mutation($id: ID!, $s: OrderStatus!) { updateOrderStatus(id: $id, status: $s) { id status } }`, {
      id: orderId,
      s: status,
    });
  }
}

/** The shopper's own calls, with the browser context's cookies (the session the page has). */
export async function shopperOrders(page: Page): Promise<{ id: string; status: string; createdAt: string }[]> {
  const body = await gql<{ orders: { edges: { node: { id: string; status: string; createdAt: string } }[] } }>(
    page.request,
    '{ orders(first: 50) { edges { node { id status createdAt } } } }',
  );
  if (!body.data) throw new Error(`orders failed: ${JSON.stringify(body.errors)}`);
  return body.data.orders.edges.map((edge) => edge.node);
}

export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21aa', 'wcag22aa'];

/** Runs axe on the page as it is; records counts by impact; fails on serious or critical. */
export async function checkA11y(page: Page, state: string): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(AXE_TAGS).analyze();
  const counts: Record<string, number> = { critical: 0, serious: 0, moderate: 0, minor: 0 };
  for (const violation of results.violations) counts[violation.impact ?? 'minor'] += violation.nodes.length;
  const directory = join('test-results', 'axe');
  mkdirSync(directory, { recursive: true });
  writeFileSync(
    join(directory, `${state}.json`),
    JSON.stringify(
      {
        state,
        url: page.url(),
        counts,
        violations: results.violations.map((violation) => ({
          id: violation.id,
          impact: violation.impact,
          help: violation.help,
          nodes: violation.nodes.map((node) => node.target.join(' ')),
        })),
      },
      null,
      2,
    ),
  );
  const blocking = results.violations.filter(
    (violation) => violation.impact === 'serious' || violation.impact === 'critical',
  );
  expect(
    blocking.map(
      (violation) =>
        `${violation.id}: ${violation.help} (${violation.nodes.map((node) => node.target.join(' ')).join(', ')})`,
    ),
  ).toEqual([]);
}

/** Presses Tab until `target` has focus (keyboard only, no clicks). */
export async function tabTo(page: Page, target: Locator, { max = 60, shift = false } = {}): Promise<void> {
  for (let index = 0; index < max; index++) {
    if (await target.evaluate((element) => element === document.activeElement).catch(() => false)) return;
    await page.keyboard.press(shift ? 'Shift+Tab' : 'Tab');
  }
  await expect(target).toBeFocused();
}

interface Fixtures {
  adminApi: AdminApi;
  pageProblems: string[];
}

interface WorkerFixtures {
  adminToken: string;
}

export const test = base.extend<Fixtures, WorkerFixtures>({
  adminToken: [
    async ({ playwright }, use) => {
      const request = await playwright.request.newContext();
      const body = await gql<{ login: { accessToken: string } }>(
        request,
        `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }`,
        { e: admin.email, p: admin.password },
      );
      await request.dispose();
      if (!body.data) throw new Error(`admin login failed: ${JSON.stringify(body.errors)}`);
      await use(body.data.login.accessToken);
    },
    { scope: 'worker' },
  ],
  adminApi: async ({ playwright, adminToken }, use) => {
    const request = await playwright.request.newContext();
    await use(new AdminApi(request, adminToken));
    await request.dispose();
  },
  pageProblems: [
    async ({ page }, use) => {
      const problems: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text())) {
          problems.push(`console: ${message.text()}`);
        }
      });
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
      await use(problems);
      expect(problems, 'CSP violations or uncaught errors in the page').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

/** Registers a new account from the page's context (so the browser is signed in by cookie). */
export async function signUp(page: Page, name = 'Test Shopper'): Promise<string> {
  const email = newEmail();
  const body = await gql(page.request, `mutation($i: RegisterInput!) { register(input: $i) { user { id } } }`, {
    i: { email, password: PASSWORD, name },
  });
  if (!body.data) throw new Error(`register failed: ${JSON.stringify(body.errors)}`);
  return email;
}

/** Puts a book in the cart of the page's session (guest or signed in). */
export async function addToCart(page: Page, bookId: string, quantity = 1): Promise<void> {
  const body = await gql(
    page.request,
    `mutation($id: ID!, $q: Int!) { addToCart(bookId: $id, quantity: $q) { totalQuantity } }`,
    {
      id: bookId,
      q: quantity,
    },
  );
  if (!body.data) throw new Error(`addToCart failed: ${JSON.stringify(body.errors)}`);
}

/** Places an order through the API as the page's user, with the approved sandbox card. */
export async function placeOrderApi(page: Page): Promise<string> {
  const body = await gql<{ placeOrder: { id: string } }>(
    page.request,
    `mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id status } }`,
    {
      i: {
        idempotencyKey: `e2e-${Date.now()}-${unique()}`,
        shippingAddress: { line1: '1 Test Street', city: 'Springfield', postalCode: '12345', country: 'US' },
        payment: { card: { number: '4242424242424242', expMonth: 12, expYear: 2030, cvc: '123' } },
      },
    },
  );
  if (!body.data) throw new Error(`placeOrder failed: ${JSON.stringify(body.errors)}`);
  return body.data.placeOrder.id;
}

export async function fillAddress(form: Locator): Promise<void> {
  await form.getByLabel('Address line 1').fill('221B Baker Street');
  await form.getByLabel('City').fill('London');
  await form.getByLabel('Postal code').fill('NW1 6XE');
  await form.getByLabel('Country').fill('GB');
}

export async function fillCard(
  form: Locator,
  number: string,
  { month = '12', year = '2030', cvc = '123' } = {},
): Promise<void> {
  await form.getByLabel('Card number').fill(number);
  await form.getByLabel('Expiry month (MM)').fill(month);
  await form.getByLabel('Expiry year (YYYY)').fill(year);
  await form.getByLabel('Security code (CVC)').fill(cvc);
}

export function shortId(id: string): string {
  return id.slice(-8).toUpperCase();
}
