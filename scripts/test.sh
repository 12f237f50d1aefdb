#!/usr/bin/env bash
# Runs every test: format and lint checks first (scripts/lint.sh), the engine natively under
# ASan + UBSan and as wasm under node (Catch2 via ctest), a short fixed-seed fuzzing run of the
# boundary parsers (FUZZ_RUNS inputs per target; `npm run fuzz` explores for 300 s each), then the
# package under node:test (boundary, providers, packed package in Node and in headless Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
# Test files run side by side, one per core (the files are independent: free ports, own temp dirs).
jobs=$(nproc 2>/dev/null || echo 2)
node_jobs=()
if node --help | grep -- --test-concurrency >/dev/null; then node_jobs=(--test-concurrency="$jobs"); fi

echo "== lint"
bash scripts/lint.sh
echo "== engine, native under ASan + UBSan (ctest)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --test-dir build/sanitize --output-on-failure --parallel "$jobs"
echo "== engine, wasm under node (ctest)"
ctest --test-dir build/wasm --output-on-failure --parallel "$jobs"
echo "== fuzzing the boundary parsers (tests/fuzz, ${FUZZ_RUNS:-4000} inputs per target from a fixed seed)"
bash scripts/fuzz.sh --runs "${FUZZ_RUNS:-4000}"
echo "== package (node --test)"
node --test "${node_jobs[@]}" tests/js/*.test.mjs
