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
#   CMMO_SERVER       server binary (default build/cmmo-server)
#   BENCH_SCRIPT      a Lua script every server runs (--script; docs/SCRIPTING.md), or
#                     `examples`: the five scripts of examples/scripts in one (each in its own
#                     do ... end block). Results then go to bench/results-script and BENCHMARKS.md
#                     is left alone: compare the two sets of JSON (cpu, chat p99) by hand.
set -uo pipefail
cd "$(dirname "$0")/../.."

SERVER=${CMMO_SERVER:-build/cmmo-server}
BENCH=build/cmmo-bench
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
OUT=bench/results
WORKLOADS=${BENCH_WORKLOADS:-"crowded storm memory open"}
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
  CROWDED_DURATION=10 OPEN_PLAYERS=500 OPEN_DURATION=20 STORM_BASE=50 STORM_LOGINS=200
  STORM_DURATION=20 MEMORY_PLAYERS=1000
else
  CROWDED_PLAYERS="10 30 50 100 200 500"
  CROWDED_DURATION=30 OPEN_PLAYERS=5000 OPEN_DURATION=60 STORM_BASE=200 STORM_LOGINS=1000
  STORM_DURATION=45 MEMORY_PLAYERS=5000
fi
# Accounts to register: as many as the largest selected workload logs in.
ACCOUNTS=0
for w in $WORKLOADS; do
  case "$w" in
  crowded) for n in $CROWDED_PLAYERS; do [ "$n" -gt "$ACCOUNTS" ] && ACCOUNTS=$n; done ;;
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
"$PY" tools/bench/place_grid.py "$tmp/open.db" "$OPEN_PLAYERS" 16000 16000 ||
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
    start_server open "$(fresh_open_db)" --world 16000x16000 --view-radius "$VIEW_RADIUS"
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
        [ -n "$SERVER_PID" ] || start_server open "$(fresh_open_db)" --world 16000x16000 \
          --view-radius "$VIEW_RADIUS" || { failures=$((failures + 1)); continue; }
        compact=()
        [ "$proto" = cmmo.v2 ] && compact=(--compact)
        # Everyone already stands on the grid (placed above), so the spread ends at once.
        run_bench "open-world-$proto-r$rep" open ${compact[@]+"${compact[@]}"} --reuse --prefix a \
          --players "$OPEN_PLAYERS" --world 16000x16000 --spread --spread-timeout 400 \
          --target-interval 3 --target-radius 1000 --chat-interval 60 --warmup 5 \
          --duration "$OPEN_DURATION" --drain 5 --rate 500 --max-runtime 2400 ||
          failures=$((failures + 1))
        stop_server
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
"$PY" tools/bench/report.py report --results "$OUT" --markdown BENCHMARKS.md --chart bench/chart.svg ||
  failures=$((failures + 1))
echo "bench: results in $OUT, report in BENCHMARKS.md, chart in bench/chart.svg ($failures failures)" >&2
[ "$failures" -eq 0 ]
