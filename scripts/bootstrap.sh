#!/usr/bin/env bash
# Installs what a bare Debian (bookworm) machine lacks to build and test lmthing, and does nothing
# when everything is already there. `npm start` and `npm test` run it first.
set -euo pipefail
cd "$(dirname "$0")/.."

# Toolchain and test dependencies (see docs/DEVELOPING.md for what each is for).
# clang and libclang-rt-14-dev: the ASan + UBSan build of the native suite and the libFuzzer targets.
# bsdutils (essential, so normally there): script(1), which runs the CLI on a pseudo-terminal in its test.
# binaryen (emscripten depends on it too): wasm-split, which splits the engine in two (scripts/split-wasm.mjs).
packages=(cmake make g++ clang-format emscripten binaryen nlohmann-json3-dev catch2 libhnswlib-dev json-schema-test-suite chromium redis-server clang libclang-rt-14-dev bsdutils)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "bootstrap: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm dependencies, only when the lockfile is newer than the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "bootstrap: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
