"""The flows of PROTOCOL-REFERENCE.md section 4 as cmmo implements them (docs/PROTOCOL.md 3-5):
register, login, own model first, other players' models, chat relay, disconnect."""

import asyncio
import json
import unittest

from harness import (PACKET_TIMEOUT, ServerTestCase, async_test, find_keys, is_action, is_chat,
                     is_disconnect, is_full_actor, is_full_model_of, is_model_delta, is_move_of,
                     pkt, unique_name)


class RegisterAndLogin(ServerTestCase):

    @async_test
    async def test_register_replies_ok_and_stays_in_login_state(self):
        c = await self.client()
        name = unique_name("reg")
        r = await c.register(name, "pw-" + name, 2)
        self.assertEqual(r, {"a": "Ok"})
        # Still in LOGIN: a Chat is ignored (no reply, not relayed) and Login works afterwards.
        await c.send(pkt("Chat", name, "am I in the world?"))
        r = await c.login(name, "pw-" + name)
        self.assertEqual(r, {"a": "Ok"})
        self.assertEqual(c.since(0, is_action("Chat")), [])

    @async_test
    async def test_ok_frame_is_compact_json(self):
        c = await self.client()
        name = unique_name("compact")
        await c.register(name, "pw", 0)
        self.assertEqual(c.raws[0], '{"a":"Ok"}')

    @async_test
    async def test_server_sends_nothing_before_the_first_request(self):
        c = await self.client()
        await asyncio.sleep(0.7)
        self.assertEqual(c.packets, [], "the Godot client crashes on unrequested packets")
        self.assertFalse(c.closed)

    @async_test
    async def test_wrong_password_is_denied_with_the_reference_text(self):
        c = await self.client()
        name = unique_name("wrongpw")
        await c.register(name, "right-password", 1)
        r = await c.login(name, "wrong")
        self.assertEqual(r, {"a": "Deny", "p0": "Username or password incorrect"})
        # The connection stays usable in LOGIN.
        r = await c.login(name, "right-password")
        self.assertEqual(r, {"a": "Ok"})

    @async_test
    async def test_unknown_user_is_denied_like_a_wrong_password(self):
        c = await self.client()
        r = await c.login(unique_name("nobody"), "whatever")
        self.assertEqual(r, {"a": "Deny", "p0": "Username or password incorrect"})

    @async_test
    async def test_duplicate_username_is_denied_as_taken(self):
        c = await self.client()
        name = unique_name("dup")
        self.assertEqual(await c.register(name, "pw1", 0), {"a": "Ok"})
        self.assertEqual(await c.register(name, "pw2", 1),
                         {"a": "Deny", "p0": "This username is already taken"})

    @async_test
    async def test_usernames_are_unique_regardless_of_case(self):
        c = await self.client()
        name = unique_name("CaseName")
        self.assertEqual(await c.register(name, "pw1", 0), {"a": "Ok"})
        self.assertEqual(await c.register(name.lower(), "pw2", 1),
                         {"a": "Deny", "p0": "This username is already taken"})
        self.assertEqual(await c.register(name.upper(), "pw3", 1),
                         {"a": "Deny", "p0": "This username is already taken"})

    @async_test
    async def test_binary_frame_with_json_is_accepted(self):
        c = await self.client()
        name = unique_name("binary")
        await c.send_raw(json.dumps(pkt("Register", name, "pw", 3)).encode())
        self.assertEqual(await c.reply(), {"a": "Ok"})

    @async_test
    async def test_first_model_delta_after_ok_is_own_full_actor_model(self):
        c = await self.client()
        name = unique_name("own")
        password = "pw-distinct-" + name
        await c.register(name, password, 4)
        r = await c.login(name, password)
        self.assertEqual(r, {"a": "Ok"})
        m = c.own
        self.assertTrue(is_full_actor(m), m)
        self.assertIsInstance(m["id"], int)
        self.assertIsInstance(m["user"], int)
        self.assertEqual(m["avatar_id"], 4)
        self.assertEqual(m["model_type"], "Actor")
        ie = m["instanced_entity"]
        self.assertEqual(ie["model_type"], "InstancedEntity")
        self.assertIsInstance(ie["id"], int)
        self.assertEqual((ie["x"], ie["y"]), (0, 0), "new accounts spawn at (0, 0)")
        self.assertEqual(ie["entity"]["name"], name)
        self.assertEqual(ie["entity"]["model_type"], "Entity")
        self.assertIsInstance(ie["entity"]["id"], int)
        self.assertEqual(find_keys(m, lambda k: "pass" in k.lower() or "hash" in k.lower()), [])
        for raw in c.raws:
            self.assertNotIn(password, raw)
            self.assertNotIn("$argon2", raw)

    @async_test
    async def test_login_denied_while_account_is_in_the_world(self):
        a = await self.player("twice")
        b = await self.client()
        r = await b.login(a.name, a.password)
        self.assertEqual(r, {"a": "Deny", "p0": "You are already logged in"})
        # The first session is untouched: it still gets its chat from a third player.
        c = await self.player("third")
        await c.chat("still there?")
        await a.wait_for(is_chat("still there?"), what="chat to the first session")
        self.assertEqual(a.since(0, is_disconnect()), [])

    @async_test
    async def test_login_works_again_after_the_session_closed(self):
        a = await self.player("again")
        await a.close()
        b = await self.client()
        # The close may take a tick to be processed; retry the login briefly.
        for _ in range(20):
            r = await b.login(a.name, a.password)
            if r != {"a": "Deny", "p0": "You are already logged in"}:
                break
            await asyncio.sleep(0.1)
        self.assertEqual(r, {"a": "Ok"})
        self.assertEqual(b.own["instanced_entity"]["entity"]["name"], a.name)

    @async_test
    async def test_register_and_login_in_play_are_ignored(self):
        a = await self.player("inplay")
        other = await self.player("inplayobs")
        await a.send(pkt("Register", unique_name("x"), "pw", 0))
        await a.send(pkt("Login", a.name, a.password))
        await a.chat("after", sender="")
        await other.wait_for(is_chat("after"), what="chat after ignored packets")
        await asyncio.sleep(0.3)
        self.assertEqual(a.since(0, is_action("Ok", "Deny")), [{"a": "Ok"}, {"a": "Ok"}],
                         "only the two Oks of the real Register and Login; none in PLAY")


class OtherPlayers(ServerTestCase):

    @async_test
    async def test_two_players_see_each_others_full_model_exactly_once(self):
        a = await self.player("first", avatar=1)
        b = await self.player("second", avatar=5)
        # b: own model first (checked by login), then a's full model.
        seen_a = await b.wait_for(is_full_model_of(a.aid), what="first player's full model")
        seen_b = await a.wait_for(is_full_model_of(b.aid), what="second player's full model")
        self.assertEqual(seen_a["p0"], a.own, "b sees exactly a's model as a sees it")
        self.assertEqual(seen_b["p0"], b.own, "a sees exactly b's model as b sees it")
        self.assertEqual(seen_a["p0"]["avatar_id"], 1)
        self.assertEqual(seen_b["p0"]["instanced_entity"]["entity"]["name"], b.name)
        await asyncio.sleep(0.7)
        for viewer, actor in ((a, a), (a, b), (b, a), (b, b)):
            fulls = viewer.since(0, is_full_model_of(actor.aid))
            self.assertEqual(len(fulls), 1, "%s received %d full models of %s"
                             % (viewer.name, len(fulls), actor.name))

    @async_test
    async def test_actor_ids_are_distinct_per_player(self):
        a, b, c = await self.players(3, "ids")
        self.assertEqual(len({a.aid, b.aid, c.aid}), 3)
        self.assertEqual(len({a.own["user"], b.own["user"], c.own["user"]}), 3)

    @async_test
    async def test_every_actor_is_first_seen_as_a_full_model(self):
        a = await self.player("fa")
        await a.send(pkt("Target", 30, 40))
        b = await self.player("fb")
        await b.wait_for(is_move_of(a.aid), what="a's movement")
        first_seen = {}
        for p in b.packets:
            if is_model_delta(p):
                first_seen.setdefault(p["p0"]["id"], p["p0"])
        for aid, m in first_seen.items():
            self.assertTrue(is_full_actor(m), "first model of actor %s was partial: %s" % (aid, m))


class Chat(ServerTestCase):

    @async_test
    async def test_chat_is_relayed_once_to_every_other_player(self):
        a, b, c = await self.players(3, "chat")
        await a.chat("hello everyone")
        for viewer in (b, c):
            got = await viewer.wait_for(is_chat("hello everyone"), what="chat")
            self.assertEqual(got, {"a": "Chat", "p0": a.name, "p1": "hello everyone"})
        await asyncio.sleep(0.4)
        for viewer in (b, c):
            self.assertEqual(len(viewer.since(0, is_chat("hello everyone"))), 1)

    @async_test
    async def test_chat_is_not_echoed_to_sender(self):
        a, b = await self.players(2, "echo")
        await a.chat("no echo please")
        await b.wait_for(is_chat("no echo please"), what="chat")
        await asyncio.sleep(0.4)
        self.assertEqual(a.since(0, is_chat()), [])

    @async_test
    async def test_chat_sender_name_is_set_by_the_server(self):
        a, b = await self.players(2, "spoof")
        await a.chat("I am b", sender=b.name)
        got = await b.wait_for(is_chat("I am b"), what="chat")
        self.assertEqual(got["p0"], a.name)
        await a.chat("empty sender", sender="")
        got = await b.wait_for(is_chat("empty sender"), what="chat")
        self.assertEqual(got["p0"], a.name)

    @async_test
    async def test_chat_from_a_connection_in_login_state_is_not_relayed(self):
        b = await self.player("listener")
        c = await self.client()
        await c.send(pkt("Chat", "ghost", "from the lobby"))
        a = await self.player("talker")
        await a.chat("from the world")
        await b.wait_for(is_chat("from the world"), what="chat")
        self.assertEqual(b.since(0, is_chat("from the lobby")), [])

    @async_test
    async def test_chats_arrive_in_the_order_sent(self):
        a, b = await self.players(2, "order")
        # 10 lines: one burst of the chat budget, sent back to back.
        for i in range(10):
            await a.send(pkt("Chat", a.name, "line %d" % i))
        await b.wait_for(is_chat("line 9"), what="the last chat")
        lines = [p["p1"] for p in b.since(0, is_chat())]
        self.assertEqual(lines, ["line %d" % i for i in range(10)])

    @async_test
    async def test_non_ascii_chat_is_relayed_intact_as_ascii_escaped_json(self):
        a, b = await self.players(2, "utf")
        text = "h\u00e9llo \u4e16\u754c \U0001F600"
        await a.chat(text)
        got = await b.wait_for(is_chat(text), what="non-ASCII chat")
        raw = b.raws[b.packets.index(got)]
        self.assertTrue(raw.isascii(), "non-ASCII must be escaped as \\uXXXX: %r" % raw)


class Disconnects(ServerTestCase):

    async def _check_disconnect(self, abrupt):
        a, b, c = await self.players(3, "leave")
        await b.wait_for(is_full_model_of(c.aid), what="c's model")
        mark_b = b.mark()
        if abrupt:
            c.abort()
        else:
            await c.close()
        got = await b.wait_for(is_disconnect(c.aid), what="Disconnect of c")
        self.assertEqual(got, {"a": "Disconnect", "p0": c.aid})
        await a.wait_for(is_disconnect(c.aid), what="Disconnect of c")
        await asyncio.sleep(0.6)
        for viewer in (a, b):
            self.assertEqual(len(viewer.since(0, is_disconnect(c.aid))), 1,
                             "exactly one Disconnect to %s" % viewer.name)
            self.assertEqual(viewer.since(0, is_disconnect(viewer.aid)), [])
        # The world goes on for the others.
        await a.chat("bye c")
        await b.wait_for(is_chat("bye c"), what="chat after the disconnect")
        self.assertEqual(b.since(mark_b, is_disconnect()), [got])

    @async_test
    async def test_clean_close_sends_disconnect_with_actor_id_exactly_once(self):
        await self._check_disconnect(abrupt=False)

    @async_test
    async def test_abrupt_close_sends_disconnect_with_actor_id_exactly_once(self):
        await self._check_disconnect(abrupt=True)

    @async_test
    async def test_disconnect_while_walking_stops_deltas_and_world_continues(self):
        a, b = await self.players(2, "walkleave")
        await a.send(pkt("Target", 600, 300))
        await b.wait_for(is_move_of(a.aid), what="a walking")
        a.abort()
        await b.wait_for(is_disconnect(a.aid), what="Disconnect of the walker")
        mark = b.mark()
        c = await self.player("walkleave_c")
        await c.send(pkt("Target", 7, 0))
        await b.wait_for(lambda p: is_move_of(c.aid)(p) and p["p0"]["instanced_entity"]["x"] == 7,
                         what="another player's walk after the disconnect")
        self.assertEqual(b.since(mark, is_move_of(a.aid)), [], "no deltas of a gone actor")
        self.assertEqual([p for p in c.packets if is_model_delta(p) and p["p0"]["id"] == a.aid],
                         [], "a newcomer must not see the gone actor")

    @async_test
    async def test_login_state_connection_closing_sends_no_disconnect(self):
        b = await self.player("watcher")
        c = await self.client()
        await c.register(unique_name("lobby"), "pw", 0)
        c.abort()
        await asyncio.sleep(0.5)
        self.assertEqual(b.since(0, is_disconnect()), [])


class BusyWorld(ServerTestCase):

    @async_test
    async def test_first_model_delta_after_ok_is_own_while_five_players_walk(self):
        walkers = await self.players(5, "walker")
        stop = asyncio.Event()

        async def walk(c, i):
            k = 0
            while not stop.is_set():
                k += 1
                await c.send(pkt("Target", 40 + 30 * ((k + i) % 3), 20 + 25 * ((k * i) % 4)))
                await asyncio.sleep(0.15)

        tasks = [asyncio.ensure_future(walk(c, i)) for i, c in enumerate(walkers)]
        try:
            await walkers[0].wait_for(is_move_of(walkers[4].aid), what="walking")
            for round_ in range(6):
                name = unique_name("newcomer%d" % round_)
                c = await self.client(name)
                await c.register(name, "pw", round_ % 6)
                self.assertEqual(await c.login(name, "pw"), {"a": "Ok"})
                # login() stored the first ModelDelta after Ok as .own.
                self.assertEqual(c.own["instanced_entity"]["entity"]["name"], name,
                                 "round %d: first ModelDelta after Ok was another actor's: %s"
                                 % (round_, c.own))
                self.assertTrue(is_full_actor(c.own), c.own)
                self.assertEqual(c.own["avatar_id"], round_ % 6)
                # Every walker is first seen as a full model, then moves.
                for w in walkers:
                    await c.wait_for(is_move_of(w.aid), what="walker %s moving" % w.name)
                first_seen = {}
                for p in c.packets:
                    if is_model_delta(p):
                        first_seen.setdefault(p["p0"]["id"], p["p0"])
                for aid, m in first_seen.items():
                    self.assertTrue(is_full_actor(m), "first model of %s is partial: %s" % (aid, m))
                for w in walkers:
                    self.assertEqual(len(c.since(0, is_full_model_of(w.aid))), 1)
                    await w.wait_for(is_full_model_of(c.aid), what="the newcomer's model")
        finally:
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)


if __name__ == "__main__":
    unittest.main()
