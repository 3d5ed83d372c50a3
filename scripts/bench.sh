#!/usr/bin/env bash
# The benchmark table of issue #11 in one run: every measure next to its baseline from the
# same run (this machine is shared and noisy, so only ratios mean something), on SQLite and
# on PostgreSQL. Prints the table and writes it as JSON.
#
#   bash scripts/bench.sh [out.json]        (default target/bench/bench-<time>.json)
#
# Needs Redis, PostgreSQL (for the second half) and redis-benchmark, as the tests do.
# BENCH_SECONDS (per measure, default 10), BENCH_BACKENDS ("sqlite postgres") and
# BENCH_BOOKS (catalog size, default 100000) shorten or change it; BENCH_BUILD=0 skips the
# release build.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/bench/bench-$(date +%Y%m%d-%H%M%S).json}
mkdir -p "$(dirname "$out")"
lines="${out%.json}.jsonl"
: >"$lines"
export BENCH_JSON="$PWD/$lines"
export BENCH_SECONDS=${BENCH_SECONDS:-10}

# Issue #23's baselines, which isolate our overhead: inventory Reserve+Commit against the
# same SQL and transactions issued directly, cart AddItem against a bare tonic server
# running the same Lua script, and the full checkout's p50/p99 and memory at 10 shoppers.
overhead="inventory_overhead_bench cart_overhead_bench checkout_bench"

# One invocation, so features resolve once and the examples share the binary's crates.
# BENCH_BUILD=0 uses what target/release already holds.
if [ "${BENCH_BUILD:-1}" != 0 ]; then
  # shellcheck disable=SC2046
  cargo build --release --quiet -p bookstore --bin bookstore -p bookstore-tests \
    --example system_bench --example inventory_bench --example cart_bench --example catalog_bench \
    $(printf -- '--example %s ' $overhead)
fi
for backend in ${BENCH_BACKENDS:-sqlite postgres}; do
  export BOOKSTORE_TEST_DATABASE=$backend
  for example in system_bench inventory_bench cart_bench catalog_bench $overhead; do
    echo "::: $example on $backend"
    BOOKSTORE_BIN="$PWD/target/release/bookstore" "target/release/examples/$example"
  done
done

python3 - "$lines" "$out" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
json.dump(rows, open(sys.argv[2], "w"), indent=2)
def fmt(value):
    return "-" if value is None else (f"{value:.3f}" if abs(value) < 10 else f"{value:.0f}")
print()
print(f"| backend | measure | value | baseline | ratio | target | met |")
print(f"|---|---|---|---|---|---|---|")
for row in rows:
    met = {True: "yes", False: "**no**", None: "-"}[row["pass"]]
    print(f"| {row['backend']} | {row['measure']} | {fmt(row['value'])} {row['unit']} | {fmt(row['baseline'])} | "
          f"{fmt(row['ratio'])} | {row['target']} | {met} |")
print(f"\nwritten to {sys.argv[2]}")
PY
