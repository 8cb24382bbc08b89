"""The example scripts of examples/scripts, each run by a real server and played against from
WebSocket clients as docs/SCRIPTING.md describes them."""
import asyncio
import os

from harness import (REPO, ServerTestCase, async_test, is_at, is_chat, is_full_actor,
                     is_model_delta, is_move_of, pkt, position_of)

EXAMPLES = os.path.join(REPO, "examples", "scripts")


def example(name):
    return {"extra_args": ["--script", os.path.join(EXAMPLES, name)]}


def is_chat_from(name, text=None):
    return lambda p: is_chat(text)(p) and p.get("p0") == name


def is_npc_named(name):
    return lambda p: is_model_delta(p) and is_full_actor(p["p0"]) and \
        p["p0"]["instanced_entity"]["entity"]["name"] == name


class WhoWhisper(ServerTestCase):
    server_options = example("who_whisper.lua")

    @async_test
    async def test_who_lists_everyone_online_to_the_asker_only(self):
        a, b = await self.players(2, "who")
        await a.chat("/who")
        got = await a.wait_for(is_chat_from("Server"), what="the /who answer")
        self.assertRegex(got["p1"], r"^\d+ online: ")
        self.assertIn(a.name, got["p1"])
        self.assertIn(b.name, got["p1"])
        await self.assert_no_packet(b, is_chat(got["p1"]), 0.3)
        self.assertEqual(b.since(0, is_chat("/who")), [])

    @async_test
    async def test_whisper_reaches_one_player_and_nobody_else(self):
        a, b, c = await self.players(3, "wh")
        await a.chat("/w %s meet me at the well" % b.name.upper())
        await b.wait_for(is_chat_from("Server", "%s whispers: meet me at the well" % a.name))
        await a.wait_for(is_chat_from("Server", "to %s: meet me at the well" % b.name))
        await self.assert_no_packet(c, is_chat(), 0.3)
        await a.chat("/w nobody_is_here hello")
        await a.wait_for(is_chat_from("Server", "nobody_is_here is not online"))


class Greeter(ServerTestCase):
    server_options = example("greeter.lua")

    @async_test
    async def test_the_guide_walks_her_loop_and_greets_newcomers_by_name(self):
        a = await self.player("greet")
        # The greeting comes at login, with the player's own model; the guide's model with the
        # next tick.
        await a.wait_for(is_chat_from("Guide Ann", "Welcome, %s! Click anywhere to walk."
                                      % a.name))
        guide = await a.wait_for(is_npc_named("Guide Ann"), what="the guide's full model")
        self.assertEqual(guide["p0"]["avatar_id"], 3)
        # She walks: deltas, within the first leg of 4 s (plus the walk itself).
        await a.wait_for(is_move_of(guide["p0"]["id"]), timeout=8, what="the guide walking")
        b = await self.player("greet2")
        await a.wait_for(is_chat_from("Guide Ann", "Welcome, %s! Click anywhere to walk."
                                      % b.name))
        name, password = b.name, b.password
        await b.close()
        c = await self.client("again")
        self.assertEqual((await c.login(name, password))["a"], "Ok")
        await c.wait_for(is_chat_from("Guide Ann", "Welcome back, %s!" % name))


class ChatFilter(ServerTestCase):
    server_options = example("chat_filter.lua")

    @async_test
    async def test_words_are_starred_repeats_dropped_and_shouting_lowered(self):
        a, b = await self.players(2, "filt")
        await a.chat("oh Darn it")
        await b.wait_for(is_chat_from(a.name, "oh **** it"))
        await a.chat("oh Darn it")  # the same line again: dropped
        await a.chat("WHY IS EVERYONE SHOUTING")
        await b.wait_for(is_chat_from(a.name, "why is everyone shouting"))
        self.assertEqual(len(b.since(0, is_chat("oh **** it"))), 1)
        await a.chat("a fine day")
        await b.wait_for(is_chat_from(a.name, "a fine day"))


class TeleportPads(ServerTestCase):
    server_options = example("teleport_pads.lua")

    @async_test
    async def test_walking_onto_a_pad_puts_the_player_beside_the_other(self):
        a, b = await self.players(2, "pad")
        await a.send(pkt("Target", 100, 100))
        await b.wait_for(is_at(a.aid, 1180, 700), timeout=10, what="the jump to the far pad")
        await a.wait_for(is_chat_from("Server", "Whoosh!"))
        # And back: onto the far pad, out beside the first.
        await a.send(pkt("Target", 1240, 740))
        await b.wait_for(is_at(a.aid, 160, 100), timeout=10, what="the jump back")


class SpawnPoint(ServerTestCase):
    server_options = example("spawn_point.lua")

    @async_test
    async def test_first_login_starts_at_the_spawn_and_later_ones_resume(self):
        a = await self.player("spawn")
        await a.wait_for(is_at(a.aid, 672, 416), what="the own move to the spawn point")
        await a.send(pkt("Target", 700, 416))
        await a.wait_for(is_at(a.aid, 700, 416), timeout=10)
        name, password = a.name, a.password
        await a.close()
        await asyncio.sleep(0.3)
        again = await self.client("spawn-again")
        self.assertEqual((await again.login(name, password))["a"], "Ok")
        self.assertEqual((again.own["instanced_entity"]["x"], again.own["instanced_entity"]["y"]),
                         (700, 416))
        await self.assert_no_packet(again, is_move_of(again.aid), 0.3)
        await again.chat("/spawn")
        await again.wait_for(is_at(again.aid, 672, 416))
