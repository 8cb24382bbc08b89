"""Limits of docs/PROTOCOL.md (sections 3 and 6), defects 4, 6, 7 and 9 of the reference:
chat length, control characters, BBCode, usernames, passwords, avatars, packets before a close."""

import asyncio
import unittest

from harness import (ServerTestCase, async_test, http_get, is_chat, is_disconnect,
                     is_full_model_of, pkt, unique_name)

EMPTY = "Username or password must not be empty"
USERNAME = "Username must be 1 to 20 letters, digits, _ or -"
PASSWORD = "Password must be at most 128 bytes"
AVATAR = "Avatar must be an integer from 0 to 5"
TAKEN = "This username is already taken"


def deny(text):
    return {"a": "Deny", "p0": text}


class ChatLimits(ServerTestCase):

    async def pair(self):
        cls = type(self)
        if getattr(cls, "_chat_pair", None) is None or any(c.closed for c in cls._chat_pair):
            a = await self.player("talk", keep=True)
            b = await self.player("hear", keep=True)
            cls._chat_pair = (a, b)
        return cls._chat_pair

    async def relayed(self, text, sentinel=None):
        """Send text; return what the listener got (None if nothing before the sentinel)."""
        a, b = await self.pair()
        mark = b.mark()
        await a.chat(text)
        sentinel = sentinel or "sentinel %d" % mark
        await a.chat(sentinel)
        await b.wait_for(is_chat(sentinel), what="the sentinel chat")
        got = [p["p1"] for p in b.since(mark, is_chat()) if p["p1"] != sentinel]
        self.assertLessEqual(len(got), 1, "one chat relayed at most: %r" % got)
        for p in b.since(mark, is_chat()):
            self.assertEqual(p["p0"], a.name)
        return got[0] if got else None

    @async_test
    async def test_chat_over_256_characters_is_cut_to_256(self):
        text = "".join(chr(ord("a") + i % 26) for i in range(300))
        self.assertEqual(await self.relayed(text), text[:256])

    @async_test
    async def test_chat_of_exactly_256_characters_is_relayed_whole(self):
        text = "0123456789abcdef" * 16
        self.assertEqual(await self.relayed(text), text)

    @async_test
    async def test_chat_is_cut_to_256_code_points_not_bytes(self):
        self.assertEqual(await self.relayed("\u00e9" * 300), "\u00e9" * 256)
        self.assertEqual(await self.relayed("\U0001F600" * 300), "\U0001F600" * 256)

    @async_test
    async def test_control_characters_are_removed_from_chat(self):
        text = "a\x01b\x1fc\x7fd\x80e\x9ff\ng\th\ri\x1bj"
        self.assertEqual(await self.relayed(text), "abcdefghij")

    @async_test
    async def test_nul_character_is_removed_from_chat(self):
        self.assertEqual(await self.relayed("x\x00y"), "xy")

    @async_test
    async def test_control_characters_are_removed_before_the_cut(self):
        self.assertEqual(await self.relayed("\x01" * 20 + "q" * 300), "q" * 256)

    @async_test
    async def test_empty_chat_is_ignored(self):
        self.assertIsNone(await self.relayed(""))

    @async_test
    async def test_chat_of_only_control_characters_is_ignored(self):
        self.assertIsNone(await self.relayed("\x01\x02\n\t\x7f"))

    @async_test
    async def test_bbcode_brackets_arrive_as_full_width_brackets(self):
        self.assertEqual(await self.relayed("[b]x[/b]"), "\uff3bb\uff3dx\uff3b/b\uff3d")
        self.assertEqual(await self.relayed("[url=http://evil]click[/url] [color=red]"),
                         "\uff3burl=http://evil\uff3dclick\uff3b/url\uff3d "
                         "\uff3bcolor=red\uff3d")

    @async_test
    async def test_other_text_is_relayed_verbatim(self):
        text = "quotes \" and \\ backslash, <html> & {json} \u00fc\u4e2d"
        self.assertEqual(await self.relayed(text), text)


class Registration(ServerTestCase):

    async def reg(self, name, password="pw-ok", avatar=0):
        c = await self.client()
        return await c.register(name, password, avatar)

    @async_test
    async def test_username_of_21_characters_is_denied(self):
        self.assertEqual(await self.reg("a" * 21), deny(USERNAME))

    @async_test
    async def test_username_of_20_characters_is_accepted(self):
        name = unique_name("twenty") + "x" * 20
        self.assertEqual(await self.reg(name[:20]), {"a": "Ok"})

    @async_test
    async def test_username_with_space_is_denied(self):
        self.assertEqual(await self.reg("bad name"), deny(USERNAME))
        self.assertEqual(await self.reg(" lead"), deny(USERNAME))
        self.assertEqual(await self.reg("trail "), deny(USERNAME))

    @async_test
    async def test_unicode_username_is_denied(self):
        for name in ("b\u00e9a", "\u540d\u524d", "\u0430dmin", "x\U0001F600"):
            self.assertEqual(await self.reg(name), deny(USERNAME), name)

    @async_test
    async def test_username_with_markup_or_punctuation_is_denied(self):
        for name in ("[b]x", "a.b", "a@b", "a/b", "a'b", "a\tb", "a<b>"):
            self.assertEqual(await self.reg(name), deny(USERNAME), repr(name))

    @async_test
    async def test_username_of_letters_digits_underscore_dash_is_accepted(self):
        tail = unique_name("z").replace("_", "")[-6:]
        self.assertEqual(await self.reg("Ab_9-" + tail), {"a": "Ok"})
        self.assertEqual(await self.reg("_-" + tail), {"a": "Ok"})

    @async_test
    async def test_empty_username_or_password_is_denied_with_the_reference_text(self):
        self.assertEqual(await self.reg(""), deny(EMPTY))
        self.assertEqual(await self.reg(unique_name("nopw"), password=""), deny(EMPTY))
        c = await self.client()
        self.assertEqual(await c.login("", "pw"), deny(EMPTY))
        self.assertEqual(await c.login("someone", ""), deny(EMPTY))

    @async_test
    async def test_password_over_128_bytes_is_denied(self):
        self.assertEqual(await self.reg(unique_name("longpw"), password="p" * 129),
                         deny(PASSWORD))

    @async_test
    async def test_password_length_is_counted_in_utf8_bytes(self):
        # 65 characters, 130 bytes: denied; 64 characters, 128 bytes: accepted and usable.
        self.assertEqual(await self.reg(unique_name("bytes"), password="\u00e9" * 65),
                         deny(PASSWORD))
        name = unique_name("bytes")
        self.assertEqual(await self.reg(name, password="\u00e9" * 64), {"a": "Ok"})
        c = await self.client()
        self.assertEqual(await c.login(name, "\u00e9" * 64), {"a": "Ok"})

    @async_test
    async def test_password_of_128_bytes_is_accepted(self):
        name = unique_name("pw128")
        self.assertEqual(await self.reg(name, password="k" * 128), {"a": "Ok"})
        c = await self.client()
        self.assertEqual(await c.login(name, "k" * 128), {"a": "Ok"})

    @async_test
    async def test_avatar_out_of_range_or_fractional_is_denied(self):
        for avatar in (6, -1, 2.5, 1e20, -0.5):
            self.assertEqual(await self.reg(unique_name("av"), avatar=avatar), deny(AVATAR),
                             "avatar %r" % avatar)

    @async_test
    async def test_avatar_given_as_string_is_denied(self):
        got = await self.reg(unique_name("avs"), avatar="2")
        self.assertEqual(got.get("a"), "Deny")
        self.assertIn(got.get("p0"), (AVATAR, "Malformed Register"))

    @async_test
    async def test_avatar_null_or_bool_is_denied(self):
        for avatar in (None, True):
            got = await self.reg(unique_name("avn"), avatar=avatar)
            self.assertEqual(got.get("a"), "Deny", "avatar %r" % avatar)
            self.assertIn(got.get("p0"), (AVATAR, "Malformed Register"))

    @async_test
    async def test_avatars_0_to_5_and_integral_float_are_accepted(self):
        for avatar, want in ((0, 0), (5, 5), (2.0, 2)):
            name = unique_name("avok")
            self.assertEqual(await self.reg(name, avatar=avatar), {"a": "Ok"})
            c = await self.client()
            await c.login(name, "pw-ok")
            self.assertEqual(c.own["avatar_id"], want)

    @async_test
    async def test_denied_registration_creates_nothing(self):
        name = unique_name("atomic")
        self.assertEqual(await self.reg(name, avatar=6), deny(AVATAR))
        self.assertEqual(await self.reg(name, password="x" * 200), deny(PASSWORD))
        c = await self.client()
        self.assertEqual(await c.login(name, "pw-ok"),
                         deny("Username or password incorrect"))
        self.assertEqual(await self.reg(name, avatar=3), {"a": "Ok"})


class PacketsBeforeClose(ServerTestCase):

    async def check_chat_before_close(self, abrupt):
        b = await self.player("stays")
        a = await self.player("leaves")
        await b.wait_for(is_full_model_of(a.aid), what="the leaver's model")
        await a.send(pkt("Target", 30, 40))
        await a.send(pkt("Chat", a.name, "last words"))
        if abrupt:
            a.abort()
        else:
            await a.close()
        got = await b.wait_for(is_chat("last words"), what="the chat sent just before the close")
        self.assertEqual(got["p0"], a.name)
        await b.wait_for(is_disconnect(a.aid), what="the Disconnect")
        await asyncio.sleep(0.3)
        self.assertEqual(len(b.since(0, is_disconnect(a.aid))), 1)
        self.assertEqual(len(b.since(0, is_chat("last words"))), 1)
        # Saved position: the Target was handled or not, but the position is on its path.
        c = await self.client()
        r = None
        for _ in range(20):
            r = await c.login(a.name, a.password)
            if r.get("p0") != "You are already logged in":
                break
            await asyncio.sleep(0.1)
        self.assertEqual(r, {"a": "Ok"})
        ie = c.own["instanced_entity"]
        x, y = ie["x"], ie["y"]
        self.assertTrue(0 <= x <= 30 and 0 <= y <= 40 and abs(x * 40 - y * 30) < 1e-6,
                        "saved position (%r, %r) is not on the path to (30, 40)" % (x, y))

    @async_test
    async def test_chat_sent_just_before_clean_close_is_relayed(self):
        await self.check_chat_before_close(abrupt=False)

    @async_test
    async def test_chat_sent_just_before_abrupt_close_is_relayed(self):
        await self.check_chat_before_close(abrupt=True)


class FloodLimits(ServerTestCase):
    """docs/PROTOCOL.md section 6: chat lines 2/s with bursts of 10 (10 over budget: 1008);
    client messages 40/s with bursts of 200 (200 over budget: 1008)."""

    @async_test
    async def test_chat_lines_over_the_budget_are_dropped_in_order(self):
        a, b = await self.players(2, "chatty")
        for i in range(15):
            await a.send(pkt("Chat", a.name, "burst %d" % i))
        await asyncio.sleep(0.8)
        lines = [p["p1"] for p in b.since(0, is_chat()) if p["p0"] == a.name]
        self.assertEqual(lines[:10], ["burst %d" % i for i in range(10)])
        self.assertLessEqual(len(lines), 12, "lines beyond the burst are dropped: %r" % lines)
        self.assertFalse(a.closed, "5 lines over budget must not close the connection")

    @async_test
    async def test_chat_over_the_budget_tells_the_sender_to_slow_down_once_a_second(self):
        a, b = await self.players(2, "hasty")
        for i in range(14):
            await a.send(pkt("Chat", a.name, "hurry %d" % i))
        await asyncio.sleep(0.6)
        notices = [p["p1"] for p in a.since(0, is_chat()) if p["p0"] == "Server"]
        self.assertEqual(notices, ["You are chatting too fast; slow down"],
                         "one notice for four dropped lines within a second")
        await asyncio.sleep(0.6)  # a second later, and the budget still spent: told again
        for i in range(2):
            await a.send(pkt("Chat", a.name, "again %d" % i))
        await asyncio.sleep(0.3)
        notices = [p["p1"] for p in a.since(0, is_chat()) if p["p0"] == "Server"]
        self.assertEqual(len(notices), 2, "a notice per second at most: %r" % notices)
        self.assertFalse([p for p in b.since(0, is_chat()) if p["p0"] == "Server"],
                         "the notice goes to the sender alone")

    @async_test
    async def test_chat_flood_closes_with_1008_and_others_get_disconnect(self):
        def flood_closes():
            status, _, body = http_get(self.server.port, "/metrics")
            self.assertEqual(status, 200)
            line = [l for l in body.decode().splitlines()
                    if l.startswith("cmmo_flood_closes_total ")]
            return int(line[0].split()[1])
        before = flood_closes()
        a, b = await self.players(2, "flooder")
        try:
            for i in range(40):
                await a.send(pkt("Chat", a.name, "flood %d" % i))
        except Exception:
            pass
        self.assertEqual(await a.wait_closed(), 1008)
        await b.wait_for(is_disconnect(a.aid), what="the flooder's Disconnect")
        lines = [p["p1"] for p in b.since(0, is_chat()) if p["p0"] == a.name]
        self.assertLessEqual(len(lines), 12)
        self.assertEqual(flood_closes() - before, 1, "a chat flood close counts as a flood close")
        self.assertRegex(self.server.stderr_text(), r"conn_flood_closed .*reason=chat")

    @async_test
    async def test_message_flood_closes_with_1008_and_the_world_keeps_running(self):
        await self.world_pair()
        a = await self.player("spammer")
        try:
            for i in range(600):
                await a.send(pkt("Target", i % 50, 5))
        except Exception:
            pass
        self.assertEqual(await a.wait_closed(), 1008)
        await self.assert_world_runs("after a message flood")

    @async_test
    async def test_client_at_20_targets_per_second_is_never_limited(self):
        a, b = await self.players(2, "steady")
        for i in range(60):  # 3 s at 20 Hz
            await a.send(pkt("Target", 10 + (i % 2) * 20, 10))
            await asyncio.sleep(0.05)
        await a.send(pkt("Target", 3, 4))
        await b.wait_for(lambda p: p.get("a") == "ModelDelta" and p["p0"]["id"] == a.aid
                         and p["p0"].get("instanced_entity", {}).get("x") == 3
                         and p["p0"]["instanced_entity"].get("y") == 4,
                         what="arrival at (3, 4) after 3 s of 20 Hz Targets")
        self.assertFalse(a.closed)


if __name__ == "__main__":
    unittest.main()
