#!/usr/bin/env bash
# Browser tests of the web client: a real cmmo server, real headless Chromium (Debian's package)
# driven by playwright-core, node's built-in test runner. Screenshots go to build/screenshots/.
# Env: CMMO_SERVER overrides the server binary (default build/asan/cmmo-server).
# Last line: "RESULT: P passed, F failed"; exits non-zero when F > 0 or P == 0.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

result() {
  echo "RESULT: $1 passed, $2 failed"
  [ "$2" -eq 0 ] && [ "$1" -gt 0 ]
  exit $?
}

server=${CMMO_SERVER:-build/asan/cmmo-server}
case "$server" in /*) ;; *) server="$root/$server" ;; esac
if [ ! -x "$server" ]; then
  echo "e2e: server binary $server not found (make asan builds it)"
  result 0 1
fi
if [ ! -x /usr/bin/chromium ] && [ -z "${CHROMIUM:-}" ]; then
  echo "e2e: /usr/bin/chromium not found (scripts/install-deps.sh test installs it)"
  result 0 1
fi
if [ ! -f node_modules/playwright-core/package.json ]; then
  echo "e2e: installing the browser driver (npm ci)"
  if ! npm ci --no-audit --no-fund >/dev/null; then
    echo "e2e: npm ci failed"
    result 0 1
  fi
fi

tmp=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

"$server" --host 127.0.0.1 --port 0 --db "sqlite:$tmp/cmmo.db" --web-root web --log-level info --drain-seconds 0 2>"$tmp/server.log" &
server_pid=$!
port=
for _ in $(seq 1 150); do
  port=$(grep -m1 'listening' "$tmp/server.log" | sed -nE 's/.*port=([0-9]+).*/\1/p')
  [ -n "$port" ] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$port" ]; then
  echo "e2e: the server did not report a listening port; its log:"
  cat "$tmp/server.log"
  result 0 1
fi
echo "e2e: server pid $server_pid on port $port"

mkdir -p build/screenshots
log="$tmp/tests.log"
CMMO_URL="http://127.0.0.1:$port/" CMMO_SERVER="$server" CMMO_SCREENSHOTS="$root/build/screenshots" \
  timeout 240 node --test --test-concurrency=1 --test-reporter=tap tests/e2e/*.test.mjs 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

pass=$(sed -nE 's/^# pass ([0-9]+)$/\1/p' "$log" | tail -n 1)
fail=$(sed -nE 's/^# fail ([0-9]+)$/\1/p' "$log" | tail -n 1)
cancelled=$(sed -nE 's/^# cancelled ([0-9]+)$/\1/p' "$log" | tail -n 1)
pass=${pass:-0}
fail=$(( ${fail:-0} + ${cancelled:-0} ))
[ "$rc" -ne 0 ] && [ "$fail" -eq 0 ] && fail=1

# Stop the server as an operator would; a sanitizer report or a crash on the way out is a failure.
kill -TERM "$server_pid" 2>/dev/null
wait "$server_pid"
server_rc=$?
server_pid=
if [ "$server_rc" -ne 0 ]; then
  echo "e2e: the server exited with status $server_rc after SIGTERM; the end of its log:"
  tail -n 40 "$tmp/server.log"
  fail=$((fail + 1))
fi
echo "e2e: screenshots in build/screenshots/"
result "$pass" "$fail"
