#!/usr/bin/env bash
# Smoke test of cmmo-bench (~15 s): a sanitized server on a free loopback port with a fresh
# database, 20 benchmark players that register, log in, walk and chat for a few seconds. Checks
# that the tool works end to end (logins, every chat delivered, deltas, no drops) - never how fast
# anything is: timings belong to `make bench`, not to `make test`.
# Env: CMMO_SERVER (default build/asan/cmmo-server), CMMO_BENCH (default build/cmmo-bench).
# Last line: "RESULT: P passed, F failed".
set -uo pipefail
cd "$(dirname "$0")/../.."

SERVER=${CMMO_SERVER:-build/asan/cmmo-server}
BENCH=${CMMO_BENCH:-build/cmmo-bench}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
pass=0 fail=0
check() { # check NAME CONDITION-EXIT-CODE
  if [ "$2" -eq 0 ]; then pass=$((pass + 1)); echo "ok - $1"; else fail=$((fail + 1)); echo "not ok - $1"; fi
}
finish() {
  echo "RESULT: $pass passed, $fail failed"
  [ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
  exit $?
}

if [ ! -x "$BENCH" ]; then make -s "$BENCH" >/dev/null || { check "cmmo-bench builds" 1; finish; }; fi
if [ ! -x "$SERVER" ]; then make -s "$SERVER" >/dev/null || { check "server $SERVER builds" 1; finish; }; fi

tmp=$(mktemp -d /tmp/cmmo-bench-smoke.XXXXXX)
server_pid=
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then kill -KILL "$server_pid" 2>/dev/null; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# Only loopback: the server listens on 127.0.0.1, the benchmark refuses anything else anyway.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} "$SERVER" --host 127.0.0.1 --port 0 \
  --db "sqlite:$tmp/smoke.db" --web-root web --log-level info --drain-seconds 0 \
  >"$tmp/server.log" 2>&1 &
server_pid=$!
port=
for _ in $(seq 1 300); do # sanitized builds start slowly: up to 30 s
  port=$(grep -m1 'listening' "$tmp/server.log" 2>/dev/null | sed -nE 's/.*port=([0-9]+).*/\1/p')
  [ -n "$port" ] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
check "server starts and reports its port" "$([ -n "$port" ]; echo $?)"
if [ -z "$port" ]; then cat "$tmp/server.log"; finish; fi

tools/bench/test/run.sh >"$tmp/selftest.log" 2>&1
rc=$?
check "bench self-test: the scanner reads Move frames, the handshake requires cmmo.v2, the client's interpolation" "$rc"
[ "$rc" -ne 0 ] && tail -n 20 "$tmp/selftest.log"

timeout 120 "$BENCH" --host 127.0.0.1 --port "$port" --players 20 --register --rate 100 \
  --prefix smoke --target-interval 0.5 --chat-interval 1 --warmup 1 --duration 4 --drain 3 \
  --server-pid "$server_pid" --max-runtime 90 --label smoke --json "$tmp/result.json" \
  2>"$tmp/bench.log"
rc=$?
check "cmmo-bench exits 0" "$rc"
[ "$rc" -ne 0 ] && cat "$tmp/bench.log"

# The same players again, speaking cmmo.v2 (compact Move packets).
timeout 120 "$BENCH" --host 127.0.0.1 --port "$port" --players 20 --reuse --compact --rate 100 \
  --prefix smoke --target-interval 0.5 --chat-interval 1 --warmup 1 --duration 4 --drain 3 \
  --server-pid "$server_pid" --max-runtime 90 --label smoke-v2 --json "$tmp/result-v2.json" \
  2>"$tmp/bench-v2.log"
rc=$?
check "cmmo-bench --compact exits 0" "$rc"
[ "$rc" -ne 0 ] && cat "$tmp/bench-v2.log" >&2
"$PY" - "$tmp/result-v2.json" <<'EOF' >/dev/null 2>&1
import json, sys
r = json.load(open(sys.argv[1]))
ok = (r["config"]["protocol"] == "cmmo.v2" and r["ramp"]["subprotocol_refused"] == 0
      and r["ramp"]["logged_in"] == 20 and r["traffic"]["deltas"] > 0
      and r["movement"]["self_ms"]["count"] > 0 and r["movement"]["observer_ms"]["count"] > 0
      and r["movement"]["staleness_ms"]["count"] > 0
      and r["movement"]["position_lag_px"]["count"] == r["movement"]["position_error_px"]["count"] > 0
      and r["chat"]["delivered"] == r["chat"]["expected"] > 0)
sys.exit(0 if ok else 1)
EOF
check "cmmo.v2: selected, every player in, Moves frames seen by mover and observer, staleness and position error measured, chats delivered" $?

# The floor make bench measures against (~3 s): cmmo-floor serves 5 readers 2 frames a tick.
FLOOR=${CMMO_FLOOR:-build/cmmo-floor}
[ -x "$FLOOR" ] || make -s "$FLOOR" >/dev/null
"$FLOOR" serve --frames 2 --bytes 600 2>"$tmp/floor.log" &
floor_pid=$!
fport=
for _ in $(seq 1 50); do
  fport=$(sed -nE 's/.*port=([0-9]+).*/\1/p' "$tmp/floor.log" | head -n1)
  [ -n "$fport" ] && break
  sleep 0.1
done
floor_out=$([ -n "$fport" ] && "$FLOOR" read --port "$fport" --clients 5 --seconds 2)
kill -TERM "$floor_pid" 2>/dev/null
wait "$floor_pid" 2>/dev/null
"$PY" -c 'import json, sys
r = json.loads(sys.argv[1])
sys.exit(0 if r["connected"] == 5 and r["bytes"] > 5 * 600 * 20 else 1)' "$floor_out" >/dev/null 2>&1
check "cmmo-floor sends every reader its frames each tick" $?

# The same through io_uring (~1 s): 3 readers must get what 20 ticks of 600 bytes make, give or
# take the ticks lost to connecting and a rate that sags (no fewer than 14 ticks' worth, no more
# than 22 plus the 101 replies). A kernel without io_uring fails this: CI's has it, and a floor
# that cannot measure the batched path is a failure, not a skip.
"$FLOOR" serve --frames 2 --bytes 600 --io uring 2>"$tmp/floor-uring.log" &
floor_pid=$!
fport=
for _ in $(seq 1 50); do
  fport=$(sed -nE 's/.*port=([0-9]+) io=uring.*/\1/p' "$tmp/floor-uring.log" | head -n1)
  [ -n "$fport" ] && break
  kill -0 "$floor_pid" 2>/dev/null || break
  sleep 0.1
done
floor_out=$([ -n "$fport" ] && "$FLOOR" read --port "$fport" --clients 3 --seconds 1)
kill -USR1 "$floor_pid" 2>/dev/null
sleep 0.3
usr1_alive=1; kill -0 "$floor_pid" 2>/dev/null && usr1_alive=0
kill -TERM "$floor_pid" 2>/dev/null
wait "$floor_pid" 2>/dev/null
[ "$usr1_alive" -eq 0 ] && [ "$(grep -c '^floor ticks=' "$tmp/floor-uring.log")" -eq 2 ]
check "cmmo-floor prints its ticks on SIGUSR1 and keeps serving (uring_ab.sh counts them)" $?
"$PY" -c 'import json, sys
r = json.loads(sys.argv[1])
short = int(open(sys.argv[2]).read().rsplit("short_writes=", 1)[1])
sys.exit(0 if r["connected"] == 3 and 3 * 600 * 14 <= r["bytes"] <= 3 * (600 * 22 + 200)
         and short == 0 else 1)' "$floor_out" "$tmp/floor-uring.log" >/dev/null 2>&1
rc=$?
check "cmmo-floor --io uring sends every reader its frames each tick (one submit a tick)" $rc
[ "$rc" -ne 0 ] && { echo "--- floor --io uring: $floor_out"; cat "$tmp/floor-uring.log"; }

timeout 5 "$FLOOR" serve --frames 2 --bytes 600 --io epoll >/dev/null 2>&1
check "cmmo-floor refuses an unknown --io with status 2" "$([ $? -eq 2 ]; echo $?)"

# Each assertion is one line: name<TAB>python expression over the result object r.
while IFS=$'\t' read -r name expr; do
  [ -z "$name" ] && continue
  "$PY" - "$tmp/result.json" "$expr" <<'EOF' >/dev/null 2>&1
import json, sys
r = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)
EOF
  check "$name" $?
done <<'CHECKS'
run completed	r["stop_reason"] == "completed"
all 20 players registered	r["ramp"]["registered"] + r["ramp"]["already_registered"] == 20
all 20 players logged in	r["ramp"]["logged_in"] == 20 and r["ramp"]["login_ms"]["count"] == 20
first ModelDelta after Ok is the own actor	r["ramp"]["own_model_wrong"] == 0
chats were sent	r["chat"]["sent"] > 0 and r["chat"]["expected"] == r["chat"]["sent"] * 19
every chat delivered once (ratio 1.0)	r["chat"]["delivered"] == r["chat"]["expected"]
chats not echoed and p0 is the sender	r["chat"]["echoed"] == 0 and r["chat"]["wrong_sender"] == 0
deltas received	r["traffic"]["deltas"] > 0 and r["traffic"]["deltas_per_client_s"] > 0
moves seen by the mover and an observer	r["movement"]["self_ms"]["count"] > 0 and r["movement"]["observer_ms"]["count"] > 0
position error and lag sampled in the window	r["movement"]["position_lag_px"]["count"] == r["movement"]["position_error_px"]["count"] > 0
observers draw walkers about 70 px/s x 0.1 s behind	5 <= r["movement"]["position_lag_px"]["p50"] <= 24.5
no connection dropped	r["connections"]["dropped_ramp"] == 0 and r["connections"]["dropped_window"] == 0
server stats endpoint reports tick times	r["server"]["stats"] is not None and r["server"]["tick_ms"]["max"] >= 0
server CPU and RSS sampled from /proc	r["server"]["sampled"] and r["server"]["rss_window_start_kb"] > 0
CHECKS

# The server must have survived the load and stop cleanly (sanitizers report at exit).
alive=1; kill -0 "$server_pid" 2>/dev/null && alive=0
check "server still running after the load" "$alive"
kill -TERM "$server_pid" 2>/dev/null
stopped=1
for _ in $(seq 1 100); do
  if ! kill -0 "$server_pid" 2>/dev/null; then stopped=0; break; fi
  sleep 0.1
done
check "server exits within 10 s of SIGTERM" "$stopped"
wait "$server_pid" 2>/dev/null
src=$?
[ "$stopped" -eq 0 ] && check "server exit status 0" "$src"
grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$tmp/server.log"
check "no sanitizer report in the server log" "$([ $? -ne 0 ]; echo $?)"
if [ "$fail" -gt 0 ]; then
  echo "--- bench stderr"; tail -n 30 "$tmp/bench.log"
  echo "--- server log (tail)"; tail -n 30 "$tmp/server.log"
fi
finish
