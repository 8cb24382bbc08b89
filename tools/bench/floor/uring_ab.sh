#!/usr/bin/env bash
# Same-sitting A/B of how cmmo-floor hands a tick's bytes to the kernel (issue 15, "the write
# wall"): one write(2) per client per tick (--io write, what the floor and cmmo do today) against
# one IORING_OP_SEND per client, all of them submitted by one io_uring_enter (--io uring). If the
# batch does not make the floor cheaper it cannot make cmmo cheaper; if it does, the ratio here is
# the most cmmo's net layer could gain from taking it.
#
#   tools/bench/floor/uring_ab.sh [-r ROUNDS] [-s SECONDS] [-o FILE.jsonl] [CLIENTS:FRAMES:BYTES ...]
#
# Shapes are per tick (20 ticks a second); default "500:100:1900" (~ cmmo.v2 crowded 500) and
# "5000:1:600" (~ an open world of 5,000). Each round runs every shape in both modes back to back,
# write first in odd rounds and uring first in even ones (so a drift of the machine does not
# favour one mode). A run: build/cmmo-floor serve pinned to CPU 0, its readers (cmmo-floor read)
# to CPU 1; after a 3 s warm-up, the server's CPU (utime + stime of /proc/PID/stat, which counts
# every thread of the process, io_uring workers included, live or exited) over SECONDS of wall
# time. The server's threads are listed every second of the window: "tasks" is the most seen at
# once and their names (an io_uring worker is "iou-wrk-PID"), so CPU hiding in kernel worker
# threads would be visible; so would the server's core's busy time from /proc/stat ("core", which
# also counts ksoftirqd and anything else that ran there: should be close to the floor's own).
# The readers' bytes are checked against
# clients * bytes * 20 * their seconds: a run off by more than 10 %, with a missing reader or
# with short writes is flagged BAD (its CPU % is of a different workload) and left out of the
# CPU % medians.
#
# The floor ticks on absolute deadlines; should a tick still cost more than its 50 ms, the rate
# falls, the bytes check fails and a cheaper mode gets more ticks a second. So each run also counts the floor's ticks in the window (SIGUSR1 makes the floor print them)
# and reports CPU ms per tick: every tick is the same bytes to every client at any rate, so that
# figure compares the modes even in a sagging run, if every reader connected and no write was
# short.
#
# Prints one line per run, then per shape the medians of each mode (CPU %, CPU ms per tick, the
# tick rate) and uring / write. With -o, the same as JSON lines: {"kind":"run",...} per run,
# {"kind":"summary",...} per shape.
# Exit status: 0, 1 if a run was flagged, 2 on bad usage or if io_uring is unavailable.
# Defaults: 3 rounds of 20 s: with the two shapes ~ 5 minutes of both cores. Don't run it
# while something else measures on the machine.
set -uo pipefail
cd "$(dirname "$0")/../../.." || exit 2

ROUNDS=3 SECONDS_=20 OUT="" WARMUP=3 TICK_HZ=20
FLOOR=${CMMO_FLOOR:-build/cmmo-floor}
SERVER_CPU=${SERVER_CPU:-0} READER_CPU=${READER_CPU:-1}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

usage() {
  echo "usage: $0 [-r ROUNDS] [-s SECONDS] [-o FILE.jsonl] [CLIENTS:FRAMES:BYTES ...]" >&2
  exit 2
}
while getopts "r:s:o:h" opt; do
  case $opt in
    r) ROUNDS=$OPTARG ;;
    s) SECONDS_=$OPTARG ;;
    o) OUT=$OPTARG ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
shapes=("$@")
[ ${#shapes[@]} -eq 0 ] && shapes=(500:100:1900 5000:1:600)
if ! [[ $ROUNDS =~ ^[1-9][0-9]*$ && $SECONDS_ =~ ^[1-9][0-9]*$ ]]; then usage; fi
for s in "${shapes[@]}"; do
  [[ $s =~ ^[1-9][0-9]*:[1-9][0-9]*:[1-9][0-9]*$ ]] || { echo "uring_ab: bad shape '$s'" >&2; usage; }
done
[ -x "$FLOOR" ] || make -s "$FLOOR" >/dev/null || { echo "uring_ab: cannot build $FLOOR" >&2; exit 2; }
command -v taskset >/dev/null || { echo "uring_ab: needs taskset (util-linux)" >&2; exit 2; }

tmp=$(mktemp -d /tmp/cmmo-uring-ab.XXXXXX)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill -KILL "$server_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
[ -n "$OUT" ] && : >"$OUT"

cpu_model=$(sed -nE 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
kernel=$(uname -r)
echo "uring_ab: $cpu_model, kernel $kernel; $ROUNDS round(s) of ${SECONDS_} s after ${WARMUP} s;" \
  "server on CPU $SERVER_CPU, readers on CPU $READER_CPU"

# cpu_busy N: clock ticks CPU N has spent busy (user, nice, system, irq, softirq) since boot, from
# /proc/stat: whatever ran on the server's core, kernel threads (ksoftirqd) and strangers included.
cpu_busy() {
  awk -v cpu="cpu$1" '$1 == cpu {print $2 + $3 + $4 + $7 + $8}' /proc/stat
}

# floor_ticks PID LOG: the floor's tick count now (SIGUSR1 makes it print its stats line). The
# floor answers between ticks: the count may be one tick late, at each end of a window.
floor_ticks() {
  local before
  before=$(grep -c '^floor ticks=' "$2")
  kill -USR1 "$1"
  for _ in $(seq 1 100); do
    [ "$(grep -c '^floor ticks=' "$2")" -gt "$before" ] && break
    sleep 0.01
  done
  grep '^floor ticks=' "$2" | tail -n1 | sed -nE 's/.*ticks=([0-9]+).*/\1/p'
}

# run_one MODE CLIENTS FRAMES BYTES ROUND: one run; appends its JSON line to $tmp/runs.jsonl.
run_one() {
  local mode=$1 clients=$2 frames=$3 bytes=$4 round=$5 log="$tmp/serve.log"
  taskset -c "$SERVER_CPU" "$FLOOR" serve --frames "$frames" --bytes "$bytes" --io "$mode" \
    --tick-hz "$TICK_HZ" >"$log" 2>&1 &
  server_pid=$!
  local port=
  for _ in $(seq 1 50); do
    port=$(sed -nE 's/.*port=([0-9]+).*/\1/p' "$log" | head -n1)
    [ -n "$port" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$port" ]; then
    wait "$server_pid"
    local rc=$?
    server_pid=
    echo "uring_ab: cmmo-floor serve --io $mode did not start (exit $rc): $(tail -n 2 "$log")" >&2
    # Status 2 is the floor refusing (io_uring unavailable): nothing to compare, stop here.
    [ "$rc" -eq 2 ] && exit 2
    return 1
  fi
  if ! grep -q "io=$mode" "$log"; then # a build from before --io ignores it: measure nothing
    echo "uring_ab: $FLOOR does not know --io (rebuild it: make $FLOOR)" >&2
    exit 2
  fi
  local reader_s=$((WARMUP + SECONDS_ + 1))
  taskset -c "$READER_CPU" "$FLOOR" read --port "$port" --clients "$clients" \
    --seconds "$reader_s" >"$tmp/read.json" 2>/dev/null &
  local rpid=$!
  sleep "$WARMUP"
  local t0 c0 b0 k0 t1 c1 b1 k1 tasks="$tmp/tasks" main_comm
  : >"$tasks"
  main_comm=$(cat "/proc/$server_pid/comm")
  t0=$(date +%s.%N) c0=$(awk '{print $14 + $15}' "/proc/$server_pid/stat")
  b0=$(cpu_busy "$SERVER_CPU")
  k0=$(floor_ticks "$server_pid" "$log")
  for _ in $(seq 1 "$SECONDS_"); do
    sleep 1
    # One line per sample: the names of the server's threads at that moment.
    cat /proc/"$server_pid"/task/*/comm 2>/dev/null | tr '\n' ' ' >>"$tasks"
    echo >>"$tasks"
  done
  t1=$(date +%s.%N) c1=$(awk '{print $14 + $15}' "/proc/$server_pid/stat")
  b1=$(cpu_busy "$SERVER_CPU")
  k1=$(floor_ticks "$server_pid" "$log")
  wait "$rpid"
  kill -TERM "$server_pid" 2>/dev/null
  wait "$server_pid" 2>/dev/null
  server_pid=
  "$PY" - "$mode" "$clients" "$frames" "$bytes" "$round" "$c0" "$c1" "$t0" "$t1" \
    "$(getconf CLK_TCK)" "$TICK_HZ" "$reader_s" "$tmp/read.json" "$log" "$tasks" "$main_comm" \
    "$k0" "$k1" "$b0" "$b1" \
    >>"$tmp/runs.jsonl" <<'EOF'
import json, sys
(mode, clients, frames, bytes_, round_, c0, c1, t0, t1, hz, tick_hz, reader_s, got, log,
 tasks, main_comm, k0, k1, b0, b1) = sys.argv[1:21]
clients, frames, bytes_, tick_hz, reader_s = (int(clients), int(frames), int(bytes_),
                                              int(tick_hz), int(reader_s))
try:
    g = json.load(open(got))
except Exception:
    g = {}
short = ticks = None
for line in open(log):
    if "short_writes=" in line:
        short = int(line.rsplit("short_writes=", 1)[1])
        ticks = int(line.split("ticks=", 1)[1].split()[0])
samples = [l.split() for l in open(tasks) if l.strip()]
names = sorted({n for s in samples for n in s})
expected = clients * bytes_ * tick_hz * reader_s
received = g.get("bytes") or 0
problems = []
if g.get("connected") != clients:
    problems.append("connected %s of %d" % (g.get("connected"), clients))
if abs(received - expected) > 0.1 * expected:
    problems.append("received %d bytes, expected %d +- 10%%" % (received, expected))
if short is None:
    problems.append("no stats line from the floor")
elif short:
    problems.append("%d short writes" % short)
window = float(t1) - float(t0)
cpu_s = (float(c1) - float(c0)) / float(hz)
window_ticks = int(k1) - int(k0) if k0 and k1 else 0
r = {"kind": "run", "mode": mode, "round": int(round_), "clients": clients,
     "frames_per_tick": frames, "bytes_per_tick": bytes_, "window_s": round(window, 3),
     "cpu_percent": round(cpu_s / window * 100, 2),
     "server_cpu_busy_percent": round((float(b1) - float(b0)) / float(hz) / window * 100, 2),
     "window_ticks": window_ticks, "tick_hz": round(window_ticks / window, 2),
     "cpu_ms_per_tick": round(cpu_s * 1000 / window_ticks, 3) if window_ticks else None,
     "tasks": max((len(s) for s in samples), default=0), "task_names": names,
     "other_threads": [n for n in names if n != main_comm],
     "ticks": ticks, "short_writes": short, "connected": g.get("connected"),
     "bytes_received": received, "bytes_expected": expected,
     "ok": not problems, "problems": problems,
     # The same bytes to every client each tick whatever the rate: comparable between modes
     # even when a run's rate sagged (its bytes check then fails), as long as nobody was lost.
     "per_tick_ok": bool(window_ticks) and g.get("connected") == clients and short == 0}
print(json.dumps(r))
EOF
  tail -n1 "$tmp/runs.jsonl" | "$PY" -c '
import json, sys
r = json.loads(sys.stdin.read())
print("round %d %-5s %5d clients x %3d frames / %5d B: cpu %6.2f%% (core %.2f%%)  %s ms/tick at "
      "%.1f Hz  tasks %d (%s)  bytes %.3f of expected%s"
      % (r["round"], r["mode"], r["clients"], r["frames_per_tick"], r["bytes_per_tick"],
         r["cpu_percent"], r["server_cpu_busy_percent"], r["cpu_ms_per_tick"], r["tick_hz"], r["tasks"],
         " ".join(r["task_names"]),
         r["bytes_received"] / r["bytes_expected"],
         "" if r["ok"] else "  BAD: " + "; ".join(r["problems"])))'
}

for round in $(seq 1 "$ROUNDS"); do
  modes=(write uring)
  [ $((round % 2)) -eq 0 ] && modes=(uring write)
  for shape in "${shapes[@]}"; do
    IFS=: read -r clients frames bytes <<<"$shape"
    for mode in "${modes[@]}"; do
      run_one "$mode" "$clients" "$frames" "$bytes" "$round"
    done
  done
done

"$PY" - "$tmp/runs.jsonl" "$cpu_model" "$kernel" "$SECONDS_" "${OUT:-/dev/null}" <<'EOF'
import json, statistics, sys
runs_file, cpu_model, kernel, seconds, out = sys.argv[1:6]
runs = [json.loads(l) for l in open(runs_file) if l.strip()]
shapes = []
for r in runs:
    s = (r["clients"], r["frames_per_tick"], r["bytes_per_tick"])
    if s not in shapes:
        shapes.append(s)
lines = [dict(r, cpu_model=cpu_model, kernel=kernel) for r in runs]
print("summary (%s, kernel %s; medians over %s s windows; cpu %% over runs not flagged, ms / tick "
      "over runs where every reader connected and no write was short):" % (cpu_model, kernel, seconds))
def median(runs, key, good):
    xs = [r[key] for r in runs if r[good]]
    return (round(statistics.median(xs), 3) if xs else None), len(xs)

def ratio(u, w):
    return round(u / w, 3) if u is not None and w else None

for s in shapes:
    mine = [r for r in runs if (r["clients"], r["frames_per_tick"], r["bytes_per_tick"]) == s]
    by_mode = {m: [r for r in mine if r["mode"] == m] for m in ("write", "uring")}
    cpu = {m: median(by_mode[m], "cpu_percent", "ok") for m in by_mode}
    tick = {m: median(by_mode[m], "cpu_ms_per_tick", "per_tick_ok") for m in by_mode}
    hz = {m: median(by_mode[m], "tick_hz", "per_tick_ok")[0] for m in by_mode}
    core = {m: median(by_mode[m], "server_cpu_busy_percent", "ok")[0] for m in by_mode}
    extra = sorted({n for r in mine for n in r["other_threads"]})
    print("  %5d clients x %3d frames / %5d B:" % s)
    print("    cpu %%      write %s (%d runs, core %s)  uring %s (%d runs, core %s)  uring/write %s"
          % (cpu["write"][0], cpu["write"][1], core["write"], cpu["uring"][0], cpu["uring"][1],
             core["uring"], ratio(cpu["uring"][0], cpu["write"][0])))
    print("    ms / tick  write %s (%d runs, %s Hz)  uring %s (%d runs, %s Hz)  uring/write %s"
          % (tick["write"][0], tick["write"][1], hz["write"], tick["uring"][0], tick["uring"][1],
             hz["uring"], ratio(tick["uring"][0], tick["write"][0])))
    print("    threads besides the main one: %s" % (" ".join(extra) or "none"))
    lines.append({"kind": "summary", "clients": s[0], "frames_per_tick": s[1],
                  "bytes_per_tick": s[2], "window_s": int(seconds),
                  "write_cpu_percent_median": cpu["write"][0], "write_runs": cpu["write"][1],
                  "uring_cpu_percent_median": cpu["uring"][0], "uring_runs": cpu["uring"][1],
                  "ratio_uring_to_write": ratio(cpu["uring"][0], cpu["write"][0]),
                  "server_cpu_busy_percent_median": core,
                  "write_cpu_ms_per_tick_median": tick["write"][0],
                  "uring_cpu_ms_per_tick_median": tick["uring"][0],
                  "per_tick_runs": {"write": tick["write"][1], "uring": tick["uring"][1]},
                  "tick_hz_median": hz,
                  "ratio_per_tick_uring_to_write": ratio(tick["uring"][0], tick["write"][0]),
                  "other_threads": extra, "cpu_model": cpu_model, "kernel": kernel})
with open(out, "a") as f:
    for l in lines:
        f.write(json.dumps(l) + "\n")
sys.exit(0 if all(r["ok"] for r in runs) else 1)
EOF
