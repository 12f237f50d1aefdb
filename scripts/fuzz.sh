#!/usr/bin/env bash
# Runs every libFuzzer target of tests/fuzz for a fixed time each (default 4 s; `npm run fuzz` runs
# 300 s). Needs the sanitizer build (build/sanitize, made by scripts/build.sh). Each run starts from
# the regression inputs in tests/fuzz/corpus/<target>/ (read only) plus what earlier runs found in
# build/fuzz-corpus/<target>/. A crash stops the script with the input's path; fix it, then copy
# the input into tests/fuzz/corpus/<target>/ so it is replayed on every test run.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-4}"
targets=(fuzz_json_text fuzz_inbox fuzz_schema fuzz_yaml fuzz_prompt)
for target in "${targets[@]}"; do
  binary="build/sanitize/$target"
  if [ ! -x "$binary" ]; then
    echo "fuzz: $binary is missing (run scripts/build.sh)" >&2
    exit 1
  fi
  work="build/fuzz-corpus/$target"
  artifacts="build/fuzz-artifacts/$target"
  mkdir -p "$work" "$artifacts" "tests/fuzz/corpus/$target"
  dict=()
  [ -f "tests/fuzz/$target.dict" ] && dict=(-dict="tests/fuzz/$target.dict")
  if ! "$binary" "${dict[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix="$artifacts/" -print_final_stats=1 "$work" "tests/fuzz/corpus/$target" >"$artifacts/log.txt" 2>&1; then
    tail -n 40 "$artifacts/log.txt" >&2
    echo "fuzz: $target found a failure; the input is in $artifacts/" >&2
    exit 1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$artifacts/log.txt" | grep -o '[0-9]*$' || echo '?')
  echo "fuzz: $target ok ($runs inputs in ${seconds} s)"
done
