#!/usr/bin/env bash
# Runs every test: format and lint checks first (scripts/lint.sh), the engine natively and as wasm
# under node (Catch2 via ctest), then the package
# under node:test (boundary, providers, packed package in Node and in headless Chromium). With
# LMTHING_SANITIZE=1 (after `LMTHING_SANITIZE=1 scripts/build.sh`) also the native suite under
# ASan + UBSan and a short fuzzing run of the boundary parsers (`npm run test:sanitize`).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== lint"
bash scripts/lint.sh
echo "== engine, native (ctest)"
ctest --test-dir build/native --output-on-failure
echo "== engine, wasm under node (ctest)"
ctest --test-dir build/wasm --output-on-failure
if [ "${LMTHING_SANITIZE:-0}" = 1 ]; then
  echo "== engine, native under ASan + UBSan (ctest)"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --test-dir build/sanitize --output-on-failure
  echo "== fuzzing the boundary parsers (tests/fuzz, ${FUZZ_SECONDS:-4} s per target)"
  bash scripts/fuzz.sh "${FUZZ_SECONDS:-4}"
fi
echo "== package (node --test)"
node --test tests/js/*.test.mjs
