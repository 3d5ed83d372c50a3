// Starts `bookstore up` once for the whole suite (and, with E2E_FRONTEND=preview, a
// `vite preview` in front of it, for a binary that does not serve web/dist yet).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { FullConfig } from '@playwright/test';
import { startBookstore, webRoot } from './server.mjs';

export default async function globalSetup(_config: FullConfig) {
  const started = Date.now();
  const bookstore = await startBookstore();
  console.log(`bookstore up at ${bookstore.baseURL} (ready with books in ${Date.now() - started} ms)`);
  let preview: ReturnType<typeof spawn> | null = null;
  if (process.env.E2E_FRONTEND === 'preview') {
    const port = Number(process.env.E2E_PREVIEW_PORT ?? 28390);
    const vite = join(webRoot, 'node_modules', 'vite', 'bin', 'vite.js');
    preview = spawn(
      process.execPath,
      [vite, 'preview', '--port', String(port), '--strictPort', '--host', '127.0.0.1', '--bypass-lock'],
      {
        cwd: webRoot,
        env: { ...process.env, BOOKSTORE_BFF_URL: bookstore.baseURL },
        stdio: 'ignore',
      },
    );
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/`)).ok) break;
      } catch {
        // not yet
      }
      if (Date.now() > deadline || preview.exitCode !== null) {
        preview.kill('SIGTERM');
        await bookstore.stop();
        throw new Error(`vite preview did not start on port ${port}`);
      }
      await new Promise((done) => setTimeout(done, 200));
    }
  } else {
    const page = await fetch(`${bookstore.baseURL}/`, { headers: { accept: 'text/html' } });
    const html = await page.text();
    if (!page.ok || !html.includes('id="app"')) {
      await bookstore.stop();
      throw new Error(
        `the BFF does not serve the built shop at / (HTTP ${page.status}): run \`npm run build\`, use a binary that serves web/dist, or set E2E_FRONTEND=preview`,
      );
    }
  }
  return async () => {
    preview?.kill('SIGTERM');
    await bookstore.stop();
  };
}
