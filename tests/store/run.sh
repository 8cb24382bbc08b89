#!/usr/bin/env bash
# The store suite on both backends: starts a throwaway PostgreSQL (tests/support/pg.sh), runs
# build/asan/unit/test_store with CMMO_TEST_PG_URL set, so every shared case runs on SQLite and on
# PostgreSQL (plus the PostgreSQL-only cases, server restart included), stops the server, and
# prints "RESULT: P passed, F failed" as its last line. No PostgreSQL is a failure, not a skip.
set -uo pipefail
cd "$(dirname "$0")/../.."

bin=build/asan/unit/test_store
if [ ! -x "$bin" ]; then
  echo "store: $bin is missing (make asan)"
  echo "RESULT: 0 passed, 1 failed"
  exit 1
fi

dir=$(mktemp -d /tmp/cmmo-store-pg.XXXXXX)
rmdir "$dir" # pg.sh start wants to make it
stop() { tests/support/pg.sh stop "$dir" >/dev/null 2>&1 || true; }
trap stop EXIT INT TERM

if ! url=$(tests/support/pg.sh start "$dir" | tail -n 1) || [ -z "$url" ]; then
  echo "store: could not start PostgreSQL (tests/support/pg.sh)"
  echo "RESULT: 0 passed, 1 failed"
  exit 1
fi

out=$(CMMO_TEST_PG_URL="$url" CMMO_TEST_PG_DIR="$dir" CMMO_TEST_PG_SH=tests/support/pg.sh \
  "$bin" 2>&1)
rc=$?
echo "$out"
p=$(echo "$out" | sed -nE 's/^\[  PASSED  \] ([0-9]+) test.*/\1/p' | tail -n 1)
f=$(echo "$out" | sed -nE 's/^\[  FAILED  \] ([0-9]+) test.*/\1/p' | tail -n 1)
p=${p:-0} f=${f:-0}
if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
  f=1
  echo "store: $bin exited $rc"
fi
# Both backends must have run: a count of PostgreSQL cases of zero means they were not registered.
pg=$(echo "$out" | grep -c '^\[       OK \] pg: ')
if [ "$pg" -eq 0 ]; then
  f=$((f + 1))
  echo "store: no PostgreSQL case passed"
fi
echo "RESULT: $p passed, $f failed"
[ "$f" -eq 0 ] && [ "$p" -gt 0 ]
