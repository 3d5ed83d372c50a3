// Starts `bookstore up` for the browser suite and the LCP script: a fresh data dir, its own
// ports and Redis key prefix, a known bootstrap admin; waits for /readyz and for books.
// Plain ESM so node scripts and Playwright load it alike.
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const webRoot = resolve(here, '..');

/** Ports: BFF from E2E_BFF_PORT (28380), gRPC E2E_GRPC_BASE..+4 (21151..21155). */
export function ports() {
  const bff = Number(process.env.E2E_BFF_PORT ?? 28380);
  const grpc = Number(process.env.E2E_GRPC_BASE ?? 21151);
  return { bff, user: grpc, catalog: grpc + 1, cart: grpc + 2, order: grpc + 3, inventory: grpc + 4 };
}

export const admin = {
  email: process.env.E2E_ADMIN_EMAIL ?? 'e2e-admin@example.com',
  password: process.env.E2E_ADMIN_PASSWORD ?? 'e2e-admin-Password-4711',
};

function portFree(port) {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}

async function waitFor(what, check, timeoutMs, child) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null)
      throw new Error(`bookstore exited (${child.exitCode}) while waiting for ${what}`);
    try {
      if (await check()) return;
    } catch (error) {
      last = String(error);
    }
    await new Promise((done) => setTimeout(done, 250));
  }
  throw new Error(`timed out waiting for ${what} ${last}`);
}

export async function graphql(baseURL, query, variables = {}, headers = {}) {
  const response = await fetch(`${baseURL}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return response.json();
}

/**
 * Starts the mesh; resolves to { baseURL, stop() }. BOOKSTORE_BIN names the binary
 * (default ../target/debug/bookstore from web/). The log goes to <dataDir>/up.log and is
 * printed when start-up fails.
 */
export async function startBookstore({ log = false } = {}) {
  const bin = resolve(webRoot, process.env.BOOKSTORE_BIN ?? '../target/debug/bookstore');
  const p = ports();
  for (const [name, port] of Object.entries(p)) {
    if (!(await portFree(port))) {
      throw new Error(`port ${port} (${name}) is taken: set E2E_BFF_PORT / E2E_GRPC_BASE to free ones`);
    }
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'bookstore-web-'));
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('BOOKSTORE_')));
  Object.assign(env, {
    BOOKSTORE_BFF__LISTEN: `127.0.0.1:${p.bff}`,
    BOOKSTORE_USER__LISTEN: `127.0.0.1:${p.user}`,
    BOOKSTORE_CATALOG__LISTEN: `127.0.0.1:${p.catalog}`,
    BOOKSTORE_CART__LISTEN: `127.0.0.1:${p.cart}`,
    BOOKSTORE_ORDER__LISTEN: `127.0.0.1:${p.order}`,
    BOOKSTORE_INVENTORY__LISTEN: `127.0.0.1:${p.inventory}`,
    BOOKSTORE_REDIS_KEY_PREFIX: `web-e2e-${process.pid}-${Date.now()}`,
    BOOKSTORE_BOOTSTRAP_ADMIN_EMAIL: admin.email,
    BOOKSTORE_BOOTSTRAP_ADMIN_PASSWORD: admin.password,
  });
  const logPath = join(dataDir, 'up.log');
  const out = openSync(logPath, 'a');
  const child = spawn(bin, ['up', '--data-dir', join(dataDir, 'data')], {
    env,
    stdio: ['ignore', log ? 'inherit' : out, log ? 'inherit' : out],
  });
  const baseURL = `http://127.0.0.1:${p.bff}`;
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitFor('/readyz', async () => (await fetch(`${baseURL}/readyz`)).ok, 60_000, child);
    await waitFor(
      'seeded books',
      async () => (await graphql(baseURL, '{ books(first: 1) { totalCount } }')).data?.books?.totalCount > 0,
      180_000,
      child,
    );
  } catch (error) {
    const { readFileSync } = await import('node:fs');
    console.error(readFileSync(logPath, 'utf8').split('\n').slice(-40).join('\n'));
    await stop();
    throw error;
  }
  return { baseURL, dataDir, stop };
}
