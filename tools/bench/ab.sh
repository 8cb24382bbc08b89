#!/usr/bin/env bash
# A/B runs of the open world (5,000 players on a 16000 x 16000 grid, view radius 1000, Target
# within 1,000 px every 3 s, Chat every 60 s), for comparing two server builds on the same
# database: how every "before -> after" figure of bench/NOTES.md was measured. One 30 s window per
# run (make bench runs the standard workloads; this is the quick tool for one change).
#
#   tools/bench/ab.sh prepare                   register the accounts, stand them on the grid
#   tools/bench/ab.sh run SERVER TAG [ARGS...]  one run of SERVER (a binary), result in TAG.json;
#                                               ARGS go to cmmo-bench (e.g. --compact)
#
# Environment: AB_DIR (default /tmp/cmmo-ab), PLAYERS (5000), PERF_AT (when the 10 s CPU sample
# or profile starts, default 60 s after the server), SIDE (the world's side in px,
# default 16000; 22600 keeps 10,000 players as dense as 5,000 on 16000), PERF=1 to record a 10 s perf
# profile of the server (AB_DIR/perf.TAG.data) 60 s after start. The server is pinned to CPU 0,
# the benchmark to CPU 1. Prints the summary lines and the server's user/system CPU split.
set -uo pipefail
cd "$(dirname "$0")/../.."

DIR=${AB_DIR:-/tmp/cmmo-ab}
PLAYERS=${PLAYERS:-5000}
SIDE=${SIDE:-16000}
BENCH=build/cmmo-bench
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
PORT=18140
# Each server is stopped with SIGTERM: no drain window before it.
export CMMO_DRAIN_SECONDS=0

start() { # start SERVER DB [ARGS...]: SERVER_PID
  local bin=$1 db=$2
  shift 2
  taskset -c 0 "$bin" --port "$PORT" --host 127.0.0.1 --db "sqlite:$db" --web-root web "$@" \
    2>"$DIR/server.log" &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    grep -q listening "$DIR/server.log" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "ab: the server did not start: $(tail -n 3 "$DIR/server.log")" >&2
  exit 1
}

stop() {
  kill -TERM "$SERVER_PID" 2>/dev/null
  wait "$SERVER_PID" 2>/dev/null
}

case "${1:-}" in
prepare)
  mkdir -p "$DIR"
  rm -f "$DIR"/grid.db*
  start build/cmmo-server "$DIR/grid.db"
  taskset -c 1 "$BENCH" --port "$PORT" --register-only --prefix a --players "$PLAYERS" \
    --rate 500 --max-runtime 3600 --json "$DIR/register.json" >/dev/null || exit 1
  stop
  "$PY" tools/bench/place_grid.py "$DIR/grid.db" "$PLAYERS" "$SIDE" "$SIDE" || exit 1
  echo "ab: $PLAYERS accounts on the grid in $DIR/grid.db"
  ;;
run)
  [ $# -ge 3 ] || { echo "usage: $0 run SERVER TAG [BENCH ARGS...]" >&2; exit 2; }
  bin=$2 tag=$3
  shift 3
  [ -f "$DIR/grid.db" ] || { echo "ab: run '$0 prepare' first" >&2; exit 2; }
  cp "$DIR/grid.db" "$DIR/run.db"
  rm -f "$DIR"/run.db-wal "$DIR"/run.db-shm
  start "$bin" "$DIR/run.db" --world "${SIDE}x$SIDE" --view-radius 1000
  (
    sleep "${PERF_AT:-60}"
    read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$SERVER_PID/stat")
    if [ "${PERF:-0}" = 1 ]; then
      perf record -e cpu-clock -F 999 -g -p "$SERVER_PID" -o "$DIR/perf.$tag.data" -- sleep 10 \
        >/dev/null 2>&1
    else
      sleep 10
    fi
    read -r u2 s2 < <(awk '{print $14, $15}' "/proc/$SERVER_PID/stat")
    echo "server CPU over 10 s: user $((u2 - u1)) system $((s2 - s1)) (clock ticks of 10 ms)"
  ) &
  sampler=$!
  taskset -c 1 "$BENCH" --port "$PORT" --players "$PLAYERS" --reuse --prefix a \
    --world "${SIDE}x$SIDE" --target-interval 3 --target-radius 1000 --chat-interval 60 --warmup 5 \
    --duration 30 --rate 500 --max-inflight 64 --server-pid "$SERVER_PID" "$@" \
    --json "$DIR/$tag.json" 2>&1 | grep -E "chat latency|tick|server:|observer|per client|bench itself"
  wait "$sampler" 2>/dev/null
  stop
  ;;
*)
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
  ;;
esac
