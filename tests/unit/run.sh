#!/usr/bin/env bash
# Runs every cmocka unit test binary (built with ASan+UBSan) and prints "RESULT: P passed, F failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
pass=0 fail=0
for t in build/asan/unit/test_*; do
  [ -x "$t" ] || continue
  out=$("$t" 2>&1); rc=$?
  echo "$out"
  p=$(echo "$out" | sed -nE 's/^\[  PASSED  \] ([0-9]+) test.*/\1/p' | tail -n1)
  f=$(echo "$out" | sed -nE 's/^\[  FAILED  \] ([0-9]+) test.*/\1/p' | tail -n1)
  pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0}))
  if [ $rc -ne 0 ] && [ "${f:-0}" -eq 0 ]; then fail=$((fail + 1)); echo "unit: $t exited $rc"; fi
done
echo "RESULT: $pass passed, $fail failed"
[ $fail -eq 0 ] && [ $pass -gt 0 ]
