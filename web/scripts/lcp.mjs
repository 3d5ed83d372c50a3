// Largest Contentful Paint of `/` and `/books/:id` as served by `bookstore up` (the built
// shop, seeded books), cold cache, unthrottled and with CDP throttling (150 ms latency,
// 1.6 Mbit/s down, 750 kbit/s up, CPU 4x slower). Median of LCP_RUNS loads (default 5).
// Budgets: 500 ms unthrottled, 2000 ms throttled. Prints the figures; exits 1 when over.
// LCP_BASE_URL points it at a running stack instead of starting one.
import { chromium } from '@playwright/test';
import { graphql, startBookstore } from '../e2e/server.mjs';

const RUNS = Number(process.env.LCP_RUNS ?? 5);
const BUDGET = {
  unthrottled: Number(process.env.LCP_BUDGET_MS ?? 500),
  throttled: Number(process.env.LCP_BUDGET_THROTTLED_MS ?? 2000),
};
const THROTTLE = {
  network: {
    offline: false,
    latency: 150,
    downloadThroughput: (1.6 * 1000 * 1000) / 8,
    uploadThroughput: (750 * 1000) / 8,
  },
  cpu: 4,
};
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

async function measure(browser, url, ready, throttled) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  if (throttled) {
    await cdp.send('Network.emulateNetworkConditions', THROTTLE.network);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: THROTTLE.cpu });
  }
  await page.goto(url, { waitUntil: 'load' });
  await page.locator(ready).first().waitFor({ state: 'visible', timeout: 30_000 });
  // The last LCP candidate, once the page's content is up and no new candidate came for a while.
  const entry = await page.evaluate(
    () =>
      new Promise((resolve) => {
        const entries = [];
        const done = () => {
          const last = entries[entries.length - 1];
          const element = last?.element;
          const name = element
            ? `${element.tagName.toLowerCase()}${element.className ? `.${String(element.className).split(' ')[0]}` : ''}`
            : '?';
          resolve({
            time: last?.startTime ?? Number.NaN,
            element: `${name} "${(element?.textContent ?? '').trim().slice(0, 24)}" ${last?.size ?? 0}px²`,
          });
        };
        // Settled: 400 ms without a new candidate (at most 5 s).
        const cap = setTimeout(done, 5000);
        let quiet = setTimeout(() => {}, 0);
        new PerformanceObserver((list) => {
          entries.push(...list.getEntries());
          clearTimeout(quiet);
          quiet = setTimeout(() => {
            clearTimeout(cap);
            done();
          }, 400);
        }).observe({ type: 'largest-contentful-paint', buffered: true });
      }),
  );
  await context.close();
  return entry;
}

const started = Date.now();
const stack = process.env.LCP_BASE_URL
  ? { baseURL: process.env.LCP_BASE_URL, stop: async () => {} }
  : await startBookstore();
let failed = false;
try {
  const { baseURL } = stack;
  const page = await (await fetch(`${baseURL}/`, { headers: { accept: 'text/html' } })).text();
  if (!page.includes('id="app"')) throw new Error(`${baseURL}/ does not serve the built shop`);
  // `up` seeds its books in the background (some 20 s in a debug build): measure a quiet stack.
  const quietSince = { at: Date.now(), value: '' };
  const deadline = Date.now() + 120_000;
  while (Date.now() - quietSince.at < 3000 && Date.now() < deadline) {
    const counts = await graphql(
      baseURL,
      '{ all: books(first: 0) { totalCount } stocked: books(first: 0, filter: { inStock: true }) { totalCount } }',
    );
    const value = JSON.stringify(counts.data);
    if (value !== quietSince.value) Object.assign(quietSince, { at: Date.now(), value });
    await new Promise((done) => setTimeout(done, 500));
  }
  console.log(`catalogue settled: ${quietSince.value} (${((Date.now() - started) / 1000).toFixed(1)} s after start)`);
  const books = await graphql(baseURL, '{ books(first: 1, sort: TITLE) { edges { node { id title } } } }');
  const book = books.data.books.edges[0].node;
  const targets = [
    { name: '/', url: `${baseURL}/`, ready: '.book-grid li' },
    { name: '/books/:id', url: `${baseURL}/books/${book.id}`, ready: '.book-info h1' },
  ];
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ARGS,
  });
  // One cold load first: the stack's first answers warm its caches.
  await measure(browser, targets[0].url, targets[0].ready, false);
  await measure(browser, targets[1].url, targets[1].ready, false);
  console.log(`LCP, median of ${RUNS} cold loads (book: "${book.title}")`);
  console.log('page          condition      median     runs (ms)                            LCP element');
  for (const target of targets) {
    for (const throttled of [false, true]) {
      const entries = [];
      for (let run = 0; run < RUNS; run++) entries.push(await measure(browser, target.url, target.ready, throttled));
      const value = median(entries.map((entry) => entry.time));
      const budget = throttled ? BUDGET.throttled : BUDGET.unthrottled;
      const over = value > budget;
      failed ||= over;
      console.log(
        `${target.name.padEnd(13)} ${(throttled ? 'throttled' : 'unthrottled').padEnd(13)} ${`${value.toFixed(0)} ms`.padStart(8)}  ${entries
          .map((entry) => entry.time.toFixed(0))
          .join(' ')
          .padEnd(36)} ${entries[entries.length - 1].element}  (budget ${budget} ms) ${over ? 'OVER' : 'ok'}`,
      );
    }
  }
  await browser.close();
} finally {
  await stack.stop();
}
console.log(`lcp: ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(failed ? 1 : 0);
