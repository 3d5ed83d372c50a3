// Size budgets over web/dist, gzipped (level 9): the initial JS (the entry index.html loads
// and everything it imports statically), all JS, and all CSS. Prints each figure; exits 1
// when one is over. Node only (zlib), no dependencies.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const dist = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const BUDGETS = {
  initialJs: Number(process.env.BUDGET_INITIAL_JS ?? 50 * 1024),
  allJs: Number(process.env.BUDGET_ALL_JS ?? 80 * 1024),
  css: Number(process.env.BUDGET_CSS ?? 15 * 1024),
};

const gz = (file) => gzipSync(readFileSync(file), { level: 9 }).length;
const kb = (bytes) => `${(bytes / 1024).toFixed(1)} kB`;

function files(directory) {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

const html = readFileSync(join(dist, 'index.html'), 'utf8');
const entries = [...html.matchAll(/<script[^>]*type="module"[^>]*src="([^"]+)"/g)].map((match) => match[1]);
const preloads = [...html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g)].map((match) => match[1]);
if (entries.length === 0) {
  console.error('budgets: no module script in dist/index.html (run `npm run build` first)');
  process.exit(1);
}
if (/<script(?![^>]*\bsrc=)[^>]*>/.test(html) || /<style[\s>]/.test(html) || /\sstyle="/.test(html)) {
  console.error('budgets: dist/index.html has an inline script or style (the CSP forbids them)');
  process.exit(1);
}

// The entry and its static imports (`import … from "./x.js"`, `import "./x.js"`), transitively;
// dynamic `import("./x.js")` chunks load later and count only towards all JS.
const initial = new Set();
const visit = (file) => {
  if (initial.has(file)) return;
  initial.add(file);
  const code = readFileSync(file, 'utf8');
  for (const match of code.matchAll(/(?:\bfrom|\bimport)\s*["']([^"']+\.js)["']/g)) {
    visit(resolve(dirname(file), match[1]));
  }
};
for (const src of [...entries, ...preloads]) visit(join(dist, src.replace(/^\//, '')));

const all = files(dist);
const js = all.filter((file) => file.endsWith('.js'));
const css = all.filter((file) => file.endsWith('.css'));
const sum = (list) => list.reduce((total, file) => total + gz(file), 0);
const figures = {
  initialJs: sum([...initial]),
  allJs: sum(js),
  css: sum(css),
};

console.log('file                                   raw        gzip');
for (const file of [...js, ...css].sort()) {
  const name = file.slice(dist.length + 1);
  const mark = initial.has(file) ? ' (initial)' : '';
  console.log(`${name.padEnd(36)} ${kb(statSync(file).size).padStart(9)} ${kb(gz(file)).padStart(9)}${mark}`);
}
let failed = false;
const line = (label, key) => {
  const over = figures[key] > BUDGETS[key];
  failed ||= over;
  console.log(
    `${label.padEnd(22)} ${kb(figures[key]).padStart(9)} gzipped (budget ${kb(BUDGETS[key])}) ${over ? 'OVER' : 'ok'}`,
  );
};
line('initial JS', 'initialJs');
line('all JS', 'allJs');
line('CSS', 'css');
process.exit(failed ? 1 : 0);
