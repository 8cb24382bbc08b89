"""`make bench-cluster`: chat and movement latency across two cluster nodes against one node.

Starts PostgreSQL and Redis on loopback (as the cluster tests do), then runs the same workload
twice with the release build (build/cmmo-server, or CMMO_SERVER):
  single   every player on one node without --redis
  cluster  two nodes with --redis, players split evenly between them
Each player chats every CHAT_S seconds (the send time is in the text) and walks to a point within
TARGET_R px every TARGET_S seconds (standing still in between, so the first step is clear).
Latency is measured from the send to the arrival at every other player, split by whether the
receiver is on the sender's node. The client is Python (one asyncio loop): its own overhead is in
every figure, the same in both runs. Writes build/bench-cluster.json and prints a table.

Environment: BENCH_PLAYERS (default 60), BENCH_DURATION (s, default 20).
"""

import asyncio
import json
import os
import random
import statistics
import sys
import time

os.environ.setdefault("CMMO_SERVER", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  "..", "..", "build", "cmmo-server"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cluster  # noqa: E402
import harness  # noqa: E402
from harness import Client, pkt  # noqa: E402

PLAYERS = int(os.environ.get("BENCH_PLAYERS", "60"))
DURATION = float(os.environ.get("BENCH_DURATION", "20"))
CHAT_S = 2.0
TARGET_S = 2.0
TARGET_R = 40.0
PASSWORD = "bench-pass-1"


class Stats:
    def __init__(self):
        self.samples = {"chat_same": [], "chat_cross": [], "move_same": [], "move_cross": []}
        self.chat_expected = 0
        self.chat_got = 0

    def summary(self):
        out = {}
        for k, v in self.samples.items():
            if v:
                v = sorted(v)
                out[k] = {"n": len(v), "p50_ms": round(statistics.median(v) * 1000, 2),
                          "p99_ms": round(v[min(len(v) - 1, int(len(v) * 0.99))] * 1000, 2),
                          "max_ms": round(v[-1] * 1000, 2)}
        out["chat_delivery"] = round(self.chat_got / self.chat_expected, 4) \
            if self.chat_expected else None
        return out


async def run(nodes, names, stats):
    clients = []
    for i, name in enumerate(names):
        node = nodes[i % len(nodes)]
        c = await Client.connect(node.url, label=name)
        r = await c.login(name, PASSWORD)
        if r["a"] != "Ok":
            raise RuntimeError("login of %s failed: %s" % (name, r))
        c.node = i % len(nodes)
        c.index = i
        clients.append(c)
    by_id = {c.aid: c for c in clients}
    move_sent = {}  # actor id -> (time, seen by) of the Target it is answering
    await asyncio.sleep(2.0)  # everyone introduced everywhere
    measuring = {"on": True}

    def watch(c):
        start = len(c.packets)

        async def loop():
            nonlocal start
            while measuring["on"] or start < len(c.packets):
                while start < len(c.packets):
                    p, t = c.packets[start], c.times[start]
                    start += 1
                    if p.get("a") == "Chat" and str(p.get("p1", "")).startswith("bench "):
                        _, sender, sent = p["p1"].split()
                        s = clients[int(sender)]
                        key = "chat_same" if s.node == c.node else "chat_cross"
                        stats.samples[key].append(t - float(sent))
                        stats.chat_got += 1
                    elif p.get("a") == "ModelDelta" and isinstance(p.get("p0"), dict):
                        aid = p["p0"].get("id")
                        m = move_sent.get(aid)
                        if m and aid != c.aid and c.index not in m[1]:
                            m[1].add(c.index)
                            mover = by_id[aid]
                            key = "move_same" if mover.node == c.node else "move_cross"
                            stats.samples[key].append(t - m[0])
                await asyncio.sleep(0.005)
        return asyncio.get_running_loop().create_task(loop())

    watchers = [watch(c) for c in clients]

    async def act(c):
        rnd = random.Random(c.index)
        await asyncio.sleep(rnd.random() * CHAT_S)
        pos = (c.own["instanced_entity"]["x"], c.own["instanced_entity"]["y"])
        end = time.monotonic() + DURATION
        next_chat = next_move = time.monotonic()
        while time.monotonic() < end:
            now = time.monotonic()
            if now >= next_move:
                tx = min(max(pos[0] + rnd.uniform(-TARGET_R, TARGET_R), 10), 1300)
                ty = min(max(pos[1] + rnd.uniform(-TARGET_R, TARGET_R), 10), 800)
                pos = (tx, ty)
                move_sent[c.aid] = (time.monotonic(), set())
                await c.send(pkt("Target", tx, ty))
                next_move += TARGET_S
            if now >= next_chat:
                await c.send(pkt("Chat", c.name, "bench %d %.6f" % (c.index, time.monotonic())))
                stats.chat_expected += len(clients) - 1
                next_chat += CHAT_S
            await asyncio.sleep(min(next_chat, next_move) - time.monotonic())

    await asyncio.gather(*(act(c) for c in clients))
    await asyncio.sleep(1.5)
    measuring["on"] = False
    await asyncio.gather(*watchers)
    for c in clients:
        await c.close()


def main():
    random.seed(1)
    redis = cluster.Redis().start()
    pg = cluster.Postgres()
    nodes = []
    results = {"players": PLAYERS, "duration_s": DURATION, "server": harness.SERVER_BIN}
    loop = asyncio.new_event_loop()
    try:
        pg.start()
        names = ["bc%d_%d" % (os.getpid() % 1000, i) for i in range(PLAYERS)]
        # Accounts, registered once (argon2id makes this the slow part).
        reg = cluster.Node(pg.url, redis.url, "bench-reg", log_level="info")
        nodes.append(reg)
        reg.start()

        async def register_all():
            for n in names:
                c = await Client.connect(reg.url)
                r = await c.register(n, PASSWORD)
                if r["a"] != "Ok":
                    raise RuntimeError("register %s: %s" % (n, r))
                await c.close()
        loop.run_until_complete(register_all())
        reg.stop_and_check()

        for mode in ("single", "cluster"):
            if mode == "single":
                one = harness.Server(log_level="info")
                one.db_url = pg.url
                one.args = lambda s=one: [a if a != "sqlite:" + s.db_path else pg.url
                                          for a in harness.Server.args(s)]
                run_nodes = [one]
            else:
                run_nodes = [cluster.Node(pg.url, redis.url, "bench-%d" % i, log_level="info")
                             for i in range(2)]
            nodes += run_nodes
            for n in run_nodes:
                n.start()
            stats = Stats()
            loop.run_until_complete(run(run_nodes, names, stats))
            results[mode] = stats.summary()
            for n in run_nodes:
                n.stop_and_check()
    finally:
        for n in nodes:
            if n.proc is not None:
                n.stop_and_check()
        pg.cleanup()
        redis.cleanup()
        loop.close()
    problems = [p for n in nodes for p in n.problems]
    out = os.path.join(cluster.REPO, "build", "bench-cluster.json")
    with open(out, "w") as f:
        json.dump(results, f, indent=2)
    print("\ncmmo bench-cluster: %d players, %.0f s, %s" % (PLAYERS, DURATION,
                                                           results["server"]))
    print("| latency (ms) | single node p50 / p99 | cluster, same node p50 / p99 "
          "| cluster, across nodes p50 / p99 |")
    print("|---|---|---|---|")
    for kind in ("chat", "move"):
        s = results["single"].get(kind + "_same", {})
        a = results["cluster"].get(kind + "_same", {})
        b = results["cluster"].get(kind + "_cross", {})
        print("| %s | %s / %s | %s / %s | %s / %s |" % (
            kind, s.get("p50_ms"), s.get("p99_ms"), a.get("p50_ms"), a.get("p99_ms"),
            b.get("p50_ms"), b.get("p99_ms")))
    print("chat delivery ratio: single %s, cluster %s" % (results["single"]["chat_delivery"],
                                                          results["cluster"]["chat_delivery"]))
    print("results in %s" % out)
    if problems:
        print("node problems:\n" + "\n".join(problems))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
