#!/usr/bin/env bash
# Runs every test suite of cmmo. Each suite's runner prints, as its last line,
# "RESULT: P passed, F failed" and exits non-zero when anything failed. This script sums them,
# prints one closing line in the same form, and fails if any suite failed or ran no test.
set -uo pipefail
cd "$(dirname "$0")/.."

suites=(tests/layers/run.sh tests/unit/run.sh tests/store/run.sh tests/integration/run.sh tests/admin/run.sh tests/cluster/run.sh tests/web/run.sh tests/e2e/run.sh tests/bench/run.sh tests/fuzz/run.sh)
total_pass=0 total_fail=0 failed_suites=()
for s in "${suites[@]}"; do
  [ -x "$s" ] || continue
  echo "=== $s"
  log=$(mktemp)
  "$s" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  line=$(grep -E '^RESULT: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
  rm -f "$log"
  p=$(echo "$line" | sed -nE 's/^RESULT: ([0-9]+) passed.*/\1/p')
  f=$(echo "$line" | sed -nE 's/^RESULT: [0-9]+ passed, ([0-9]+) failed.*/\1/p')
  p=${p:-0} f=${f:-0}
  if [ "$rc" -ne 0 ] || [ -z "$line" ] || [ "$p" -eq 0 ]; then
    failed_suites+=("$s (exit $rc)")
    [ "$f" -eq 0 ] && f=1
  fi
  total_pass=$((total_pass + p)) total_fail=$((total_fail + f))
done
echo
[ ${#failed_suites[@]} -gt 0 ] && echo "failed suites: ${failed_suites[*]}"
echo "tests: $total_pass passed, $total_fail failed"
[ ${#failed_suites[@]} -eq 0 ] && [ "$total_pass" -gt 0 ]
