#!/usr/bin/env bash
# Self-test of cmmo-bench's pure parts (~2 s, no server): the frame scanner (bench_scan, both
# movement encodings), the handshake's subprotocol check (bench_ws) and the browser client's
# interpolation behind the position error (bench_interp). Builds each test_*.c here
# with its module under ASan+UBSan into build/asan/bench-test/ and runs it (cmocka).
# Last line: "RESULT: P passed, F failed"; exits non-zero if anything failed or nothing ran.
set -uo pipefail
cd "$(dirname "$0")/../../.."

CC=${CC:-cc}
OUTDIR=build/asan/bench-test
FLAGS=(-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes
  -Wno-unused-parameter -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer
  -fno-sanitize-recover=undefined -Itools/bench)
mkdir -p "$OUTDIR"
pass=0 fail=0
for t in tools/bench/test/test_*.c; do
  name=$(basename "$t" .c)
  module=tools/bench/${name#test_}.c
  if ! "$CC" "${FLAGS[@]}" -o "$OUTDIR/$name" "$t" "$module" -lcmocka -lcrypto -lm; then
    echo "bench-test: $name does not build"
    fail=$((fail + 1))
    continue
  fi
  out=$("$OUTDIR/$name" 2>&1); rc=$?
  echo "$out"
  p=$(echo "$out" | sed -nE 's/^\[  PASSED  \] ([0-9]+) test.*/\1/p' | tail -n1)
  f=$(echo "$out" | sed -nE 's/^\[  FAILED  \] ([0-9]+) test.*/\1/p' | tail -n1)
  pass=$((pass + ${p:-0})) fail=$((fail + ${f:-0}))
  if [ $rc -ne 0 ] && [ "${f:-0}" -eq 0 ]; then fail=$((fail + 1)); echo "bench-test: $name exited $rc"; fi
done
echo "RESULT: $pass passed, $fail failed"
[ $fail -eq 0 ] && [ $pass -gt 0 ]
