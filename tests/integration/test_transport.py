"""Client input over ws:// and wss:// alike. Every test here runs over both transports: a plain
connection and a TLS one must pause, hold and resume their input the same way.

The server reads a connection's messages into its session's queue; at 64 queued messages it
stops reading that connection until the next tick (docs/SECURITY.md section 2), and what it had
read but not parsed waits, in order, for the tick. Over TLS the bytes arrive in records whose
boundaries fall anywhere inside a WebSocket frame, and decrypting must not get ahead of the
bytes held back: issue 11 found an honest wss:// client cut off with 1002 after a 29 KB write.
"""

import asyncio
import json
import tempfile
import unittest

from harness import (Client, RawWebSocket, ServerTestCase, async_test, client_tls_context,
                     is_action, is_at, is_chat, make_certificate, pkt, unique_name)

# The per-tick bound of docs/SECURITY.md: this many queued messages pause the connection.
QUEUE_SOFT = 64

_tls_dir = tempfile.mkdtemp(prefix="cmmo-it-transport-")
_cert, _key = make_certificate(_tls_dir)

# Messages that get a Deny in LOGIN without a password hash, each with its own reason
# (docs/PROTOCOL.md section 7): a run of them shows from the replies alone that every message
# was handled, once, in the order sent.
CHEAP_DENIALS = [
    (b"not json", "Malformed packet"),
    (b'{"a":"Nope"}', "Unknown action"),
    (b'{"a":"Register","p0":1}', "Malformed Register"),
    (b'{"a":"Login","p0":1}', "Malformed Login"),
    (b'{"a":"Login","p0":"","p1":""}', "Username or password must not be empty"),
]


def masked(payload):
    """A client text frame (masked, as RFC 6455 requires of clients)."""
    return RawWebSocket.frame(1, payload)


class PausedInput:
    """The tests; PausedInputOverWs and PausedInputOverWss run them on each transport."""

    tls = False

    @property
    def url(self):
        return "%s://127.0.0.1:%d/" % ("wss" if self.tls else "ws", self.server.port)

    async def login(self, tag):
        name = unique_name(tag)
        kwargs = {"ssl": client_tls_context()} if self.tls else {}
        c = await Client.connect(self.url, name, **kwargs)
        self._clients.append(c)
        self.assertEqual(await c.register(name, "pw-" + name), {"a": "Ok"})
        self.assertEqual(await c.login(name, "pw-" + name), {"a": "Ok"})
        return c

    @async_test
    async def test_150_padded_targets_and_chats_in_one_write_are_all_handled_in_order(self):
        # The attack of issue 11: 150 Targets of about 195 bytes (JSON whitespace), 29 KB in one
        # write, so TLS cuts it into records at 16 KiB, inside a frame and past the pause at 64.
        # Chats among them (within the chat burst of 10) show the order to a second player.
        mover = await self.login("burst")
        observer = await self.login("watch")
        await observer.wait_for(lambda p: p.get("a") == "ModelDelta"
                                and p["p0"].get("id") == mover.aid, what="the mover's model")
        frames, chats, last = [], [], None
        for i in range(150):
            last = (100 + i, 200 + i % 7)
            pad = b" " * 160
            frames.append(masked(b'{"a":"Target","p0":%d,"p1":%d%s}' % (last[0], last[1], pad)))
            if i % 16 == 15:
                text = "order %d" % len(chats)
                chats.append(text)
                frames.append(masked(json.dumps(pkt("Chat", mover.name, text)).encode()))
        burst = b"".join(frames)
        self.assertGreater(len(burst), 29000)
        mover.ws.transport.write(burst)
        await mover.wait_for(is_at(mover.aid, *last), 10.0,
                             "the mover arriving at the last Target %r" % (last,))
        seen = []
        for _ in chats:
            got = await observer.wait_for(is_chat(), what="the chats of the burst")
            seen.append(got["p1"])
        self.assertEqual(seen, chats, "chats out of order or missing")
        self.assertFalse(mover.closed, "an honest burst closed the connection (code %s)"
                         % mover.ws.close_code)

    async def check_records(self, cuts_of, what):
        """Sends 96 cheap denials in one TCP write, over TLS cut into records at the offsets
        cuts_of(frame_starts, frames) returns: the connection pauses at 64 with the rest of the
        write already read. Asserts one Deny per message, in order, and no close."""
        ws = RawWebSocket(self.server.port, tls=self.tls)
        loop = asyncio.get_running_loop()
        try:
            n = QUEUE_SOFT * 3 // 2
            kinds = [CHEAP_DENIALS[i % len(CHEAP_DENIALS)] for i in range(n)]
            frames = [masked(m) for m, _ in kinds]
            starts = [sum(len(f) for f in frames[:i]) for i in range(n)]
            stream = b"".join(frames)
            cuts = sorted(set(c for c in cuts_of(starts, frames) if 0 < c < len(stream)))
            pieces = [stream[a:b] for a, b in zip([0] + cuts, cuts + [len(stream)])]
            await loop.run_in_executor(None, ws.send_pieces, pieces)
            reasons = []
            while len(reasons) < n:
                op, data = await loop.run_in_executor(None, ws.recv_frame)
                if op == 8:
                    code = int.from_bytes(data[:2], "big") if len(data) >= 2 else None
                    self.fail("closed with %s after %d replies (%s)" % (code, len(reasons), what))
                if op == 1:
                    p = json.loads(data)
                    self.assertTrue(is_action("Deny")(p), p)
                    reasons.append(p["p0"])
            self.assertEqual(reasons, [reason for _, reason in kinds], what)
        finally:
            ws.close()

    @async_test
    async def test_record_boundary_at_every_offset_of_a_frame_while_paused_keeps_the_stream(self):
        # Every frame cut into two records at the same offset k (at its last byte if shorter),
        # so whichever message pauses, the next record starts inside a frame.
        longest = max(len(masked(m)) for m, _ in CHEAP_DENIALS)
        for k in range(1, longest):
            await self.check_records(
                lambda starts, frames: [s + min(k, len(f) - 1) for s, f in zip(starts, frames)],
                "a record boundary %d bytes into every frame" % k)

    @async_test
    async def test_records_of_whole_frames_while_paused_keep_their_order(self):
        # Records that end where frames end: the frames after the pausing one in the same
        # record are held, and must still come before those of the next records.
        for per_record in (1, 2, 3, 5):
            await self.check_records(lambda starts, frames: starts[per_record::per_record],
                                     "records of %d whole frames" % per_record)


class PausedInputOverWs(PausedInput, ServerTestCase):
    tls = False


class PausedInputOverWss(PausedInput, ServerTestCase):
    tls = True
    server_options = {"extra_args": ["--tls-cert", _cert, "--tls-key", _key]}


if __name__ == "__main__":
    unittest.main()
