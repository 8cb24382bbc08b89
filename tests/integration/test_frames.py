"""WebSocket-level reactions (docs/PROTOCOL.md sections 1, 6, 7): invalid UTF-8 -> 1007, messages
over 4 KiB -> 1009, RFC 6455 violations -> 1002; fragments and pings work. After each close the
world keeps running."""

import asyncio
import json
import unittest

import websockets

from harness import (RawWebSocket, ServerTestCase, async_test, is_chat, is_disconnect, pkt,
                     unique_name)

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10
LIMIT = 4096


def chat_of_size(size, name="x"):
    """A Chat packet whose JSON text is exactly size bytes."""
    base = json.dumps(pkt("Chat", name, ""), separators=(",", ":"))
    text = json.dumps(pkt("Chat", name, "y" * (size - len(base))), separators=(",", ":"))
    assert len(text.encode()) == size
    return text


class MessageLimits(ServerTestCase):

    @async_test
    async def test_invalid_utf8_text_frame_closes_with_1007(self):
        c = await self.client()
        await c.ws.write_frame(True, OP_TEXT, b'{"a":"Login","p0":"\xff\xfe","p1":"x"}')
        self.assertEqual(await c.wait_closed(), 1007)
        await self.assert_world_runs("after a 1007 close")

    @async_test
    async def test_invalid_utf8_in_play_closes_1007_and_others_get_disconnect(self):
        mover, observer = await self.world_pair()
        c = await self.player("badutf")
        await observer.wait_for(lambda p: p.get("a") == "ModelDelta" and p["p0"]["id"] == c.aid,
                                what="the player's model")
        await c.ws.write_frame(True, OP_TEXT, b'{"a":"Chat","p0":"x","p1":"\xc3\x28"}')
        self.assertEqual(await c.wait_closed(), 1007)
        await observer.wait_for(is_disconnect(c.aid), what="Disconnect of the closed player")
        self.assertEqual([p for p in observer.since(0, is_chat()) if p["p0"] == c.name], [])
        await self.assert_world_runs("after a 1007 close in PLAY")

    @async_test
    async def test_message_over_4_kib_closes_with_1009(self):
        c = await self.client()
        await c.send_raw(chat_of_size(LIMIT + 1))
        self.assertEqual(await c.wait_closed(), 1009)
        await self.assert_world_runs("after a 1009 close")

    @async_test
    async def test_megabyte_chat_in_play_closes_1009_and_is_not_relayed(self):
        mover, observer = await self.world_pair()
        c = await self.player("huge")
        try:
            await c.send(pkt("Chat", c.name, "z" * (1 << 20)))
        except websockets.ConnectionClosed:
            pass  # the server may close before the whole message is written
        self.assertEqual(await c.wait_closed(), 1009)
        await observer.wait_for(is_disconnect(c.aid), what="Disconnect of the closed player")
        self.assertEqual([p for p in observer.since(0, is_chat()) if p["p0"] == c.name], [])
        await self.assert_world_runs("after a 1 MiB chat")

    @async_test
    async def test_message_of_exactly_4_kib_is_accepted(self):
        mover, observer = await self.world_pair()
        c = await self.player("exact")
        await c.send_raw(chat_of_size(LIMIT, c.name))
        got = await observer.wait_for(lambda p: is_chat()(p) and p["p0"] == c.name,
                                      what="the 4 KiB chat (cut to 256)")
        self.assertEqual(got["p1"], "y" * 256)
        self.assertFalse(c.closed)

    @async_test
    async def test_fragmented_message_over_4_kib_closes_with_1009(self):
        c = await self.client()
        text = chat_of_size(6000).encode()
        await c.ws.write_frame(False, OP_TEXT, text[:3000])
        try:
            await c.ws.write_frame(True, OP_CONT, text[3000:])
        except Exception:
            pass  # the server may already have closed
        self.assertEqual(await c.wait_closed(), 1009)
        await self.assert_world_runs("after a fragmented 1009 close")

    @async_test
    async def test_fragmented_message_is_reassembled(self):
        c = await self.client()
        name = unique_name("frag")
        text = json.dumps(pkt("Register", name, "pw-frag", 2)).encode()
        await c.ws.write_frame(False, OP_TEXT, text[:7])
        await c.ws.write_frame(False, OP_CONT, text[7:20])
        await c.ws.write_frame(True, OP_CONT, text[20:])
        self.assertEqual(await c.reply(), {"a": "Ok"})

    @async_test
    async def test_ping_is_answered_with_pong(self):
        c = await self.client()
        waiter = await c.ws.ping(b"are you there")
        await asyncio.wait_for(waiter, 3)

    @async_test
    async def test_client_offering_permessage_deflate_still_connects(self):
        c = await self.client(compression="deflate")
        self.assertIsNone(c.ws.response_headers.get("Sec-WebSocket-Extensions"),
                          "no extensions are negotiated")
        name = unique_name("deflate")
        self.assertEqual(await c.register(name, "pw", 0), {"a": "Ok"})


# name -> function(raw socket) that commits the violation.
RFC_VIOLATIONS = {
    "unmasked_frame": lambda ws: ws.send_frame(OP_TEXT, b'{"a":"Fly"}', mask=False),
    "reserved_bits": lambda ws: ws.send_frame(OP_TEXT, b'{"a":"Fly"}', rsv=4),
    "unknown_opcode": lambda ws: ws.send_frame(3, b"x"),
    "unknown_control_opcode": lambda ws: ws.send_frame(0xB, b"x"),
    "oversized_ping": lambda ws: ws.send_frame(OP_PING, b"p" * 126),
    "fragmented_ping": lambda ws: ws.send_frame(OP_PING, b"p", fin=False),
    "continuation_without_start": lambda ws: ws.send_frame(OP_CONT, b'{"a":"Fly"}'),
    "new_message_inside_fragmented_one": lambda ws: (ws.send_frame(OP_TEXT, b'{"a":', fin=False),
                                                     ws.send_frame(OP_TEXT, b'"Fly"}')),
    "close_with_invalid_code": lambda ws: ws.send_frame(OP_CLOSE, b"\x03\xe7"),  # 999
    "close_with_reserved_code_1005": lambda ws: ws.send_frame(OP_CLOSE, b"\x03\xed"),
    "close_with_one_byte_payload": lambda ws: ws.send_frame(OP_CLOSE, b"\x03"),
}


class RfcViolations(ServerTestCase):

    async def check(self, case):
        loop = asyncio.get_running_loop()

        def run():
            ws = RawWebSocket(self.server.port)
            try:
                RFC_VIOLATIONS[case](ws)
                return ws.recv_close_code()
            finally:
                ws.close()

        code = await loop.run_in_executor(None, run)
        self.assertEqual(code, 1002, "close code after %s" % case)
        await self.assert_world_runs("after %s" % case)

    @async_test
    async def test_raw_ping_gets_pong_with_same_payload_and_close_is_echoed(self):
        loop = asyncio.get_running_loop()

        def run():
            ws = RawWebSocket(self.server.port)
            try:
                ws.send_frame(OP_PING, b"hello")
                op, data = ws.recv_frame()
                ws.send_frame(OP_CLOSE, b"\x03\xe8bye")  # 1000
                return op, data, ws.recv_close_code()
            finally:
                ws.close()

        op, data, code = await loop.run_in_executor(None, run)
        self.assertEqual((op, data), (OP_PONG, b"hello"))
        self.assertEqual(code, 1000)


def _make_test(case):
    @async_test
    async def test(self):
        await self.check(case)
    return test


for _case in RFC_VIOLATIONS:
    setattr(RfcViolations, "test_%s_closes_with_1002" % _case, _make_test(_case))


if __name__ == "__main__":
    unittest.main()
