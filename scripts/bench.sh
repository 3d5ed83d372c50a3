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
# CPU per catalogue page (page_bench): BENCH_PAGE_MODES ("cold warm": the BFF's catalogue
# cache off / on), BENCH_SCALING (0 skips the one-core vs two-core row), BENCH_BASELINE_BIN
# (an older `bookstore` measured beside this one in the same run), BENCH_CONCURRENCY.
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
    $(printf -- '--example %s ' $overhead) --example page_bench --example sqlite_read_bench
fi
for backend in ${BENCH_BACKENDS:-sqlite postgres}; do
  export BOOKSTORE_TEST_DATABASE=$backend
  for example in system_bench inventory_bench cart_bench catalog_bench $overhead; do
    echo "::: $example on $backend"
    BOOKSTORE_BIN="$PWD/target/release/bookstore" "target/release/examples/$example"
  done
done

# CPU per 20-book page with availability (issue #22): `bookstore up` alone, load from a
# one-thread client outside it, CPU from /proc/<pid>/stat; then pinned to one core and two.
for backend in ${BENCH_BACKENDS:-sqlite postgres}; do
  echo "::: page_bench on $backend"
  BOOKSTORE_TEST_DATABASE=$backend BOOKSTORE_BIN="$PWD/target/release/bookstore" \
    BENCH_PAGE_MODES="${BENCH_PAGE_MODES:-cold warm}" target/release/examples/page_bench
  if [ "$backend" = sqlite ]; then
    echo "::: sqlite_read_bench"
    BOOKSTORE_TEST_DATABASE=sqlite target/release/examples/sqlite_read_bench
  fi
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
