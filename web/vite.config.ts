import { babelOptimizerPlugin } from '@graphql-codegen/client-preset';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

// The BFF the dev server and `vite preview` proxy to (same origin for the browser, so the
// session cookies, SameSite=Strict, just work).
const bff = process.env.BOOKSTORE_BFF_URL ?? 'http://127.0.0.1:8080';
const proxy = {
  '/graphql/ws': { target: bff, ws: true },
  '/graphql': { target: bff },
};

// What the BFF sends with the built shop; `vite preview` sends it too, so a violation shows
// up before the Rust side serves the files.
const CSP =
  "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
  "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

export default defineConfig({
  plugins: [
    preact({
      // graphql(`…`) calls become imports of the generated documents, so the lookup table of
      // every document (src/gql/gql.ts) stays out of the bundle.
      babel: { plugins: [[babelOptimizerPlugin, { artifactDirectory: './src/gql', gqlTagName: 'graphql' }]] },
    }),
  ],
  server: { proxy },
  preview: { proxy, headers: { 'content-security-policy': CSP } },
  build: {
    target: 'es2022',
    // Nothing inline: the polyfill would be a script of its own, and es2022 browsers have it.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
});
