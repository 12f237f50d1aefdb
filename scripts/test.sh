#!/usr/bin/env bash
# Runs every test: format and lint checks first (scripts/lint.sh), the engine natively and as wasm
# under node (Catch2 via ctest), then the package under node:test (boundary, providers, packed
# package in Node and in headless Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== lint"
bash scripts/lint.sh
echo "== engine, native (ctest)"
ctest --test-dir build/native --output-on-failure
echo "== engine, wasm under node (ctest)"
ctest --test-dir build/wasm --output-on-failure
echo "== package (node --test)"
node --test tests/js/*.test.mjs
