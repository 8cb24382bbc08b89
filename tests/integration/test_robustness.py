"""Defect 1 and 2 of PROTOCOL-REFERENCE.md section 9, in PLAY state: no packet stops the world.

docs/PROTOCOL.md section 7: in PLAY, malformed packets, unknown actions, Chat/Target with bad
payloads and client-sent Ok/Deny/ModelDelta/Disconnect are ignored. After each one, the sender is
still connected (its next chat is relayed), it got no reply, nobody got a Disconnect, and another
player still walks and chats."""

import asyncio
import json
import unittest

from harness import (ServerTestCase, async_test, is_action, is_chat, is_disconnect, is_move_of,
                     pkt, position_of)


def J(obj):
    return json.dumps(obj, separators=(",", ":"))


# name -> function(bad, mover, observer) returning the frames to send (str: text, bytes: binary).
# "chat_may_pass" marks inputs whose handling of a chat is not specified (duplicate keys).
PLAY_CASES = {
    "unknown_action": lambda b, m, o: ['{"a":"Fly","p0":1}', '{"a":"Dance"}', '{"a":""}'],
    "target_with_one_payload": lambda b, m, o: ['{"a":"Target","p0":500}'],
    "target_with_three_payloads": lambda b, m, o: ['{"a":"Target","p0":500,"p1":500,"p2":1}'],
    "target_without_payloads": lambda b, m, o: ['{"a":"Target"}'],
    "target_nan": lambda b, m, o: ['{"a":"Target","p0":NaN,"p1":0}',
                                   '{"a":"Target","p0":0,"p1":NaN}'],
    "target_infinity": lambda b, m, o: ['{"a":"Target","p0":Infinity,"p1":-Infinity}',
                                        '{"a":"Target","p0":-Infinity,"p1":5}'],
    "target_overflowing_1e400": lambda b, m, o: ['{"a":"Target","p0":1e400,"p1":0}',
                                                 '{"a":"Target","p0":0,"p1":-1e400}'],
    "target_string_coordinates": lambda b, m, o: ['{"a":"Target","p0":"500","p1":"500"}'],
    "target_null_bool_array_coordinates": lambda b, m, o: [
        '{"a":"Target","p0":null,"p1":5}', '{"a":"Target","p0":true,"p1":false}',
        '{"a":"Target","p0":[1],"p1":{"x":1}}'],
    "chat_without_payloads": lambda b, m, o: ['{"a":"Chat"}'],
    "chat_with_one_payload": lambda b, m, o: ['{"a":"Chat","p0":"one payload chat"}'],
    "chat_with_three_payloads": lambda b, m, o: ['{"a":"Chat","p0":"x","p1":"three","p2":"z"}'],
    "chat_with_non_string_message": lambda b, m, o: [
        '{"a":"Chat","p0":"x","p1":5}', '{"a":"Chat","p0":"x","p1":null}',
        '{"a":"Chat","p0":"x","p1":["list"]}', '{"a":"Chat","p0":"x","p1":{"t":"obj"}}',
        '{"a":"Chat","p0":"x","p1":true}'],
    "client_sent_disconnect_of_another_player": lambda b, m, o: [J(pkt("Disconnect", o.aid)),
                                                                 J(pkt("Disconnect", m.aid))],
    "client_sent_disconnect_of_itself": lambda b, m, o: [J(pkt("Disconnect", b.aid)),
                                                         J(pkt("Disconnect"))],
    "client_sent_ok_and_deny": lambda b, m, o: ['{"a":"Ok"}', '{"a":"Deny","p0":"no"}',
                                                '{"a":"Deny"}'],
    "client_sent_model_delta": lambda b, m, o: [
        J(pkt("ModelDelta", {"id": m.aid, "model_type": "Actor", "instanced_entity": {
            "id": m.own["instanced_entity"]["id"], "model_type": "InstancedEntity",
            "x": 900, "y": 700}})),
        J(pkt("ModelDelta", {"id": b.aid, "model_type": "Actor", "avatar_id": 5})),
        J(pkt("ModelDelta", "garbage")), J(pkt("ModelDelta"))],
    "empty_text_message": lambda b, m, o: [''],
    "empty_binary_message": lambda b, m, o: [b''],
    "malformed_json": lambda b, m, o: ['{"a":"Chat",', 'not json at all',
                                       '{"a":"Chat","p0":"x","p1":"trailing"} x', '{"a":Chat}',
                                       "{'a':'Chat','p0':'x','p1':'single quotes'}"],
    "non_object_json": lambda b, m, o: ['[]', '"Chat"', '42', 'null', 'true',
                                        '[{"a":"Chat","p0":"x","p1":"in an array"}]'],
    "missing_action": lambda b, m, o: ['{"p0":"x","p1":"no action"}', '{}'],
    "non_string_action": lambda b, m, o: ['{"a":5,"p0":"x"}', '{"a":null}',
                                          '{"a":["Chat"],"p0":"x","p1":"action list"}',
                                          '{"a":{"n":"Chat"},"p0":"x","p1":"action obj"}'],
    "odd_payload_keys": lambda b, m, o: [
        '{"a":"Chat","p0":"x","p2":"gap chat"}', '{"a":"Chat","p1":"no p0 chat"}',
        '{"a":"Chat","p0":"x","p1":"extra key chat","x":1}',
        '{"a":"Chat","p0":"x","p1":"upper P chat","P2":1}',
        '{"a":"Chat","p0":"x","p1":"negative key chat","p-1":1}',
        '{"a":"Target","p0":9,"p1":9,"q":1}', '{"a":"Target","p1":9,"p2":9}'],
    "deeply_nested_json": lambda b, m, o: ['[' * 2000 + ']' * 2000,
                                           '{"a":"Chat","p0":"x","p1":' + '[' * 1500 + ']' * 1500
                                           + '}'],
    "binary_frame_not_json": lambda b, m, o: [b"not json", b"\x00\x01"],
    "duplicate_keys": lambda b, m, o: ['{"a":"Chat","p0":"x","p1":"dup 1","p1":"dup 2"}',
                                       '{"a":"Fly","a":"Fly","p0":1}'],
    "login_and_register_in_play": lambda b, m, o: [J(pkt("Login", b.name, b.password)),
                                                   J(pkt("Register", "newname_x", "pw", 1)),
                                                   J(pkt("Login", "x"))],
}

# Chats whose text must never be relayed (they are all inside malformed or ignored packets).
FORBIDDEN_CHAT_TEXT = ("one payload chat", "three", "trailing", "single quotes", "in an array",
                       "no action", "action list", "action obj", "gap chat", "no p0 chat",
                       "extra key chat", "upper P chat", "negative key chat")


class PlayStateBadInput(ServerTestCase):

    async def bad_player(self):
        cls = type(self)
        bad = getattr(cls, "_bad", None)
        if bad is None or bad.closed:
            bad = cls._bad = await self.player("bad", keep=True)
            mover, observer = await self.world_pair()
            await observer.wait_for(lambda p: p.get("a") == "ModelDelta" and p["p0"]["id"] == bad.aid,
                                    what="the bad player's model")
        return bad

    async def check_ignored(self, case):
        mover, observer = await self.world_pair()
        bad = await self.bad_player()
        frames = PLAY_CASES[case](bad, mover, observer)
        mark_bad, mark_obs, mark_mover = bad.mark(), observer.mark(), mover.mark()
        for f in frames:
            await bad.send_raw(f)
        # Still connected, still in PLAY, packets after the bad ones are handled in order.
        token = "still here after %s" % case
        await bad.chat(token)
        got = await observer.wait_for(is_chat(token), what="the bad sender's next chat (%s)" % case)
        self.assertEqual(got["p0"], bad.name)
        await self.assert_world_runs("after %s" % case)
        self.assertFalse(bad.closed, "the sender of %s was disconnected" % case)
        self.assertEqual(bad.since(mark_bad, is_action("Ok", "Deny")), [],
                         "no reply in PLAY to %s" % case)
        for c in (observer, mover):
            mark = mark_obs if c is observer else mark_mover
            self.assertEqual(c.since(mark, is_disconnect()), [],
                             "%s caused a Disconnect" % case)
        chats = [p["p1"] for p in observer.since(mark_obs, is_chat()) if p["p0"] == bad.name]
        for text in FORBIDDEN_CHAT_TEXT:
            self.assertNotIn(text, chats, "a chat inside an ignored packet was relayed")
        if case != "duplicate_keys":
            self.assertEqual(chats, [token])
        # Nobody was moved by the ignored packets: no delta puts anyone at (500, 500) or (900, 700).
        for p in observer.since(mark_obs, is_action("ModelDelta")):
            pos = position_of(p)
            self.assertNotIn(pos, ((500, 500), (900, 700)), "moved by an ignored packet: %s" % p)
        self.assertEqual(observer.since(mark_obs, is_move_of(bad.aid)), [],
                         "the bad sender moved although its Targets were all invalid")


def _make_test(case):
    @async_test
    async def test(self):
        await self.check_ignored(case)
    return test


for _case in PLAY_CASES:
    setattr(PlayStateBadInput, "test_play_ignores_%s_and_world_keeps_running" % _case,
            _make_test(_case))


class WorldKeepsRunning(ServerTestCase):

    @async_test
    async def test_flood_of_bad_packets_from_one_player_does_not_delay_others(self):
        bad = await self.player("flood")
        await self.world_pair()
        frames = ['{"a":"Fly"}', 'not json', '{"a":"Target","p0":NaN,"p1":1}', '[]'] * 100
        send = asyncio.ensure_future(self._send_all(bad, frames))
        await self.assert_world_runs("during a flood of bad packets")
        await send
        await self.assert_world_runs("after a flood of bad packets")

    async def _send_all(self, c, frames):
        for f in frames:
            try:
                await c.send_raw(f)
            except Exception:
                return

    @async_test
    async def test_many_players_leaving_at_once_does_not_stop_the_world(self):
        await self.world_pair()
        leavers = await self.players(6, "leaver")
        for i, c in enumerate(leavers):
            await c.send(pkt("Target", 50 + i, 50))
            await c.send(pkt("Chat", c.name, "leaving %d" % i))
        for i, c in enumerate(leavers):
            if i % 2:
                c.abort()
            else:
                asyncio.ensure_future(c.close())
        await self.assert_world_runs("after six players left at once")
        mover, observer = await self.world_pair()
        await asyncio.sleep(0.3)
        for c in leavers:
            self.assertEqual(len(observer.since(0, is_disconnect(c.aid))), 1)


if __name__ == "__main__":
    unittest.main()
