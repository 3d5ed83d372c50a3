#!/usr/bin/env bash
# CI for the storefront (web/): what must hold before a change to the shop lands.
# Run from anywhere; BOOKSTORE_BIN names the debug binary (default target/debug/bookstore,
# built by the caller), Redis must answer on 127.0.0.1:6379. Installs Debian's Chromium when
# it is missing (never a downloaded browser), then: npm ci, codegen drift, typecheck, build,
# size budgets, the Playwright suite against `bookstore up` serving the built shop (with axe
# checks), and LCP. Prints each step's time and `browser suite: N passed, N failed`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export BOOKSTORE_BIN="${BOOKSTORE_BIN:-$root/target/debug/bookstore}"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export CI="${CI:-true}"
started=$(date +%s)

step() {
  local name=$1
  shift
  local begun
  begun=$(date +%s)
  echo "::: web: $name"
  "$@"
  echo "::: web: $name took $(($(date +%s) - begun)) s"
}

ensure_chromium() {
  if [ -x /usr/bin/chromium ]; then
    /usr/bin/chromium --version 2>/dev/null || true
    return
  fi
  echo "installing Debian's chromium"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-liberation >/dev/null
}

check_inputs() {
  node --version
  if [ ! -x "$BOOKSTORE_BIN" ]; then
    echo "BOOKSTORE_BIN=$BOOKSTORE_BIN is not an executable: build it first (cargo build)" >&2
    exit 1
  fi
}

browser_suite() {
  rm -rf web/test-results
  local status=0
  npm --prefix web run --silent test:e2e || status=$?
  node -e '
    const fs = require("fs");
    const file = "web/test-results/results.json";
    let passed = 0, failed = 0;
    if (fs.existsSync(file)) {
      const { stats } = JSON.parse(fs.readFileSync(file, "utf8"));
      passed = stats.expected;
      failed = stats.unexpected + stats.flaky;
    } else {
      failed = 1;
    }
    const dir = "web/test-results/axe";
    if (fs.existsSync(dir)) {
      console.log("axe (wcag2a, wcag2aa, wcag21aa, wcag22aa) violations by impact, nodes:");
      console.log("state                      critical serious moderate minor");
      for (const name of fs.readdirSync(dir).sort()) {
        const { state, counts } = JSON.parse(fs.readFileSync(`${dir}/${name}`, "utf8"));
        console.log(`${state.padEnd(26)} ${String(counts.critical).padStart(8)} ${String(counts.serious).padStart(7)} ${String(counts.moderate).padStart(8)} ${String(counts.minor).padStart(5)}`);
      }
    }
    console.log(`browser suite: ${passed} passed, ${failed} failed`);
    process.exit(failed > 0 ? 1 : 0);
  ' || status=1
  return "$status"
}

step "inputs" check_inputs
step "chromium" ensure_chromium
step "npm ci" npm ci --prefix web --no-audit --no-fund --loglevel=error
step "codegen drift" npm --prefix web run --silent codegen:check
step "typecheck" npm --prefix web run --silent typecheck
step "build" npm --prefix web run --silent build
step "budgets" npm --prefix web run --silent budgets
step "browser suite" browser_suite
step "lcp" npm --prefix web run --silent lcp
echo "::: web: all steps passed in $(($(date +%s) - started)) s"
