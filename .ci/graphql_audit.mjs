// Runs the graphql-http package's server audits (the GraphQL-over-HTTP spec) against a
// running BFF: `node .ci/graphql_audit.mjs http://127.0.0.1:28080/graphql`.
// Exits 1 when any audit fails (status "error"); warnings are printed, not fatal.
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
let failures = 0;
let warnings = 0;
for (const audit of serverAudits({ url, fetchFn: fetch })) {
  const result = await audit.fn();
  if (result.status === 'error') {
    failures += 1;
    console.log(`FAIL ${audit.id} ${audit.name}: ${result.reason}`);
  } else if (result.status === 'warn') {
    warnings += 1;
    console.log(`warn ${audit.id} ${audit.name}: ${result.reason}`);
  }
}
console.log(`graphql-http audits: ${failures} failing, ${warnings} warnings`);
process.exit(failures === 0 ? 0 : 1);
