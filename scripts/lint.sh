#!/usr/bin/env bash
# Format and lint checks, run by scripts/test.sh: C++ against .clang-format (clang-format
# --dry-run), TypeScript with type-aware eslint rules (eslint.config.mjs). Fix with
# `clang-format -i <files>` and `npx eslint --fix js`.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== clang-format"
git ls-files 'src/*.cpp' 'src/*.hpp' 'tests/native/*.cpp' 'tests/native/*.hpp' 'bindings/*.cpp' 'bench/*.cpp' |
  xargs clang-format --dry-run --Werror
echo "== eslint"
npx --no-install eslint js
