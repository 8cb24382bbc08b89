#!/usr/bin/env bash
# Unit tests of the browser client's logic (web/js: codec, model merge, prediction, interpolation,
# rubber band, camera, session) with node's built-in test runner. No browser, no server.
# Last line: "RESULT: P passed, F failed"; exits non-zero when F > 0 or P == 0.
set -uo pipefail
cd "$(dirname "$0")/../.."

if ! command -v node >/dev/null 2>&1; then
  echo "node not found (scripts/install-deps.sh test installs it)"
  echo "RESULT: 0 passed, 1 failed"
  exit 1
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
node --test --test-reporter=tap tests/web/ 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

pass=$(sed -nE 's/^# pass ([0-9]+)$/\1/p' "$log" | tail -n 1)
fail=$(sed -nE 's/^# fail ([0-9]+)$/\1/p' "$log" | tail -n 1)
cancelled=$(sed -nE 's/^# cancelled ([0-9]+)$/\1/p' "$log" | tail -n 1)
pass=${pass:-0}
fail=$(( ${fail:-0} + ${cancelled:-0} ))
# A runner that crashed before its summary counts as a failure.
[ "$rc" -ne 0 ] && [ "$fail" -eq 0 ] && fail=1
echo "RESULT: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
