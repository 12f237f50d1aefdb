#!/usr/bin/env bash
# Runs every libFuzzer target of tests/fuzz. `scripts/fuzz.sh SECONDS` explores for that long per
# target (`npm run fuzz`: 300 s); `scripts/fuzz.sh --runs N` runs N inputs per target from a fixed
# seed, which is what `npm test` does: the same inputs on every machine, so a CI failure is a
# regression that reproduces, never a new find by chance. Needs the sanitizer build
# (build/sanitize, made by scripts/build.sh). Each run starts from the regression inputs in
# tests/fuzz/corpus/<target>/ (read only) plus what earlier runs found in
# build/fuzz-corpus/<target>/. A crash stops the script with the input's path; fix it, then copy
# the input into tests/fuzz/corpus/<target>/ so it is replayed on every test run.
set -euo pipefail
cd "$(dirname "$0")/.."

budget=(-max_total_time="${1:-4}")
label="${1:-4} s"
if [ "${1:-}" = "--runs" ]; then
  # Without libFuzzer's entropic schedule: its bookkeeping was two thirds of fuzz_inbox's time, for
  # the same coverage over this many inputs.
  budget=(-runs="$2" -seed=1 -entropic=0)
  label="$2 runs, seed 1"
fi
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
  if ! "$binary" "${dict[@]}" "${budget[@]}" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix="$artifacts/" -print_final_stats=1 "$work" "tests/fuzz/corpus/$target" >"$artifacts/log.txt" 2>&1; then
    tail -n 40 "$artifacts/log.txt" >&2
    echo "fuzz: $target found a failure; the input is in $artifacts/" >&2
    exit 1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$artifacts/log.txt" | grep -o '[0-9]*$' || echo '?')
  echo "fuzz: $target ok ($runs inputs, $label)"
done
