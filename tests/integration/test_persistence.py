"""Persistence across restarts (reference section 7 and defects 7 and 10; docs/PROTOCOL.md 3):
positions survive SIGTERM; after SIGKILL the account exists (committed before Ok) and the
position is at most about a second of movement old."""

import asyncio
import math
import signal
import time
import unittest

from harness import (SPEED, Client, Server, ServerTestCase, async_test, is_at, is_move_of, pkt,
                     position_of, unique_name)


class Persistence(ServerTestCase):
    """Each test runs its own server (it restarts it), on its own database."""
    start_server = False

    def setUp(self):
        super().setUp()
        self.srv = Server().start()

    def tearDown(self):
        super().tearDown()
        self.srv.stop_and_check()
        self.srv.assert_clean()
        self.srv.cleanup_files()

    async def connect(self):
        return await self.client(server=self.srv)

    async def new_player(self, avatar=3):
        name = unique_name("keep")
        c = await self.connect()
        self.assertEqual(await c.register(name, "pw-" + name, avatar), {"a": "Ok"})
        self.assertEqual(await c.login(name, "pw-" + name), {"a": "Ok"})
        return c

    async def relogin(self, name):
        c = await self.connect()
        self.assertEqual(await c.login(name, "pw-" + name), {"a": "Ok"},
                         "the account survived the restart")
        return c

    def crash_and_restart(self):
        self.srv.kill9()
        self.srv.start()

    @async_test
    async def test_position_survives_sigterm_restart(self):
        c = await self.new_player()
        await self.walk_and_wait(c, 70, 35)
        await asyncio.sleep(1.6)
        await c.close()
        code = self.srv.stop()
        self.assertEqual(code, 0, "exit code after SIGTERM")
        self.srv.check_sanitizers()
        self.srv.proc = None
        self.srv.start()
        d = await self.relogin(c.name)
        ie = d.own["instanced_entity"]
        self.assertEqual((ie["x"], ie["y"]), (70, 35))
        self.assertEqual(d.own["avatar_id"], 3)
        self.assertEqual(ie["entity"]["name"], c.name)

    @async_test
    async def test_position_of_a_player_still_online_survives_sigterm(self):
        c = await self.new_player()
        await self.walk_and_wait(c, 21, 28)
        self.assertEqual(self.srv.stop(), 0)  # the player is still connected
        self.srv.check_sanitizers()
        self.srv.proc = None
        self.srv.start()
        d = await self.relogin(c.name)
        ie = d.own["instanced_entity"]
        self.assertEqual((ie["x"], ie["y"]), (21, 28))

    @async_test
    async def test_account_registered_just_before_sigkill_still_exists(self):
        name = unique_name("sudden")
        c = await self.connect()
        self.assertEqual(await c.register(name, "pw-" + name, 5), {"a": "Ok"})
        self.crash_and_restart()
        d = await self.relogin(name)
        self.assertEqual(d.own["avatar_id"], 5)
        self.assertEqual((d.own["instanced_entity"]["x"], d.own["instanced_entity"]["y"]), (0, 0))

    @async_test
    async def test_idle_position_is_saved_within_1_5_s_and_survives_sigkill(self):
        c = await self.new_player()
        await self.walk_and_wait(c, 56, 42)
        await asyncio.sleep(1.6)
        self.crash_and_restart()
        d = await self.relogin(c.name)
        ie = d.own["instanced_entity"]
        self.assertEqual((ie["x"], ie["y"]), (56, 42))

    @async_test
    async def test_position_after_sigkill_while_walking_is_at_most_1_s_old(self):
        c = await self.new_player()
        await c.send(pkt("Target", 700, 0))  # 10 s of walking
        # Walk about 3 s, then crash right after a delta.
        await asyncio.sleep(3.0)
        c.cursor = c.mark()
        last = await c.wait_for(is_move_of(c.aid), what="a movement delta")
        x_at_kill = position_of(last)[0]
        self.crash_and_restart()
        d = await self.relogin(c.name)
        x, y = d.own["instanced_entity"]["x"], d.own["instanced_entity"]["y"]
        self.assertEqual(y, 0)
        self.assertLessEqual(x, x_at_kill + 1e-6, "saved position ahead of the last delta")
        # "about 1 s": allow one save period (1 s) plus a quarter second of commit latency.
        self.assertGreaterEqual(x, x_at_kill - 1.25 * SPEED,
                                "saved x=%.1f, last seen x=%.1f: %.2f s of movement lost"
                                % (x, x_at_kill, (x_at_kill - x) / SPEED))


if __name__ == "__main__":
    unittest.main()
