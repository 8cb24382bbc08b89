"""A cmmo cluster, black box: real PostgreSQL and Redis servers on loopback, three nodes sharing
them (and extra nodes for the tests that stop one), players on different nodes.

Run through tests/cluster/run.sh. docs/SCALING.md describes what is tested here.
"""

import asyncio
import functools
import math
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cluster  # noqa: E402
from harness import (Client, STEP, dist, is_chat, is_disconnect, is_full_model_of,  # noqa: E402
                     is_move_of, pkt, position_of, unique_name)

PASSWORD = "cluster-pass-1"
# Presence claims expire after 15 s (CLUSTER_PRESENCE_TTL_MS); remote actors after 3 s
# (CLUSTER_REMOTE_TIMEOUT_MS). The tests wait a little longer than each.
CLAIM_EXPIRY_S = 15.0
REMOTE_EXPIRY_S = 3.0
TEST_TIMEOUT = 90.0


def async_test(fn):
    @functools.wraps(fn)
    def run(self):
        self.loop.run_until_complete(asyncio.wait_for(fn(self), TEST_TIMEOUT))
    return run


class ClusterCase(unittest.TestCase):
    """One PostgreSQL, one Redis and the nodes of node_ids (bound as a, b, c in that order), each
    started with node_args, for the whole class."""

    node_ids = ("node-a", "node-b", "node-c")
    node_args = ()

    @classmethod
    def setUpClass(cls):
        cls.loop = asyncio.new_event_loop()
        cls.redis = cluster.Redis().start()
        cls.pg = cluster.Postgres()
        cls.nodes = []
        try:
            cls.pg.start()
            for attr, node_id in zip("abc", cls.node_ids):
                setattr(cls, attr, cls.node(node_id, list(cls.node_args)))
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def node(cls, node_id, extra_args=()):
        n = cluster.Node(cls.pg.url, cls.redis.url, node_id, extra_args)
        cls.nodes.append(n)
        return n.start()

    @classmethod
    def tearDownClass(cls):
        problems = []
        for n in cls.nodes:
            n.stop_and_check()
            problems += n.problems
            n.cleanup_files()
        cls.pg.cleanup()
        cls.redis.cleanup()
        cls.loop.close()
        if problems:
            raise AssertionError("node problems:\n" + "\n".join(problems))

    def setUp(self):
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            self.loop.run_until_complete(c.close())

    async def connect(self, node, label=""):
        c = await Client.connect(node.url, label=label)
        self.clients.append(c)
        return c

    async def player(self, node, tag, register_on=None):
        """A new account (registered on register_on, default node) logged in on node."""
        name = unique_name(tag)
        reg = await self.connect(register_on or node, "register " + name)
        r = await reg.register(name, PASSWORD)
        self.assertEqual(r["a"], "Ok", r)
        await reg.close()
        c = await self.connect(node, name)
        r = await c.login(name, PASSWORD)
        self.assertEqual(r["a"], "Ok", r)
        return c

    async def login_until_ok(self, node, name, within):
        """Logs in, retrying while the answer is "already logged in"; returns (client, tries)."""
        deadline = time.monotonic() + within
        tries = 0
        while True:
            tries += 1
            c = await self.connect(node, name)
            r = await c.login(name, PASSWORD)
            if r["a"] == "Ok":
                return c, tries
            self.assertEqual(r.get("p0"), "You are already logged in", r)
            await c.close()
            if time.monotonic() > deadline:
                self.fail("%s could not log in on %s within %.0f s" % (name, node.node_id,
                                                                        within))
            await asyncio.sleep(0.5)


class TestPresenceAndChat(ClusterCase):

    @async_test
    async def test_registered_on_one_node_logs_in_on_another(self):
        p = await self.player(self.b, "reg", register_on=self.a)
        self.assertEqual(p.own["instanced_entity"]["entity"]["name"], p.name)

    @async_test
    async def test_duplicate_login_on_another_node_is_refused(self):
        p = await self.player(self.a, "dup")
        for node in (self.b, self.c, self.a):
            other = await self.connect(node, "second " + p.name)
            r = await other.login(p.name, PASSWORD)
            self.assertEqual(r, pkt("Deny", "You are already logged in"))
            await other.close()

    @async_test
    async def test_after_logout_the_account_plays_on_another_node_at_its_saved_position(self):
        p = await self.player(self.a, "move")
        await p.send(pkt("Target", 40, 30))
        target = (40.0, 30.0)
        await p.wait_for(lambda q: is_move_of(p.aid)(q) and position_of(q) == target,
                         timeout=10, what="arrival")
        name = p.name
        await p.close()
        # The claim is released once the position is committed: the next node reads it.
        q, tries = await self.login_until_ok(self.b, name, within=5)
        pos = q.own["instanced_entity"]
        self.assertEqual((pos["x"], pos["y"]), target)

    @async_test
    async def test_chat_reaches_every_node_once_in_order_and_is_not_echoed(self):
        s = await self.player(self.a, "talk")
        local = await self.player(self.a, "hearA")
        r_b = await self.player(self.b, "hearB")
        r_c = await self.player(self.c, "hearC")
        await asyncio.sleep(0.3)
        lines = ["cluster line %d %s" % (i, s.name) for i in range(6)]
        marks = {c: c.mark() for c in (s, local, r_b, r_c)}
        for text in lines:
            await s.chat(text)
        for c in (local, r_b, r_c):
            for text in lines:
                got = await c.wait_for(is_chat(text), what="chat %r" % text)
                self.assertEqual(got["p0"], s.name)
        await asyncio.sleep(0.5)  # any duplicate would have arrived by now
        for c in (local, r_b, r_c):
            heard = [p["p1"] for p in c.since(marks[c], is_chat()) if p["p1"] in lines]
            self.assertEqual(heard, lines, "%s heard %s" % (c.name, heard))
        self.assertEqual([p for p in s.since(marks[s], is_chat()) if p["p1"] in lines], [])


class TestRemoteActors(ClusterCase):

    @async_test
    async def test_players_on_two_nodes_see_each_other_walk_smoothly(self):
        w = await self.player(self.a, "walker")
        o = await self.player(self.b, "watcher")
        # Each sees the other's full model (the remote one within a keyframe at most).
        await o.wait_for(is_full_model_of(w.aid), timeout=5, what="walker's model on node b")
        await w.wait_for(is_full_model_of(o.aid), timeout=5, what="watcher's model on node a")
        start = o.mark()
        await w.send(pkt("Target", 400, 300))
        t0 = time.monotonic()
        first = await o.wait_for(is_move_of(w.aid), timeout=5, what="the first remote step")
        hop = time.monotonic() - t0
        await o.wait_for(lambda q: is_move_of(w.aid)(q) and position_of(q) == (400.0, 300.0),
                         timeout=15, what="the walker's arrival seen from node b")
        steps = [position_of(q) for q in o.since(start, is_move_of(w.aid))]
        jumps = [dist(a, b) for a, b in zip(steps, steps[1:])]
        # Smooth: one step per tick; the hop's jitter may merge two steps now and then.
        self.assertLessEqual(max(jumps), 2 * STEP + 0.01, jumps)
        self.assertGreaterEqual(sum(1 for j in jumps if abs(j - STEP) < 0.01), len(jumps) * 0.8,
                                jumps)
        self.assertLess(hop, 1.0, "first remote step after %.3f s" % hop)
        self.assertIsNotNone(first)

    @async_test
    async def test_a_node_killed_with_sigkill_leaves_view_and_its_players_move_on(self):
        d = self.node("node-d")
        try:
            watcher = await self.player(self.a, "seesD")
            victim = await self.player(d, "onD")
            await watcher.wait_for(is_full_model_of(victim.aid), timeout=5,
                                   what="node d's player seen from node a")
            await victim.send(pkt("Target", 123, 77))
            await victim.wait_for(lambda q: is_move_of(victim.aid)(q)
                                  and position_of(q) == (123.0, 77.0), timeout=10,
                                  what="arrival on node d")
            await asyncio.sleep(1.5)  # written behind (every second)
            name = victim.name
            d.kill9()
            victim.abort()
            t0 = time.monotonic()
            await watcher.wait_for(is_disconnect(victim.aid), timeout=REMOTE_EXPIRY_S + 3,
                                   what="node d's player leaving view")
            gone = time.monotonic() - t0
            # The claim of the dead node holds until it expires, then the player moves on.
            again, tries = await self.login_until_ok(self.b, name, within=CLAIM_EXPIRY_S + 5)
            waited = time.monotonic() - t0
            pos = again.own["instanced_entity"]
            self.assertEqual((pos["x"], pos["y"]), (123.0, 77.0))
            self.assertLess(gone, REMOTE_EXPIRY_S + 2)
            self.assertLess(waited, CLAIM_EXPIRY_S + 5)
            print("\n  kill -9: out of view after %.2f s, logged in again after %.2f s (%d tries)"
                  % (gone, waited, tries), file=sys.stderr)
        finally:
            if d.proc is not None:
                d.kill9()

    @async_test
    async def test_a_node_stopped_cleanly_releases_its_players_at_once(self):
        e = self.node("node-e")
        watcher = await self.player(self.c, "seesE")
        p = await self.player(e, "onE")
        await watcher.wait_for(is_full_model_of(p.aid), timeout=5, what="node e's player")
        name = p.name
        e.stop_and_check()
        self.assertEqual(e.problems, [])
        await watcher.wait_for(is_disconnect(p.aid), timeout=1.5, what="node e's player leaving")
        q, tries = await self.login_until_ok(self.b, name, within=1)
        self.assertEqual(tries, 1)


class TestRegions(ClusterCase):
    """A large world with a view radius: nodes follow only the regions their players see."""

    node_ids = ("grid-a", "grid-b", "grid-c")
    node_args = ("--world", "4000x4000", "--view-radius", "200")

    @async_test
    async def test_remote_players_appear_only_within_the_view_radius(self):
        near = await self.player(self.a, "near")
        far = await self.player(self.b, "far")
        # Both start at (0, 0): they see each other across nodes.
        await near.wait_for(is_full_model_of(far.aid), timeout=5, what="far's model")
        # far walks away (70 px/s: 600 px takes ~9 s) and leaves near's view.
        await far.send(pkt("Target", 600, 0))
        await near.wait_for(is_disconnect(far.aid), timeout=15, what="far leaving view")
        # and comes back into view: walking, seen step by step again.
        await far.wait_for(lambda q: is_move_of(far.aid)(q) and position_of(q) == (600.0, 0.0),
                           timeout=15, what="far's arrival")
        await far.send(pkt("Target", 100, 0))
        await near.wait_for(is_full_model_of(far.aid), timeout=15, what="far back in view")
        await near.wait_for(is_move_of(far.aid), timeout=5, what="far walking in view")

    @async_test
    async def test_chat_is_global_whatever_the_regions(self):
        s = await self.player(self.a, "gtalk")
        r = await self.player(self.c, "ghear")
        await r.send(pkt("Target", 3000, 3000))
        await asyncio.sleep(0.3)
        await s.chat("hello far away")
        got = await r.wait_for(is_chat("hello far away"), what="global chat")
        self.assertEqual(got["p0"], s.name)


CLUSTER_SCRIPT = """
cmmo.spawn_npc{name = "Node Guide*", x = 10, y = 10}
cmmo.on("chat", function(p, t)
  if t == "/local" then p:tell("local " .. #cmmo.players()) return false end
  return (t:gsub("darn", "****"))
end)
"""


class TestScripts(ClusterCase):
    """Two nodes running one script (docs/SCRIPTING.md, "Clusters"): hooks run where the player
    is, chat is shared after them, NPCs and the player list are node-local."""

    @classmethod
    def setUpClass(cls):
        import tempfile
        cls.script_dir = tempfile.mkdtemp(prefix="cmmo-cluster-script-")
        path = os.path.join(cls.script_dir, "cluster.lua")
        with open(path, "w") as f:
            f.write(CLUSTER_SCRIPT)
        cls.node_ids = ("node-a", "node-b")
        cls.node_args = ("--script", path)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        import shutil
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.script_dir, ignore_errors=True)

    @async_test
    async def test_chat_is_filtered_where_said_and_npcs_and_players_stay_on_their_node(self):
        pa = await self.player(self.a, "sa")
        pb = await self.player(self.b, "sb")
        await pa.chat("a darn fine day")
        got = await pb.wait_for(is_chat("a **** fine day"), what="the filtered line on node b")
        self.assertEqual(got["p0"], pa.name)
        await pa.chat("/local")
        await pa.wait_for(lambda q: is_chat("local 1")(q) and q["p0"] == "Server")
        await asyncio.sleep(0.5)
        for c in (pa, pb):
            guides = [q for q in c.packets if q.get("a") == "ModelDelta" and
                      q["p0"].get("instanced_entity", {}).get("entity", {}).get("name")
                      == "Node Guide*"]
            self.assertEqual(len(guides), 1, "%s sees its own node's guide only" % c.name)
        self.assertEqual(pb.since(0, is_chat("/local")), [])


if __name__ == "__main__":
    unittest.main()
