"""Chat sent when read (docs/PROTOCOL.md section 5): a chat line from a player in the world is
relayed in the loop iteration that read it, not with the next tick; it is still validated,
rate-limited and never echoed, and it keeps its place among that speaker's packets.

The server here ticks twice a second, so a line that waited for the tick would arrive up to
half a second late. Each line is sent right after a tick (just after a movement delta arrived), where
waiting for the next tick would cost the whole 500 ms."""

import asyncio
import time

from harness import ServerTestCase, async_test, is_chat, is_move_of, pkt

# Far below the 500 ms tick, far above loopback and a sanitized server's scheduling noise.
LATE_S = 0.25


class ChatNow(ServerTestCase):

    server_options = {"tick_hz": 2}

    async def just_after_a_tick(self, walker, viewer):
        """Keeps walker walking and returns once viewer got a movement delta: a tick just ran."""
        await walker.send(pkt("Target", 1300, 800))
        await viewer.wait_for(is_move_of(walker.aid), timeout=5, what="a tick's delta")
        await viewer.wait_for(is_move_of(walker.aid), timeout=5, what="the next tick's delta")

    @async_test
    async def test_chat_arrives_long_before_the_next_tick(self):
        speaker, listener = await self.player("speak"), await self.player("listen")
        for i in range(3):
            await self.just_after_a_tick(speaker, listener)
            mark = listener.mark()
            sent = time.monotonic()
            await speaker.chat("now %d" % i)
            await listener.wait_for(is_chat("now %d" % i), timeout=3, what="the chat line")
            index = next(k for k in range(mark, len(listener.packets))
                         if is_chat("now %d" % i)(listener.packets[k]))
            took = listener.times[index] - sent
            self.assertLess(took, LATE_S, "chat line %d took %.0f ms with a 500 ms tick"
                            % (i, took * 1000))

    @async_test
    async def test_chat_read_after_a_target_comes_before_that_targets_movement(self):
        speaker, listener = await self.player("tgt"), await self.player("tgtl")
        await self.just_after_a_tick(listener, speaker)  # a tick just ran: the next is a second away
        await speaker.send(pkt("Target", speaker.own["instanced_entity"]["x"] + 50, 400))
        await speaker.chat("walking")
        await listener.wait_for(is_chat("walking"), timeout=3, what="the chat line")
        got = [p for p in listener.packets if is_chat("walking")(p) or is_move_of(speaker.aid)(p)]
        self.assertTrue(is_chat("walking")(got[0]),
                        "the line goes out before the movement of the Target read before it")
        await listener.wait_for(is_move_of(speaker.aid), timeout=3, what="the movement")

    @async_test
    async def test_lines_keep_their_order_and_are_never_echoed(self):
        speaker, listener = await self.player("ord"), await self.player("ordl")
        mark_s = speaker.mark()
        for i in range(5):
            await speaker.send(pkt("Chat", speaker.name, "line %d" % i))
        await listener.wait_for(is_chat("line 4"), timeout=3, what="the last line")
        lines = [p["p1"] for p in listener.packets if is_chat()(p) and p["p1"].startswith("line")]
        self.assertEqual(lines, ["line %d" % i for i in range(5)])
        await asyncio.sleep(0.2)
        self.assertEqual(speaker.since(mark_s, is_chat()), [], "never echoed to the sender")

    @async_test
    async def test_a_line_over_the_chat_budget_is_still_dropped(self):
        speaker, listener = await self.player("rate"), await self.player("ratel")
        for i in range(12):  # a burst of 10, then over budget
            await speaker.send(pkt("Chat", speaker.name, "burst %d" % i))
        await listener.wait_for(is_chat("burst 9"), timeout=3, what="the tenth line")
        await asyncio.sleep(0.3)
        got = [p["p1"] for p in listener.packets if is_chat()(p) and p["p1"].startswith("burst")]
        self.assertEqual(got, ["burst %d" % i for i in range(10)])


class ChatShareZero(ServerTestCase):
    """--chat-share 0: no flushes between ticks; a chat line waits for the tick, as before
    chat was sent when read (what --chat-share auto does above 256 connections)."""

    server_options = {"tick_hz": 2, "extra_args": ["--chat-share", "0"]}

    @async_test
    async def test_chat_waits_for_the_tick(self):
        speaker, listener = await self.player("wait"), await self.player("waitl")
        await ChatNow.just_after_a_tick(self, speaker, listener)
        sent = time.monotonic()
        mark = listener.mark()
        await speaker.chat("later")
        await listener.wait_for(is_chat("later"), timeout=3, what="the chat line")
        index = next(k for k in range(mark, len(listener.packets))
                     if is_chat("later")(listener.packets[k]))
        took = listener.times[index] - sent
        self.assertGreater(took, LATE_S, "the line came %.0f ms after it was sent, before the "
                           "next tick" % (took * 1000))
