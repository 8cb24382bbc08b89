"""The cluster on a bad day, black box: Redis and PostgreSQL stalled (SIGSTOP), restarted or
cutting one node off, node ids reused, nodes killed mid-walk. docs/SCALING.md says what a player
sees meanwhile; these tests pin it.

Every fault here is healed within the test, and the class checks at the end (tearDownClass) that
no node crashed or reported a sanitizer error. Run through tests/cluster/run.sh.
"""

import asyncio
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cluster  # noqa: E402
from harness import (is_chat, is_disconnect, is_full_model_of, is_model_delta,  # noqa: E402
                     is_move_of, is_reply, pkt, position_of, unique_name)
from test_cluster import CLAIM_EXPIRY_S, PASSWORD, ClusterCase, async_test  # noqa: E402

# A Login is answered within this long whatever is down (the bound).
ANSWER_S = 2.0
# Scheduling slack on a shared 2-core machine running sanitized nodes.
SLACK_S = 0.5
TRY_AGAIN = "Server busy, try again"


class FaultCase(ClusterCase):
    """One PostgreSQL, one Redis and two nodes (a, b)."""

    @classmethod
    def setUpClass(cls):
        cls.node_ids = (cls.prefix + "-a", cls.prefix + "-b")
        super().setUpClass()

    prefix = "f"
    node_args = ()

    async def account(self, tag, node=None):
        """A registered account, not logged in; returns its name."""
        name = unique_name(tag)
        reg = await self.connect(node or self.a, "register " + name)
        r = await reg.register(name, PASSWORD)
        self.assertEqual(r["a"], "Ok", r)
        await reg.close()
        return name

    async def timed_login(self, node, name):
        """Logs in; returns (client, reply, seconds to the reply). After an Ok the next packet
        must be the player's own model: never Ok then Deny."""
        c = await self.connect(node, "login " + name)
        start = c.mark()
        t0 = time.monotonic()
        await c.send(pkt("Login", name, PASSWORD))
        r = await c.wait_for(is_reply, timeout=15, what="the answer to Login")
        took = time.monotonic() - t0
        if r["a"] == "Ok":
            after = await c.wait_for(lambda p: True, what="the packet after Ok")
            self.assertTrue(is_model_delta(after), "Ok followed by %s" % after)
            c.own = after["p0"]
            c.name = name
        replies = [p for p in c.packets[start:] if is_reply(p)]
        self.assertEqual(len(replies), 1, replies)
        return c, r, took

    async def assert_answered_in_time(self, node, name, allowed=("Deny",)):
        c, r, took = await self.timed_login(node, name)
        self.assertIn(r["a"], allowed, r)
        self.assertLess(took, ANSWER_S + SLACK_S,
                        "Login on %s answered after %.2f s: %s" % (node.node_id, took, r))
        return c, r, took

    async def no_second_reply(self, clients, wait=0.5):
        await asyncio.sleep(wait)
        for c in clients:
            replies = [p for p in c.packets if is_reply(p)]
            self.assertEqual(len(replies), 1, "%s: %s" % (c.label, replies))

    async def cluster_ready(self, within=15):
        """Waits until a Login is served on every node: the tests of a class share the nodes and
        Redis, and a test that restarted Redis may end while a node is still reconnecting (its
        Logins then get "Server busy, try again", as they should)."""
        deadline = time.monotonic() + within
        for node in (self.a, self.b):
            name = unique_name("probe")
            while True:
                reg = await self.connect(node, "probe " + name)
                r = await reg.register(name, PASSWORD)
                await reg.close()
                if r["a"] == "Ok":
                    break
                self.assertLess(time.monotonic(), deadline, "%s not serving: %s" % (node.node_id, r))
                await asyncio.sleep(0.2)
            while True:
                c = await self.connect(node, name)
                r = await c.login(name, PASSWORD)
                await c.close()
                if r["a"] == "Ok":
                    break
                self.assertLess(time.monotonic(), deadline, "%s not serving: %s" % (node.node_id, r))
                await asyncio.sleep(0.2)

    async def watched_pair(self, tag):
        """A player on a and one on b who see each other."""
        await self.cluster_ready()
        p = await self.player(self.a, tag + "A")
        w = await self.player(self.b, tag + "B")
        await w.wait_for(is_full_model_of(p.aid), timeout=5, what="a's player seen from b")
        return p, w

    async def chat_crosses(self, sender, hearer, within):
        """Sends lines until one reaches hearer; returns how long that took."""
        t0 = time.monotonic()
        n = 0
        while True:
            n += 1
            text = "probe %d %s" % (n, sender.name)
            await sender.chat(text)
            try:
                await hearer.wait_for(is_chat(text), timeout=0.6, what=text)
                return time.monotonic() - t0
            except AssertionError:
                if time.monotonic() - t0 > within:
                    raise


class TestRedisFaults(FaultCase):
    prefix = "rf"

    @async_test
    async def test_redis_frozen_10s_logins_answered_play_goes_on_chat_delivered_in_order(self):
        p, w = await self.watched_pair("frz")
        spare = await self.account("frzQ")
        await asyncio.sleep(0.3)
        mark_w = w.mark()
        self.redis.freeze()
        answered = []
        try:
            t0 = time.monotonic()
            lines = ["frozen line %d %s" % (i, p.name) for i in range(3)]
            for i, t in enumerate((0.3, 4.0, 8.5)):
                await asyncio.sleep(max(0, t0 + t - time.monotonic()))
                # The same account on the other node, and a free one: neither waits for Redis.
                c, r, _ = await self.assert_answered_in_time(self.b, p.name)
                answered.append(c)
                c, r, _ = await self.assert_answered_in_time(self.a, spare)
                self.assertEqual(r["p0"], TRY_AGAIN)
                answered.append(c)
                await p.chat(lines[i])
                await p.send(pkt("Target", 40 + 30 * i, 50))
            # Local play went on: p walked to its last target.
            await p.wait_for(lambda q: is_move_of(p.aid)(q) and position_of(q) == (100.0, 50.0),
                             timeout=5, what="p's own steps during the freeze")
            await asyncio.sleep(max(0, t0 + 10 - time.monotonic()))
        finally:
            self.redis.thaw()
        # The lines sent meanwhile reach b once Redis answers again, in order.
        for text in lines:
            await w.wait_for(is_chat(text), timeout=5, what="chat %r after the thaw" % text)
        heard = [q["p1"] for q in w.since(mark_w, is_chat()) if q["p1"] in lines]
        self.assertEqual(heard, lines)
        # p was never thrown out, and its account is still held: no second login anywhere.
        await asyncio.sleep(1.0)
        self.assertFalse(p.closed, p.describe())
        c, r, _ = await self.timed_login(self.b, p.name)
        self.assertEqual(r, pkt("Deny", "You are already logged in"))
        await self.no_second_reply(answered)
        # and the world converges: b sees p walk again.
        await p.send(pkt("Target", 200, 60))
        await w.wait_for(is_move_of(p.aid), timeout=5, what="p's steps on b after the thaw")
        # The spare account's claims that a granted only at the thaw, after its Logins had been
        # told to try again, were given back: it logs in on the other node at once.
        q, tries = await self.login_until_ok(self.b, spare, within=3)

    @async_test
    async def test_redis_killed_with_our_commands_unread_is_noticed_and_reconnected(self):
        # The "5 s Login stall": a Redis that dies with a node's commands unread resets the
        # connection (RST, not FIN). hiredis 0.14's libuv adapter dropped that error: the node
        # kept a dead connection it believed up, and every later Login waited on it for ever.
        name = await self.account("rst")
        self.redis.freeze()
        try:
            pending = await self.connect(self.a, "pending " + name)
            await pending.send(pkt("Login", name, PASSWORD))
            await asyncio.sleep(0.5)  # the claim is in Redis's socket buffer, unread
        finally:
            self.redis.restart()
        t0 = time.monotonic()
        r = await pending.wait_for(is_reply, timeout=ANSWER_S, what="the pending Login's answer")
        self.assertEqual(r, pkt("Deny", TRY_AGAIN))
        q, tries = await self.login_until_ok_or_busy(self.a, name, within=8)
        print("\n  Redis reset: logged in %.2f s after the restart (%d tries)"
              % (time.monotonic() - t0, tries), file=sys.stderr)

    async def login_until_ok_or_busy(self, node, name, within):
        deadline = time.monotonic() + within
        tries = 0
        while True:
            tries += 1
            c, r, took = await self.timed_login(node, name)
            self.assertLess(took, ANSWER_S + SLACK_S, r)
            if r["a"] == "Ok":
                return c, tries
            self.assertEqual(r["p0"], TRY_AGAIN, r)
            await c.close()
            if time.monotonic() > deadline:
                self.fail("no Ok within %.0f s" % within)
            await asyncio.sleep(0.3)

    @async_test
    async def test_redis_restart_sender_is_told_and_the_cluster_converges(self):
        p, w = await self.watched_pair("rst")
        port = self.redis.port
        self.redis.stop()
        try:
            await asyncio.sleep(0.3)
            mark = p.mark()
            await p.chat("lost line " + p.name)
            told = await p.wait_for(lambda q: is_chat()(q) and q["p0"] == "Server", timeout=3,
                                    what="the Server line saying chat did not leave the node")
            self.assertIn("other nodes", told["p1"])
            self.assertEqual(len(p.since(mark, lambda q: is_chat()(q) and q["p0"] == "Server")),
                             1)
            name = await self.account("rstQ", node=self.b)
            c, r, _ = await self.assert_answered_in_time(self.a, name)
            self.assertEqual(r["p0"], TRY_AGAIN)
        finally:
            self.redis.start(port)
        took = await self.chat_crosses(p, w, within=8)
        await p.send(pkt("Target", 300, 200))
        await w.wait_for(is_move_of(p.aid), timeout=5, what="p's steps on b after the restart")
        # The restarted Redis was empty: p's claim was taken back by a's next refresh.
        await asyncio.sleep(3.5)
        c, r, _ = await self.timed_login(self.b, p.name)
        self.assertEqual(r, pkt("Deny", "You are already logged in"))
        print("\n  Redis restart: chat crosses again %.2f s after the start" % took,
              file=sys.stderr)

    @async_test
    async def test_client_kill_of_one_nodes_connections_heals(self):
        p, w = await self.watched_pair("ck")
        ids = self.redis.client_ids("cmmo:" + self.a.node_id + ":")
        self.assertEqual(len(ids), 2, "node a's named connections: %s" % ids)
        for i in ids:
            self.redis.command("CLIENT", "KILL", "ID", i)
        took = await self.chat_crosses(p, w, within=6)
        await self.chat_crosses(w, p, within=3)
        await p.send(pkt("Target", 20, 300))
        await w.wait_for(is_move_of(p.aid), timeout=5, what="p's steps after the reconnect")
        c, r, _ = await self.timed_login(self.b, p.name)
        self.assertEqual(r, pkt("Deny", "You are already logged in"))
        print("\n  CLIENT KILL: chat crosses again after %.2f s" % took, file=sys.stderr)


class TestCutOff(FaultCase):
    prefix = "co"

    @async_test
    async def test_a_node_cut_off_from_redis_closes_its_players_before_they_can_play_elsewhere(self):
        proxy = cluster.Proxy(self.redis.port)
        c = cluster.Node(self.pg.url, proxy.url, "co-c")
        self.nodes.append(c)
        c.start()
        try:
            p = await self.player(c, "cut")
            await asyncio.sleep(0.5)
            proxy.freeze()  # c alone loses Redis; a and b do not
            t0 = time.monotonic()
            ok_at = None
            while ok_at is None and time.monotonic() - t0 < CLAIM_EXPIRY_S + 5:
                q, r, took = await self.timed_login(self.a, p.name)
                self.assertLess(took, ANSWER_S + SLACK_S, r)
                if r["a"] == "Ok":
                    ok_at = time.monotonic()
                else:
                    self.assertEqual(r["p0"], "You are already logged in", r)
                    await q.close()
                    await asyncio.sleep(0.5)
            self.assertIsNotNone(ok_at, "the account never became free")
            # c closed its copy before a could grant the account: never two at once.
            self.assertTrue(p.closed, "still playing on c after a granted it: " + p.describe())
            self.assertEqual((p.ws.close_code, p.ws.close_reason),
                             (1013, "Cluster link lost, log in again"))
            print("\n  cut off: the account moved on after %.2f s" % (ok_at - t0), file=sys.stderr)
        finally:
            proxy.close()
            c.stop_and_check()


class TestNodeIds(FaultCase):
    """A 4000 x 4000 world with a view radius (regions of 250 px)."""
    prefix = "ni"
    node_args = ("--world", "4000x4000", "--view-radius", "200")

    @async_test
    async def test_a_second_node_with_a_live_id_is_refused_at_start(self):
        twin = cluster.Node(self.pg.url, self.redis.url, self.a.node_id, self.node_args)
        t0 = time.monotonic()
        with self.assertRaises(RuntimeError):
            twin.start()
        self.assertEqual(twin.proc.returncode, 1)
        self.assertIn("cluster_node_id_taken", twin.stderr_text())
        self.assertNotIn("cluster_started", twin.stderr_text())
        twin.proc = None
        twin.cleanup_files()
        print("\n  live node id refused after %.2f s" % (time.monotonic() - t0), file=sys.stderr)
        # and the node that has the id serves on.
        await self.player(self.a, "stillA")

    @async_test
    async def test_node_killed_while_its_player_crosses_a_region_border_then_back_with_its_id(self):
        d = self.node("ni-d", self.node_args)
        try:
            watcher = await self.player(self.a, "seesD")
            victim = await self.player(d, "onD")
            await watcher.wait_for(is_full_model_of(victim.aid), timeout=5, what="d's player")
            # Back and forth over the border at x = 250 (regions are 250 px wide), the watcher
            # walking along to stay in view.
            await watcher.send(pkt("Target", 250, 0))
            await victim.send(pkt("Target", 300, 10))
            await watcher.wait_for(lambda q: is_move_of(victim.aid)(q) and position_of(q)[0] > 255,
                                   timeout=10, what="d's player past the border")
            await victim.send(pkt("Target", 200, 10))
            await watcher.wait_for(lambda q: is_move_of(victim.aid)(q) and position_of(q)[0] < 252,
                                   timeout=5, what="d's player back over the border")
            d.kill9()
            victim.abort()
            t0 = time.monotonic()
            await watcher.wait_for(is_disconnect(victim.aid), timeout=5, what="d's player gone")
            gone = time.monotonic() - t0
            mark = watcher.mark()
            await asyncio.sleep(1.5)  # no ghost: nothing of it comes back
            self.assertEqual(watcher.since(mark, lambda q: is_full_model_of(victim.aid)(q)
                                           or is_move_of(victim.aid)(q)), [])
            # d comes back with the same id (once its dead twin's id lapsed) and takes its
            # players' claims back at once.
            t1 = time.monotonic()
            d.start()
            back = time.monotonic() - t1
            again, r, _ = await self.timed_login(d, victim.name)
            self.assertEqual(r["a"], "Ok", r)
            pos = again.own["instanced_entity"]
            self.assertTrue(150 <= pos["x"] <= 300, pos)
            await watcher.wait_for(is_full_model_of(victim.aid), timeout=5,
                                   what="d's player back in view")
            await asyncio.sleep(1.2)
            seen = watcher.since(mark, is_full_model_of(victim.aid))
            self.assertEqual(len(seen), 1, "one actor, no duplicate: %s" % seen)
            print("\n  kill -9 at a border: out of view after %.2f s; restarted with its id "
                  "after %.2f s" % (gone, back), file=sys.stderr)
        finally:
            if d.proc is not None:
                d.kill9()


class TestPostgresFaults(FaultCase):
    prefix = "pf"

    def stored_position(self, name):
        bindir = subprocess.run(["bash", "-c", "ls -d /usr/lib/postgresql/*/bin | sort -V | "
                                 "tail -n 1"], capture_output=True, text=True).stdout.strip()
        out = subprocess.run(
            [os.path.join(bindir, "psql"), self.pg.url, "-At", "-c",
             "SELECT i.x, i.y FROM \"user\" u JOIN actor a ON a.user_id = u.id "
             "JOIN instanced_entity i ON i.id = a.instanced_entity_id "
             "WHERE u.username = '%s'" % name], capture_output=True, text=True, timeout=10)
        x, y = out.stdout.strip().split("|")
        return float(x), float(y)

    @async_test
    async def test_postgres_frozen_logins_answered_positions_written_after(self):
        p = await self.player(self.a, "pgf")
        spare = await self.account("pgfQ")
        await asyncio.sleep(0.3)
        self.pg.freeze()
        answered = []
        try:
            await p.send(pkt("Target", 70, 35))
            t0 = time.monotonic()
            for t in (0.3, 3.0, 6.0):
                await asyncio.sleep(max(0, t0 + t - time.monotonic()))
                c, r, _ = await self.assert_answered_in_time(self.b, spare)
                self.assertEqual(r["p0"], TRY_AGAIN)
                answered.append(c)
            await p.wait_for(lambda q: is_move_of(p.aid)(q) and position_of(q) == (70.0, 35.0),
                             timeout=5, what="p's steps during the freeze")
            await asyncio.sleep(max(0, t0 + 8 - time.monotonic()))
        finally:
            self.pg.thaw()
        # The position p reached while the database was frozen is written once it is back.
        deadline = time.monotonic() + 8
        while self.stored_position(p.name) != (70.0, 35.0):
            self.assertLess(time.monotonic(), deadline, "p's position was never written")
            await asyncio.sleep(0.3)
        await self.no_second_reply(answered)
        q, tries = await self.login_until_ok(self.b, spare, within=5)

    @async_test
    async def test_postgres_restarted_logins_answered_registrations_kept(self):
        name = await self.account("pgr")
        self.pg.halt()
        try:
            for _ in range(2):
                c, r, _ = await self.assert_answered_in_time(self.a, name)
                self.assertEqual(r["p0"], TRY_AGAIN)
                await asyncio.sleep(0.7)
        finally:
            self.pg.resume()
        deadline = time.monotonic() + 8
        while True:
            c, r, took = await self.timed_login(self.b, name)
            if r["a"] == "Ok":
                break
            self.assertEqual(r["p0"], TRY_AGAIN)
            self.assertLess(time.monotonic(), deadline, "no login after the restart")
            await asyncio.sleep(0.5)


if __name__ == "__main__":
    unittest.main()
