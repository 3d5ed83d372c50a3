// Codegen drift: regenerates src/gql from ../bff/schema.graphql and the documents in src/,
// and fails when the result differs from the files as they were (committed files must be
// regenerated with `npm run codegen` and committed with the change that needs them).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const generated = join(web, 'src', 'gql');

const snapshot = () =>
  Object.fromEntries(
    existsSync(generated)
      ? readdirSync(generated).map((name) => [name, readFileSync(join(generated, name), 'utf8')])
      : [],
  );

const before = snapshot();
execFileSync(
  process.execPath,
  [join(web, 'node_modules', '@graphql-codegen', 'cli', 'cjs', 'bin.js'), '--config', 'codegen.ts', '--silent'],
  {
    cwd: web,
    stdio: 'inherit',
  },
);
const after = snapshot();
const changed = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter(
  (name) => before[name] !== after[name],
);
if (changed.length) {
  console.error(`codegen drift: src/gql differs from what codegen writes now: ${changed.join(', ')}`);
  // Where the files are tracked, show the diff too.
  spawnSync('git', ['--no-pager', 'diff', '--stat', '--', 'src/gql'], { cwd: web, stdio: 'inherit' });
  console.error('run `npm --prefix web run codegen` and commit src/gql');
  process.exit(1);
}
console.log(`codegen: src/gql is up to date (${Object.keys(after).length} files)`);
