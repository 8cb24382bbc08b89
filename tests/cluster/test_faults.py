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
                     is_move_of, pkt, position_of, unique_name)
from test_cluster import PASSWORD, ClusterCase, async_test  # noqa: E402

# A Login is answered within this long whatever is down (the bound).
ANSWER_S = 2.0
# Scheduling slack on a shared 2-core machine running sanitized nodes.
SLACK_S = 0.5
TRY_AGAIN = "Server busy, try again"


def is_reply(p):
    return p.get("a") in ("Ok", "Deny")


class FaultCase(ClusterCase):
    """One PostgreSQL, one Redis and two nodes (a, b)."""

    @classmethod
    def setUpClass(cls):
        cls.loop = asyncio.new_event_loop()
        cls.redis = cluster.Redis().start()
        cls.pg = cluster.Postgres()
        cls.nodes = []
        try:
            cls.pg.start()
            cls.a = cls.node(cls.prefix + "-a", cls.node_args)
            cls.b = cls.node(cls.prefix + "-b", cls.node_args)
        except Exception:
            cls.tearDownClass()
            raise

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

    async def watched_pair(self, tag):
        """A player on a and one on b who see each other."""
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


if __name__ == "__main__":
    unittest.main()
