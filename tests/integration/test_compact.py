"""cmmo.v2 (docs/PROTOCOL.md, "Compact movement"): a client that offers the WebSocket subprotocol
cmmo.v2 gets it selected and is sent movement as {"a":"Move","p0":[id,x,y]} and, once after its
own model, the world size as {"a":"World","p0":W,"p1":H}; everyone else is sent exactly what a
legacy client always got, in the same world at the same time."""

import unittest

from harness import (ServerTestCase, async_test, is_action, is_at, is_full_model_of, is_move_of,
                     pkt, unique_name)

V2 = "cmmo.v2"


def is_compact_move_of(actor_id):
    return lambda p: (isinstance(p, dict) and p.get("a") == "Move" and isinstance(p.get("p0"), list)
                      and len(p["p0"]) == 3 and p["p0"][0] == actor_id)


class Compact(ServerTestCase):

    async def v2_player(self, tag, **kwargs):
        name = unique_name(tag)
        c = await self.client(name, subprotocols=[V2], **kwargs)
        self.assertEqual(c.ws.subprotocol, V2, "the server selects cmmo.v2")
        self.assertEqual(await c.register(name, "pw-" + name), {"a": "Ok"})
        self.assertEqual(await c.login(name, "pw-" + name), {"a": "Ok"})
        return c

    @async_test
    async def test_offered_subprotocol_is_selected_among_others(self):
        c = await self.client("multi", subprotocols=["chat.example", V2])
        self.assertEqual(c.ws.subprotocol, V2)

    @async_test
    async def test_other_subprotocols_alone_get_none_and_legacy_play(self):
        c = await self.client("other", subprotocols=["chat.example"])
        self.assertIsNone(c.ws.subprotocol)
        name = unique_name("other")
        self.assertEqual(await c.register(name, "pw-" + name), {"a": "Ok"})
        self.assertEqual(await c.login(name, "pw-" + name), {"a": "Ok"})
        mark = c.mark()
        await self.walk_and_wait(c, 7, 0)
        self.assertEqual(c.since(mark, is_action("Move")), [])

    @async_test
    async def test_v2_and_legacy_clients_see_the_same_walk_in_their_own_encoding(self):
        v2 = await self.v2_player("v2")
        legacy = await self.player("legacy")
        # Both were introduced with full models, the v2 client's first packet is its own model.
        self.assertEqual(v2.own["model_type"], "Actor")
        await v2.wait_for(is_full_model_of(legacy.aid), what="legacy's full model")
        await legacy.wait_for(is_full_model_of(v2.aid), what="v2's full model")
        m2, ml = v2.mark(), legacy.mark()
        await legacy.send(pkt("Target", 30, 40))
        await legacy.wait_for(is_at(legacy.aid, 30, 40), what="legacy arriving")
        await v2.wait_for(lambda p: is_compact_move_of(legacy.aid)(p) and p["p0"][1:] == [30, 40],
                          what="the compact Move of legacy's arrival")
        exact = [p["p0"]["instanced_entity"] for p in legacy.since(ml, is_move_of(legacy.aid))]
        compact = [p["p0"] for p in v2.since(m2, is_compact_move_of(legacy.aid))]
        self.assertEqual(len(compact), len(exact), "one Move per legacy delta")
        # Kind 2 frames on the default 1344 px map carry 1/32 px: exact to half of that.
        for c, e in zip(compact, exact):
            self.assertAlmostEqual(c[1], e["x"], delta=1 / 64 + 1e-9)
            self.assertAlmostEqual(c[2], e["y"], delta=1 / 64 + 1e-9)
            self.assertEqual(c[1], round(e["x"] * 32) / 32)
        self.assertEqual(v2.since(m2, is_move_of(legacy.aid)), [], "no legacy deltas to v2")
        # The v2 client's own walk comes compact to it and as ModelDelta to the legacy client.
        m2, ml = v2.mark(), legacy.mark()
        await v2.send(pkt("Target", 0, 10.5))
        await legacy.wait_for(is_at(v2.aid, 0, 10.5), what="v2 arriving, seen by legacy")
        await v2.wait_for(lambda p: is_compact_move_of(v2.aid)(p) and p["p0"][1:] == [0, 10.5],
                          what="v2's own compact arrival")
        self.assertEqual(legacy.since(ml, is_action("Move")), [])
        # Raw bytes: movement comes only in binary Moves frames, never as text.
        self.assertTrue(any(isinstance(r, bytes) for r in v2.raws))
        self.assertFalse(any(isinstance(r, str) and '"Move"' in r for r in v2.raws))

    @async_test
    async def test_chat_and_disconnect_are_unchanged_for_v2(self):
        v2 = await self.v2_player("v2chat")
        legacy = await self.player("legchat")
        await v2.wait_for(is_full_model_of(legacy.aid), what="legacy's full model")
        await legacy.chat("hello v2")
        got = await v2.wait_for(lambda p: p.get("a") == "Chat" and p.get("p1") == "hello v2",
                                what="the chat")
        self.assertEqual(got["p0"], legacy.name)
        await legacy.close()
        await v2.wait_for(lambda p: p == {"a": "Disconnect", "p0": legacy.aid},
                          what="legacy's Disconnect")


class CompactWorldSize(ServerTestCase):
    """The World packet, on a server far larger than the default map (the browser client draws
    and clamps clicks to what it says)."""

    server_options = {"world": "16000x12000"}

    @async_test
    async def test_v2_client_gets_the_world_size_right_after_its_own_model(self):
        name = unique_name("v2world")
        c = await self.client(name, subprotocols=[V2])
        self.assertEqual(c.ws.subprotocol, V2)
        self.assertEqual(await c.register(name, "pw-" + name), {"a": "Ok"})
        start = c.mark()
        self.assertEqual(await c.login(name, "pw-" + name), {"a": "Ok"})
        await c.wait_for(is_action("World"), what="the World packet")
        got = c.packets[start:]
        ok = got.index({"a": "Ok"})
        self.assertTrue(is_full_model_of(c.aid)(got[ok + 1]), "own full model right after Ok")
        self.assertEqual(got[ok + 2], {"a": "World", "p0": 16000, "p1": 12000})
        self.assertIn('{"a":"World","p0":16000,"p1":12000}', c.raws[start:])
        # Once per login.
        await self.assert_no_packet(c, is_action("World"), what="second World packet")

    @async_test
    async def test_legacy_client_never_gets_a_world_packet(self):
        legacy = await self.player("legworld")
        self.assertIsNone(legacy.ws.subprotocol)
        await self.walk_and_wait(legacy, 7, 0)
        await self.assert_no_packet(legacy, is_action("World"), what="World packet")
        self.assertEqual([p for p in legacy.packets if p.get("a") == "World"], [])
        self.assertFalse(any('"World"' in r for r in legacy.raws))


if __name__ == "__main__":
    unittest.main()
