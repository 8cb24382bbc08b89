#!/usr/bin/env bash
# cmmo fuzz suite, as `make test` runs it: builds the libFuzzer targets (tests/fuzz/fuzz.mk),
# replays every committed regression input (tests/fuzz/regressions/<target>/), then fuzzes each
# target for a short, bounded time (FUZZ_SMOKE_SECONDS, default 20) from its committed seed
# corpus. Each target counts as one test: passed if every regression input replays cleanly and
# the timed run ends without a crash, leak, timeout or failed check. `make fuzz` runs them long.
# Last line: "RESULT: P passed, F failed".
set -uo pipefail
cd "$(dirname "$0")/../.."

seconds=${FUZZ_SMOKE_SECONDS:-20}
targets=(fuzz_http fuzz_ws fuzz_packet fuzz_session)
work=$(mktemp -d /tmp/cmmo-fuzz-XXXXXX)
trap 'rm -rf "$work"' EXIT

if ! command -v clang >/dev/null; then
  echo "clang is missing (scripts/install-deps.sh installs clang and libclang-rt-14-dev)"
  echo "RESULT: 0 passed, ${#targets[@]} failed"
  exit 1
fi
if ! make --no-print-directory fuzz-build >"$work/build.log" 2>&1; then
  tail -n 40 "$work/build.log"
  echo "RESULT: 0 passed, ${#targets[@]} failed"
  exit 1
fi

pass=0 fail=0
for t in "${targets[@]}"; do
  bin=build/fuzz/$t
  dict=()
  case $t in fuzz_packet|fuzz_session) dict=(-dict=tests/fuzz/packet.dict) ;; esac
  ok=1
  # Regressions: each input that once crashed a target must now run cleanly.
  reg=tests/fuzz/regressions/$t
  if [ -d "$reg" ] && [ -n "$(ls -A "$reg")" ]; then
    for f in "$reg"/*; do
      if ! "$bin" -runs=1 "$f" >"$work/reg.log" 2>&1; then
        echo "FAIL $t: regression input $f"
        grep -E 'ERROR|Assertion|SUMMARY|runtime error' "$work/reg.log" | head -n 8
        ok=0
      fi
    done
  fi
  # A short run from the seed corpus; new inputs go to a scratch corpus, crashes to $work.
  mkdir -p "$work/$t"
  "$bin" "${dict[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$work/$t-" "$work/$t" "tests/fuzz/corpus/$t" \
      >"$work/$t.log" 2>&1
  rc=$?
  stats=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$work/$t.log" | tail -n 1)
  execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$work/$t.log")
  if [ $rc -ne 0 ]; then
    echo "FAIL $t: fuzzing stopped (exit $rc)"
    grep -E 'ERROR|Assertion|SUMMARY|runtime error|Test unit written' "$work/$t.log" | head -n 12
    for a in "$work/$t"-*; do
      [ -e "$a" ] || continue
      mkdir -p build/fuzz/found/$t && cp "$a" build/fuzz/found/$t/
      echo "  input kept in build/fuzz/found/$t/$(basename "$a"): minimize it (-minimize_crash=1)"
      echo "  and commit it under tests/fuzz/regressions/$t/"
    done
    ok=0
  fi
  if [ $ok -eq 1 ]; then
    echo "ok   $t: ${execs:-?} executions in ${seconds} s; ${stats:-no stats}"
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
  fi
done
echo "RESULT: $pass passed, $fail failed"
[ $fail -eq 0 ] && [ $pass -gt 0 ]
