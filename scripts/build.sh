#!/usr/bin/env bash
# Builds everything `npm test` and the package need: the native engine and its Catch2 tests, the
# wasm engine (module + Catch2 suite) with Emscripten, and the TypeScript package into dist/. The
# native suite is built with clang++ under ASan + UBSan, together with the libFuzzer targets
# (build/sanitize), so every `npm test` runs it sanitized; the plain optimised native build
# (build/native, g++) is only for benchmarks (bench/lib.mjs builds it on demand).
# Incremental: re-running after a small change rebuilds only what changed.
#
#   scripts/build.sh             everything
#   scripts/build.sh --package   only what dist/ needs (the two wasm glues and TypeScript), for
#                                `npm run demo` (web-demo/prepare.mjs)
set -euo pipefail
cd "$(dirname "$0")/.."

package_only=false
[ "${1:-}" = "--package" ] && package_only=true
jobs=$(nproc 2>/dev/null || echo 2)
export NODE_PATH=/usr/share/nodejs   # Debian's emscripten needs acorn from there

echo "== tokenizer rank files (dist/tokenizers, from js-tiktoken)"
node scripts/gen-bpe-ranks.mjs dist/tokenizers

bash scripts/drop-foreign-build.sh build/sanitize build/wasm

if ! $package_only; then
  echo "== native build under ASan + UBSan (clang++), with the libFuzzer targets"
  # -O0: half the compile time of -O1 (7.4 vs 16.8 CPU s for src/agent/agent_loop.cpp), and this
  # build is the slowest part of `npm test`.
  cmake -S . -B build/sanitize -DCMAKE_CXX_COMPILER=clang++ -DLMTHING_SANITIZE=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O0 -g1" >/dev/null
  cmake --build build/sanitize -j"$jobs" --target sanitize_suite
fi

echo "== wasm build (Emscripten $(em++ --version | head -1 | sed 's/.* \([0-9.]*\) .*/\1/'))"
emcmake cmake -S . -B build/wasm -DCMAKE_BUILD_TYPE=Release >/dev/null
# Emscripten 3.1.6's JS optimizer (acorn-optimizer) has been seen failing once in a while on a link
# that succeeds when repeated; one retry relinks only what failed.
wasm_target=wasm_suite   # the two glues and the Catch2 suite (bindings/wasm.cmake)
$package_only && wasm_target=wasm_package
cmake --build build/wasm -j"$jobs" --target "$wasm_target" ||
  { echo "wasm build failed; retrying once"; cmake --build build/wasm -j1 --target "$wasm_target"; }

# One .wasm serves both glues; the two links must agree byte for byte.
if ! cmp -s build/wasm/lmthing_core_node.wasm build/wasm/lmthing_core_web.wasm; then
  echo "error: the Node and browser links produced different .wasm files" >&2
  exit 1
fi
mkdir -p dist/wasm
# The module is split into dist/wasm/lmthing_core.wasm and lmthing_core.deferred.wasm once dist/node.js
# exists (below): which functions go where is measured by running the package.
rm -f dist/wasm/lmthing_core.wasm
node scripts/node-glue.mjs build/wasm/lmthing_core_node.js dist/wasm/lmthing_core.node.mjs
rm -f dist/wasm/lmthing_core.cjs   # the CommonJS glue shipped before 2026-12-04
cp build/wasm/lmthing_core_web.js dist/wasm/lmthing_core.mjs
# Bundlers follow `new URL(..., import.meta.url)`; the browser glue must name no file of its own.
if grep -q 'import\.meta' dist/wasm/lmthing_core.mjs; then
  echo "error: dist/wasm/lmthing_core.mjs refers to import.meta (link it with -sUSE_ES6_IMPORT_META=0)" >&2
  exit 1
fi
# `import wasmUrl from 'lmthing/wasm'` (a bundler's file/url loader) is typed as a URL string.
printf '/** The URL of lmthing_core.wasm, as a bundler emits it (docs/bundlers.md). */\ndeclare const wasmUrl: string;\nexport default wasmUrl;\n' >dist/wasm/url.d.ts
printf '/** The URL of lmthing_core.deferred.wasm, as a bundler emits it (docs/bundlers.md). */\ndeclare const deferredWasmUrl: string;\nexport default deferredWasmUrl;\n' >dist/wasm/deferred-url.d.ts


echo "== TypeScript"
npx --no-install tsc -p tsconfig.json
# The Node entry as one file: importing ~100 ES modules one by one took ≈ 85 ms of a cold start,
# one bundle ≈ 33 ms (bench/README.md, "Browser cold start and shipped size"). The wasm glue stays
# a file of its own (node.ts imports it while the wasm compiles); packages stay imports. The other
# files of dist/ stay as tsc wrote them: the browser entry goes through the app's bundler, and
# dist/cli.js imports ./node.js, so a program that starts from either entry has one copy of each
# module. tsc re-emits every file on each build, so the bundle is always made from fresh output.
npx --no-install esbuild dist/node.js --bundle --platform=node --format=esm --target=es2022 \
  --packages=external '--external:./wasm/*' --outfile=dist/node.js --allow-overwrite --log-level=warning
# Node decodes and parses a file with any non-ASCII character as two-byte text, ≈ 2 ms more of the
# import. esbuild escapes strings, regexes and names; the comments it keeps are escaped here.
node -e 'const fs = require("fs"); const f = "dist/node.js";
  fs.writeFileSync(f, fs.readFileSync(f, "utf8").replace(/[^\x00-\x7f]/gu, (c) => `\\u{${c.codePointAt(0).toString(16)}}`));'
chmod +x dist/cli.js

echo "== wasm split (what a first request runs, and the rest)"
node scripts/split-wasm.mjs build/wasm/lmthing_core_node.wasm dist/wasm
echo "build ok: dist/ ($(du -sh dist | cut -f1))"
