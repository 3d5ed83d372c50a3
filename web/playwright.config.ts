import { defineConfig } from '@playwright/test';
import { ports } from './e2e/server.mjs';

const bff = `http://127.0.0.1:${ports().bff}`;
const baseURL =
  process.env.E2E_FRONTEND === 'preview' ? `http://127.0.0.1:${process.env.E2E_PREVIEW_PORT ?? 28390}` : bff;
process.env.E2E_BFF_URL = bff;

/** Debian's Chromium, started as this machine needs it (no sandbox as root, no outside network). */
export const chromiumLaunch = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
};

export default defineConfig({
  testDir: 'e2e',
  globalSetup: './e2e/global-setup.ts',
  // Two cores: two browsers at most; each test makes its own books and users.
  workers: Number(process.env.E2E_WORKERS ?? 2),
  fullyParallel: true,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  forbidOnly: Boolean(process.env.CI),
  reporter: [['list'], ['json', { outputFile: 'test-results/results.json' }]],
  outputDir: 'test-results/artifacts',
  use: {
    baseURL,
    browserName: 'chromium',
    launchOptions: chromiumLaunch,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
});
