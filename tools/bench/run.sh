#!/usr/bin/env bash
# `make bench`: runs the standard cmmo workloads, writes the raw results to bench/results/*.json,
# then regenerates BENCHMARKS.md and bench/chart.svg from them (tools/bench/report.py).
#
# Builds nothing (make does). Every server is build/cmmo-server (release) on a free loopback port
# with a temporary database, pinned to CPU 0; the benchmark is pinned to CPU 1, so the two never
# compete for a core. Each run is bounded (--max-runtime) and talks to 127.0.0.1 only.
#
# Workloads (docs: BENCHMARKS.md, generated):
#   crowded  tutorial map 1344x832, Target every 0.5 s, Chat every 2 s; 10..500 players
#   crowded-v2  the same, every client on cmmo.v2 (--compact) under the default budget; 100, 500,
#            1,000 players
#   open     --world 16000x16000 with a view radius, 5,000 players spread evenly, Target within
#            1,000 px every 3 s, Chat every 60 s (skipped with a note if the server lacks the flags);
#            run twice, in the legacy encoding and in cmmo.v2 (--compact: movement as Move frames)
#   storm    1,000 existing accounts log in at once while 200 others play
#   memory   5,000 idle logged-in players: server RSS per player
#
# Environment:
#   BENCH_WORKLOADS   which to run, in order (default "crowded storm memory open")
#   BENCH_REPEAT      runs per data point; the report shows the median (default 1)
#   BENCH_QUICK=1     a small, fast version of everything, to try the pipeline (~3 min)
#   BENCH_VIEW_RADIUS the open world's --view-radius in px (default 1000)
#   BENCH_OPEN_PLAYERS the open world's players (default 5,000), on a square world of the same
#                     density as 5,000 on 16000 x 16000
#   BENCH_FLOOR=0     skip the floor (default 1: after each crowded and open-world run,
#                     build/cmmo-floor sends the same clients the same frames and bytes per second
#                     with no game at all, on the same core; the result gets "floor" and the
#                     report shows the server's CPU as a ratio to it)
#   CMMO_SERVER       server binary (default build/cmmo-server)
#   BENCH_SCRIPT      a Lua script every server runs (--script; docs/SCRIPTING.md), or
#                     `examples`: the five scripts of examples/scripts in one (each in its own
#                     do ... end block). Results then go to bench/results-script and BENCHMARKS.md
#                     is left alone: compare the two sets of JSON (cpu, chat p99) by hand.
#   BENCH_OUT, BENCH_REPORT, BENCH_CHART  where results, report and chart go (default
#                     bench/results, BENCHMARKS.md, bench/chart.svg): a trial run elsewhere
set -uo pipefail
cd "$(dirname "$0")/../.."

SERVER=${CMMO_SERVER:-build/cmmo-server}
BENCH=build/cmmo-bench
FLOOR=build/cmmo-floor
FLOOR_ON=${BENCH_FLOOR:-1}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
OUT=${BENCH_OUT:-bench/results}
REPORT=${BENCH_REPORT:-BENCHMARKS.md}
CHART=${BENCH_CHART:-bench/chart.svg}
WORKLOADS=${BENCH_WORKLOADS:-"crowded crowded-v2 storm memory open"}
REPEAT=${BENCH_REPEAT:-1}
QUICK=${BENCH_QUICK:-0}
VIEW_RADIUS=${BENCH_VIEW_RADIUS:-1000}
SERVER_CPU=0
BENCH_CPU=1

for bin in "$SERVER" "$BENCH"; do
  [ -x "$bin" ] || { echo "bench: $bin is missing; run it through 'make bench'" >&2; exit 2; }
done
if [ "$(nproc)" -lt 2 ]; then
  echo "bench: needs 2 CPUs to pin the server and the benchmark apart" >&2
  exit 2
fi

if [ "$QUICK" = 1 ]; then
  CROWDED_PLAYERS="10 50 100"
  CROWDED_V2_PLAYERS="50 100"
  [ -n "${BENCH_CROWDED_PLAYERS:-}" ] && CROWDED_PLAYERS=$BENCH_CROWDED_PLAYERS CROWDED_V2_PLAYERS=$BENCH_CROWDED_PLAYERS
  CROWDED_DURATION=10 OPEN_PLAYERS=500 OPEN_DURATION=20 STORM_BASE=50 STORM_LOGINS=200
  STORM_DURATION=20 MEMORY_PLAYERS=1000
else
  CROWDED_PLAYERS="10 30 50 100 200 500"
  CROWDED_V2_PLAYERS="100 500 1000"
  CROWDED_DURATION=30 OPEN_PLAYERS=5000 OPEN_DURATION=60 STORM_BASE=200 STORM_LOGINS=1000
  STORM_DURATION=45 MEMORY_PLAYERS=5000
fi
# BENCH_OPEN_PLAYERS changes the open world's players at the same density as 5,000 on 16000 x 16000
# (10,000: 22627 x 22627), the issue's 10,000-player target.
OPEN_PLAYERS=${BENCH_OPEN_PLAYERS:-$OPEN_PLAYERS}
OPEN_SIDE=$("$PY" -c 'import math, sys; print(round(16000 * math.sqrt(int(sys.argv[1]) / 5000)))' "$OPEN_PLAYERS")
[ "$QUICK" = 1 ] && [ -z "${BENCH_OPEN_PLAYERS:-}" ] && OPEN_SIDE=16000
# Accounts to register: as many as the largest selected workload logs in.
ACCOUNTS=0
for w in $WORKLOADS; do
  case "$w" in
  crowded) for n in $CROWDED_PLAYERS; do [ "$n" -gt "$ACCOUNTS" ] && ACCOUNTS=$n; done ;;
  crowded-v2) for n in $CROWDED_V2_PLAYERS; do [ "$n" -gt "$ACCOUNTS" ] && ACCOUNTS=$n; done ;;
  storm) [ $((STORM_BASE + STORM_LOGINS)) -gt "$ACCOUNTS" ] && ACCOUNTS=$((STORM_BASE + STORM_LOGINS)) ;;
  memory) [ "$MEMORY_PLAYERS" -gt "$ACCOUNTS" ] && ACCOUNTS=$MEMORY_PLAYERS ;;
  open) [ "$OPEN_PLAYERS" -gt "$ACCOUNTS" ] && ACCOUNTS=$OPEN_PLAYERS ;;
  esac
done

tmp=$(mktemp -d /tmp/cmmo-bench.XXXXXX)
if [ -n "${BENCH_SCRIPT:-}" ]; then
  if [ "$BENCH_SCRIPT" = examples ]; then
    BENCH_SCRIPT=$tmp/examples.lua
    for f in chat_filter who_whisper greeter teleport_pads spawn_point; do
      printf 'do -- %s.lua\n' "$f"
      cat "examples/scripts/$f.lua"
      printf 'end\n'
    done >"$BENCH_SCRIPT"
  fi
  [ -r "$BENCH_SCRIPT" ] || { echo "bench: cannot read BENCH_SCRIPT=$BENCH_SCRIPT" >&2; exit 2; }
  export CMMO_SCRIPT=$(realpath "$BENCH_SCRIPT")
  OUT=bench/results-script
  mkdir -p "$OUT"
fi
# Each run ends with a SIGTERM: no drain window before it (nobody balances load here).
export CMMO_DRAIN_SECONDS=0
SERVER_PID= PORT=
stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null
  for _ in $(seq 1 150); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "bench: server $SERVER_PID still running 15 s after SIGTERM; killing it" >&2
    kill -KILL "$SERVER_PID" 2>/dev/null
  fi
  wait "$SERVER_PID" 2>/dev/null
  SERVER_PID= PORT=
}
cleanup() {
  stop_server
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_server NAME DB ARGS...: starts a pinned server; sets SERVER_PID, PORT, SERVER_CMD.
# Returns 2 if the server rejected its command line (exit status 2), 1 on any other failure.
start_server() {
  local name=$1 db=$2
  shift 2
  SERVER_CMD="taskset -c $SERVER_CPU $SERVER --host 127.0.0.1 --port 0 --db sqlite:$db --web-root web --log-level info $*"
  local log="$tmp/$name.server.log"
  # shellcheck disable=SC2086
  taskset -c $SERVER_CPU "$SERVER" --host 127.0.0.1 --port 0 --db "sqlite:$db" --web-root web \
    --log-level info "$@" >"$log" 2>&1 &
  SERVER_PID=$!
  PORT=
  for _ in $(seq 1 100); do
    PORT=$(grep -m1 'listening' "$log" 2>/dev/null | sed -nE 's/.*port=([0-9]+).*/\1/p')
    [ -n "$PORT" ] && return 0
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      wait "$SERVER_PID"
      local rc=$?
      SERVER_PID=
      echo "bench: server exited with status $rc: $(tail -n 3 "$log")" >&2
      [ "$rc" -eq 2 ] && return 2
      return 1
    fi
    sleep 0.1
  done
  echo "bench: server did not report its port within 10 s" >&2
  stop_server
  return 1
}

# run_bench NAME WORKLOAD ARGS...: one pinned benchmark run against the current server; writes
# $OUT/NAME.json (the result, with the exact commands added under "commands").
run_bench() {
  local name=$1 workload=$2
  shift 2
  local cmd=(taskset -c $BENCH_CPU "$BENCH" --host 127.0.0.1 --port "$PORT" --server-pid "$SERVER_PID" "$@")
  echo "bench: $name: ${cmd[*]}" >&2
  "${cmd[@]}" --label "$name" --quiet --json "$tmp/$name.json" 2>"$tmp/$name.bench.log"
  local rc=$?
  sed -n '/^== cmmo-bench/,$p' "$tmp/$name.bench.log" >&2
  if [ $rc -ne 0 ] || [ ! -s "$tmp/$name.json" ]; then
    echo "bench: $name failed (exit $rc)" >&2
    tail -n 5 "$tmp/$name.bench.log" >&2
    return 1
  fi
  "$PY" - "$tmp/$name.json" "$OUT/$name.json" "$workload" "$SERVER_CMD" "${cmd[*]} --label $name --json $OUT/$name.json" <<'EOF'
import json, sys
src, dst, workload, server_cmd, bench_cmd = sys.argv[1:6]
r = json.load(open(src))
r["workload"] = workload
r["commands"] = {"server": server_cmd, "bench": bench_cmd}
try:
    import subprocess
    r["git_commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                     text=True, timeout=10).stdout.strip()
except Exception:
    pass
json.dump(r, open(dst, "w"), indent=2)
EOF
}

# run_floor NAME: the floor of the run NAME just measured ($OUT/NAME.json): cmmo-floor, pinned to
# the server's core, writes each of the same number of clients the same frames and bytes per
# second (at 20 ticks a second) while as many reading clients on the benchmark's core take them;
# its CPU over the reading window is added to the result as "floor", with the server's CPU as a
# ratio to it. A floor that fails leaves the result as it was (and says so).
run_floor() {
  local name=$1 res="$OUT/$1.json"
  [ "$FLOOR_ON" = 1 ] && [ -x "$FLOOR" ] && [ -s "$res" ] || return 0
  local shape clients frames bytes seconds
  shape=$("$PY" - "$res" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
t, n = r.get("traffic") or {}, r.get("players_in_window") or 0
if not n or not t.get("frames_per_client_s"):
    sys.exit(1)
frames = max(1, round(t["frames_per_client_s"] / 20))
print(n, frames, max(3 * frames, round(t["bytes_per_client_s"] / 20)),
      max(6, min(30, int(r.get("window_s") or 10))))
EOF
) || { echo "bench: $name: no traffic to build a floor from" >&2; return 0; }
  read -r clients frames bytes seconds <<<"$shape"
  local log="$tmp/$name.floor.log"
  taskset -c $SERVER_CPU "$FLOOR" serve --frames "$frames" --bytes "$bytes" >"$log" 2>&1 &
  local fpid=$! fport=
  for _ in $(seq 1 50); do
    fport=$(sed -nE 's/.*port=([0-9]+).*/\1/p' "$log" | head -n1)
    [ -n "$fport" ] && break
    sleep 0.1
  done
  if [ -z "$fport" ]; then
    kill "$fpid" 2>/dev/null
    echo "bench: $name: the floor did not start" >&2
    return 0
  fi
  taskset -c $BENCH_CPU "$FLOOR" read --port "$fport" --clients "$clients" --seconds "$seconds" \
    >"$tmp/$name.floor.json" 2>/dev/null &
  local rpid=$!
  sleep 2 # connected, written to every tick
  local t0 c0 t1 c1
  t0=$(date +%s.%N) c0=$(awk '{print $14 + $15}' "/proc/$fpid/stat")
  sleep $((seconds - 3))
  t1=$(date +%s.%N) c1=$(awk '{print $14 + $15}' "/proc/$fpid/stat")
  wait "$rpid"
  kill -TERM "$fpid" 2>/dev/null
  wait "$fpid" 2>/dev/null
  "$PY" - "$res" "$tmp/$name.floor.json" "$c0" "$c1" "$t0" "$t1" "$(getconf CLK_TCK)" \
    "$frames" "$bytes" "$log" <<'EOF'
import json, sys
res, got, c0, c1, t0, t1, hz, frames, bytes_, log = sys.argv[1:11]
r = json.load(open(res))
try:
    g = json.load(open(got))
except Exception:
    g = {}
cpu = (float(c1) - float(c0)) / float(hz) / (float(t1) - float(t0)) * 100
server = (r.get("server") or {}).get("cpu_percent")
short = None
for line in open(log):
    if "short_writes=" in line:
        short = int(line.rsplit("short_writes=", 1)[1])
r["floor"] = {"tool": "cmmo-floor", "clients": g.get("clients"), "connected": g.get("connected"),
              "frames_per_tick": int(frames), "bytes_per_tick": int(bytes_),
              "cpu_percent": round(cpu, 2), "short_writes": short,
              "ratio": round(server / cpu, 2) if server and cpu > 0 else None}
json.dump(r, open(res, "w"), indent=2)
print("bench: %s: floor cpu %.2f%%, server / floor %s" % (r.get("label"), cpu, r["floor"]["ratio"]),
      file=sys.stderr)
EOF
}

# The accounts every workload logs in with (b a 0 .. b a N-1), registered once per database.
register_accounts() { # DB N
  start_server register "$1" || return 1
  run_bench "setup-register-$(basename "$1" .db)" setup --register-only --prefix a --players "$2" \
    --rate 500 --max-inflight 32 --max-runtime 1800
  local rc=$?
  stop_server
  return $rc
}

mkdir -p "$OUT"
# Replace only the results of the workloads run now, so one can be re-run on its own.
rm -f "$OUT"/setup-*.json
for w in $WORKLOADS; do
  case "$w" in
  open) rm -f "$OUT"/open-world*.json ;;
  crowded) rm -f "$OUT"/crowded-[0-9]*.json ;;
  *) rm -f "$OUT/$w"-*.json ;;
  esac
done
"$PY" tools/bench/report.py machine >"$OUT/machine.json.tmp" && mv "$OUT/machine.json.tmp" "$OUT/machine.json"

DB="$tmp/tutorial.db"
echo "bench: registering $ACCOUNTS accounts (argon2id makes this the slow part)" >&2
register_accounts "$DB" "$ACCOUNTS" || { echo "bench: registration failed" >&2; exit 1; }
cp "$DB" "$tmp/open.db"
# The open world starts spread out: every account stands on its cell of the even grid the bench's
# --spread uses (positions persist, as if everyone had walked there in an earlier session).
# Walking 5,000 players out from the shared spawn point would take minutes and measure a crowd.
"$PY" tools/bench/place_grid.py "$tmp/open.db" "$OPEN_PLAYERS" "$OPEN_SIDE" "$OPEN_SIDE" ||
  { echo "bench: placing the open world's players failed" >&2; exit 1; }

# A copy of the grid database for one open-world run (each run saves where its players walked
# to); prints its path.
fresh_open_db() {
  rm -f "$tmp/open-run.db" "$tmp/open-run.db-wal" "$tmp/open-run.db-shm" "$tmp/open-run.db-journal"
  cp "$tmp/open.db" "$tmp/open-run.db" && echo "$tmp/open-run.db"
}

failures=0
for w in $WORKLOADS; do
  case "$w" in
  crowded)
    for rep in $(seq 1 "$REPEAT"); do
      for n in $CROWDED_PLAYERS; do
        start_server "crowded-$n" "$DB" || { failures=$((failures + 1)); continue; }
        run_bench "crowded-$n-r$rep" crowded --reuse --prefix a --players "$n" \
          --target-interval 0.5 --target-radius 200 --chat-interval 2 \
          --warmup 3 --duration "$CROWDED_DURATION" --drain 3 --max-runtime 600 ||
          failures=$((failures + 1))
        stop_server
        run_floor "crowded-$n-r$rep"
      done
    done
    ;;
  crowded-v2)
    for rep in $(seq 1 "$REPEAT"); do
      for n in $CROWDED_V2_PLAYERS; do
        start_server "crowded-v2-$n" "$DB" || { failures=$((failures + 1)); continue; }
        run_bench "crowded-v2-$n-r$rep" crowded-v2 --compact --reuse --prefix a --players "$n" \
          --target-interval 0.5 --target-radius 200 --chat-interval 2 \
          --warmup 3 --duration "$CROWDED_DURATION" --drain 3 --max-runtime 900 ||
          failures=$((failures + 1))
        stop_server
        run_floor "crowded-v2-$n-r$rep"
      done
    done
    ;;
  storm)
    for rep in $(seq 1 "$REPEAT"); do
      start_server storm "$DB" || { failures=$((failures + 1)); continue; }
      run_bench "storm-r$rep" storm --reuse --prefix a --players "$STORM_BASE" \
        --storm "$STORM_LOGINS" --storm-delay 2 --target-interval 0.5 --target-radius 200 \
        --chat-interval 2 --warmup 2 --duration "$STORM_DURATION" --drain 3 \
        --login-timeout 60 --max-runtime 900 || failures=$((failures + 1))
      stop_server
    done
    ;;
  memory)
    for rep in $(seq 1 "$REPEAT"); do
      start_server memory "$DB" || { failures=$((failures + 1)); continue; }
      run_bench "memory-r$rep" memory --reuse --prefix a --players "$MEMORY_PLAYERS" \
        --target-interval 0 --chat-interval 0 --warmup 2 --duration 10 --drain 0 \
        --rate 500 --max-inflight 32 --max-runtime 1800 || failures=$((failures + 1))
      stop_server
    done
    ;;
  open)
    start_server open "$(fresh_open_db)" --world "${OPEN_SIDE}x$OPEN_SIDE" --view-radius "$VIEW_RADIUS"
    rc=$?
    if [ $rc -eq 2 ]; then
      echo "bench: open world not supported by this server yet" >&2
      "$PY" - "$OUT/open-world.json" "$SERVER_CMD" "$(tail -n 3 "$tmp/open.server.log")" <<'EOF'
import json, sys
json.dump({"tool": "cmmo-bench", "label": "open-world", "workload": "open",
           "unsupported": True,
           "reason": "the server rejected its command line (exit status 2): " + sys.argv[3].strip(),
           "commands": {"server": sys.argv[2]}}, open(sys.argv[1], "w"), indent=2)
EOF
      continue
    fi
    [ $rc -ne 0 ] && { failures=$((failures + 1)); continue; }
    # The same workload in both movement encodings, each on a fresh server and a fresh copy of the
    # grid database: legacy (ModelDelta), then cmmo.v2 (--compact: {"a":"Move","p0":[id,x,y]}).
    for rep in $(seq 1 "$REPEAT"); do
      for proto in legacy cmmo.v2; do
        [ -n "$SERVER_PID" ] || start_server open "$(fresh_open_db)" --world "${OPEN_SIDE}x$OPEN_SIDE" \
          --view-radius "$VIEW_RADIUS" || { failures=$((failures + 1)); continue; }
        compact=()
        [ "$proto" = cmmo.v2 ] && compact=(--compact)
        # Everyone already stands on the grid (placed above), so the spread ends at once.
        run_bench "open-world-$proto-r$rep" open ${compact[@]+"${compact[@]}"} --reuse --prefix a \
          --players "$OPEN_PLAYERS" --world "${OPEN_SIDE}x$OPEN_SIDE" --spread --spread-timeout 400 \
          --target-interval 3 --target-radius 1000 --chat-interval 60 --warmup 5 \
          --duration "$OPEN_DURATION" --drain 5 --rate 500 --max-runtime 2400 ||
          failures=$((failures + 1))
        stop_server
        run_floor "open-world-$proto-r$rep"
        # A server without cmmo.v2 makes every --compact connect fail (the result says so): that
        # run measured nothing, which must not pass for a benchmark of cmmo.v2.
        if [ "$proto" = cmmo.v2 ] && "$PY" -c 'import json, sys
sys.exit(0 if (json.load(open(sys.argv[1])).get("ramp") or {}).get("subprotocol_refused") else 1)' \
          "$OUT/open-world-$proto-r$rep.json" 2>/dev/null; then
          echo "bench: open-world-$proto-r$rep: the server did not select the cmmo.v2 subprotocol" >&2
          failures=$((failures + 1))
        fi
      done
    done
    ;;
  *)
    echo "bench: unknown workload '$w'" >&2
    failures=$((failures + 1))
    ;;
  esac
done

if [ -n "${BENCH_SCRIPT:-}" ]; then
  echo "bench: with script $BENCH_SCRIPT: results in $OUT ($failures failures)" >&2
  [ "$failures" -eq 0 ]
  exit
fi
"$PY" tools/bench/report.py report --results "$OUT" --markdown "$REPORT" --chart "$CHART" ||
  failures=$((failures + 1))
echo "bench: results in $OUT, report in $REPORT, chart in $CHART ($failures failures)" >&2
[ "$failures" -eq 0 ]
