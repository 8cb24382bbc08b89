"""`make bench-cluster`: what a cluster costs per player, against one node, in the same sitting.

Starts PostgreSQL and Redis on loopback (as the cluster tests do), registers the accounts once,
then runs each workload twice with the release build (build/cmmo-server, or CMMO_SERVER) and the
C load generator (build/cmmo-bench, one process for every node: --ports):
  single   every player on one node without --redis
  cluster  BENCH_NODES nodes (3) with --redis, player i on node i mod N
Workloads (BENCH_WORKLOADS, default "open crowded"):
  open     BENCH_PLAYERS (1500) spread over an even grid of a world as dense as `make bench`'s open
           world (5,000 over 16000 x 16000), view radius 1000; a Target within 1000 px every 3 s,
           a Chat every 60 s (every chat is expected by every other player, cluster-wide)
  crowded  BENCH_CROWDED_PLAYERS (200) on the tutorial map, everyone sees everyone; a Target
           within 200 px every 0.5 s, a Chat every 2 s
Measured over the bench's window (BENCH_DURATION s, default 30): CPU seconds of every node plus
Redis per player-second (from /proc, sampled when the bench opens and closes its window), chat
delivery and latency, and movement latency seen by an observer, split by whether the observer is
on the mover's node. The figures go to build/bench-cluster.json and a table on stdout.

On one machine the nodes, Redis, PostgreSQL and the bench share the cores: this measures cost,
not capacity. The machine should be otherwise idle.
"""

import json
import math
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
os.environ.setdefault("CMMO_SERVER", os.path.join(REPO, "build", "cmmo-server"))
sys.path.insert(0, HERE)

import cluster  # noqa: E402
import harness  # noqa: E402

BENCH = os.path.join(REPO, "build", "cmmo-bench")
PLAYERS = int(os.environ.get("BENCH_PLAYERS", "1500"))
CROWDED_PLAYERS = int(os.environ.get("BENCH_CROWDED_PLAYERS", "200"))
NODES = int(os.environ.get("BENCH_NODES", "3"))
DURATION = float(os.environ.get("BENCH_DURATION", "30"))
WORKLOADS = os.environ.get("BENCH_WORKLOADS", "open crowded").split()
PREFIX = "c"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def open_world(players):
    """A square world as dense as `make bench`'s open world (5,000 over 16000 x 16000)."""
    side = int(math.ceil(16000 * math.sqrt(players / 5000.0) / 100.0) * 100)
    return side, side


WORKLOAD = {
    "open": lambda: dict(players=PLAYERS, world=open_world(PLAYERS), view_radius=1000,
                         bench=["--target-interval", "3", "--target-radius", "1000",
                                "--chat-interval", "60"]),
    "crowded": lambda: dict(players=CROWDED_PLAYERS, world=(1344, 832), view_radius=0,
                            bench=["--target-interval", "0.5", "--target-radius", "200",
                                   "--chat-interval", "2"]),
}


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def psql(pg, sql):
    bindir = subprocess.run(["bash", "-c", "ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1"],
                            capture_output=True, text=True).stdout.strip()
    subprocess.run([os.path.join(bindir, "psql"), pg.url, "-q", "-v", "ON_ERROR_STOP=1", "-c",
                    sql], check=True, capture_output=True, timeout=120)


def place_grid(pg, players, world):
    """Every account on its cell of the even grid the bench's --spread uses (as
    tools/bench/place_grid.py does for SQLite): the run starts spread out."""
    w, h = world
    cols = max(1, math.ceil(math.sqrt(players * w / h)))
    rows = (players + cols - 1) // cols
    psql(pg, "UPDATE instanced_entity i SET x = (v.n %% %d + 0.5) * %f / %d, "
             "y = (v.n / %d + 0.5) * %f / %d FROM (SELECT a.instanced_entity_id AS id, "
             "substring(u.username from %d)::int AS n FROM \"user\" u JOIN actor a "
             "ON a.user_id = u.id WHERE u.username LIKE 'b%s%%') v WHERE i.id = v.id"
             % (cols, w, cols, cols, h, rows, len(PREFIX) + 2, PREFIX))


def bench_args(ports, players, spec, out):
    w, h = spec["world"]
    return [BENCH, "--ports", ",".join(str(p) for p in ports), "--players", str(players),
            "--reuse", "--prefix", PREFIX, "--world", "%dx%d" % (w, h), "--warmup", "5",
            "--duration", str(DURATION), "--rate", "100", "--json", out, "--seed", "1"] + \
        spec["bench"]


def run_mode(pg, redis, spec, mode, label):
    players = spec["players"]
    w, h = spec["world"]
    args = ["--world", "%dx%d" % (w, h)]
    if spec["view_radius"]:
        args += ["--view-radius", str(spec["view_radius"])]
    place_grid(pg, players, spec["world"])
    if mode == "single":
        one = harness.Server(log_level="info", extra_args=args)
        one.args = lambda s=one: [pg.url if a == "sqlite:" + s.db_path else a
                                  for a in harness.Server.args(s)]
        nodes = [one]
    else:
        nodes = [cluster.Node(pg.url, redis.url, "bench-%d" % i, args, log_level="info")
                 for i in range(NODES)]
    pids = []
    try:
        for n in nodes:
            n.start()
        pids = [n.proc.pid for n in nodes] + ([redis.proc.pid] if mode == "cluster" else [])
        out = os.path.join(REPO, "build", "bench-cluster-%s-%s.json" % (label, mode))
        proc = subprocess.Popen(bench_args([n.port for n in nodes], players, spec, out),
                                stderr=subprocess.PIPE, text=True)
        start = end = None
        for line in proc.stderr:
            sys.stderr.write(line)
            if "window open" in line:
                start = (time.monotonic(), [cpu_seconds(p) for p in pids])
            elif "window closed" in line:
                end = (time.monotonic(), [cpu_seconds(p) for p in pids])
        if proc.wait() != 0 or not start or not end:
            raise RuntimeError("cmmo-bench failed (exit %s)" % proc.returncode)
        with open(out) as f:
            result = json.load(f)
    finally:
        for n in nodes:
            if n.proc is not None:
                n.stop_and_check()
    window = end[0] - start[0]
    each = [b - a for a, b in zip(start[1], end[1])]
    cpu = sum(each)
    redis_cpu = each[-1] if mode == "cluster" else 0.0
    in_play = result.get("ramp", {}).get("logged_in", players)
    move = result.get("movement", {})
    return {
        "nodes": len(nodes), "players": players, "in_play": in_play, "window_s": round(window, 2),
        "cpu_s": round(cpu, 3),
        "cpu_ms_per_player_s": round(1000 * cpu / (window * max(in_play, 1)), 4),
        "redis_cpu_s": round(redis_cpu, 3),
        "redis_cpu_ms_per_player_s": round(1000 * redis_cpu / (window * max(in_play, 1)), 4),
        "chat": result.get("chat", {}), "move_observer_ms": move.get("observer_ms"),
        "move_observer_remote_ms": move.get("observer_remote_ms"),
        "move_observer_local_ms": move.get("observer_local_ms"),
        "problems": [p for n in nodes for p in n.problems],
    }


def register(pg, players):
    reg = harness.Server(log_level="info")
    reg.args = lambda s=reg: [pg.url if a == "sqlite:" + s.db_path else a
                              for a in harness.Server.args(s)]
    reg.start()
    try:
        subprocess.run([BENCH, "--port", str(reg.port), "--players", str(players), "--prefix",
                        PREFIX, "--register-only", "--rate", "100", "--quiet", "--json",
                        os.devnull], check=True, timeout=3600)
    finally:
        reg.stop_and_check()


def p99(lat):
    return (lat or {}).get("p99")


def main():
    for binary in (os.environ["CMMO_SERVER"], BENCH):
        if not os.access(binary, os.X_OK):
            print("bench-cluster: %s is missing (make build)" % binary, file=sys.stderr)
            return 2
    redis = cluster.Redis().start()
    pg = cluster.Postgres()
    results = {"nodes": NODES, "duration_s": DURATION, "server": os.environ["CMMO_SERVER"],
               "workloads": {}}
    try:
        pg.start()
        accounts = max(WORKLOAD[w]()["players"] for w in WORKLOADS)
        print("bench-cluster: registering %d accounts" % accounts, file=sys.stderr)
        register(pg, accounts)
        for w in WORKLOADS:
            spec = WORKLOAD[w]()
            results["workloads"][w] = {m: run_mode(pg, redis, spec, m, w)
                                       for m in ("single", "cluster")}
    finally:
        pg.cleanup()
        redis.cleanup()
    out = os.path.join(REPO, "build", "bench-cluster.json")
    with open(out, "w") as f:
        json.dump(results, f, indent=2)
    print("\ncmmo bench-cluster: %d nodes vs one, %.0f s windows, %s"
          % (NODES, DURATION, results["server"]))
    print("| workload | run | players | CPU ms per player-second | chat delivered | chat p99 ms "
          "| move seen by observer p99 ms | ... on the mover's node p99 ms "
          "| ... on another node p99 ms |")
    print("|---|---|---|---|---|---|---|---|---|")
    problems = []
    for w, runs in results["workloads"].items():
        for m, r in runs.items():
            chat = r["chat"]
            print("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                w, m, r["in_play"], r["cpu_ms_per_player_s"], chat.get("delivery_ratio"),
                p99(chat.get("latency_ms")), p99(r["move_observer_ms"]),
                p99(r["move_observer_local_ms"]) if m == "cluster" else "-",
                p99(r["move_observer_remote_ms"]) if m == "cluster" else "-"))
            problems += r["problems"]
        ratio = runs["cluster"]["cpu_ms_per_player_s"] / max(runs["single"]["cpu_ms_per_player_s"],
                                                             1e-9)
        print("%s: cluster CPU per player = %.2f x single node (Redis %.4f ms per player-second)"
              % (w, ratio, runs["cluster"]["redis_cpu_ms_per_player_s"]))
    print("results in %s" % out)
    if problems:
        print("node problems:\n" + "\n".join(problems))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
