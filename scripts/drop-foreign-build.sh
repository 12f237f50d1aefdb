#!/usr/bin/env bash
# A checkout copied together with its build folders keeps CMake caches that name the original
# source folder, and CMake then refuses to configure. Each build folder given whose cache belongs
# to another source folder than the current directory is removed, so it is configured afresh.
#   scripts/drop-foreign-build.sh build/native build/wasm
set -euo pipefail
here=$(pwd -P)
for dir in "$@"; do
  cache="$dir/CMakeCache.txt"
  [ -f "$cache" ] || continue
  home=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$cache")
  if [ "$home" != "$here" ]; then
    echo "build: $dir was configured for ${home:-another folder}; starting it afresh"
    rm -rf "$dir"
  fi
done
