"""cmmo.v2 sessions (docs/PROTOCOL.md, "cmmo.v2 sessions"; docs/SECURITY.md, "Resume tokens"):
after a password login a cmmo.v2 client is sent a resume token, and Resume with it logs in
without the password, where the player left, from any connection (a bearer token) until it is
revoked (Logout) or expires; forged or another account's tokens are denied. Players, Joined and
Left tell a cmmo.v2 client who is around, Ping is answered with Pong. A legacy client sees none
of it, and a legacy "Resume" is still an unknown action."""

import asyncio
import base64
import os
import unittest

from harness import ServerTestCase, async_test, is_action, is_full_model_of, pkt, unique_name

V2 = "cmmo.v2"
DENIED = {"a": "Deny", "p0": "Resume token invalid or expired"}
V2_ONLY = ("Token", "Players", "Joined", "Left", "Pong")


class V2Case(ServerTestCase):

    async def v2_client(self, label="v2"):
        c = await self.client(label, subprotocols=[V2])
        self.assertEqual(c.ws.subprotocol, V2)
        return c

    async def v2_player(self, tag="v2"):
        """A new account logged in over cmmo.v2; returns (client, token)."""
        name = unique_name(tag)
        c = await self.v2_client(name)
        self.assertEqual(await c.register(name, "pw-" + name), {"a": "Ok"})
        self.assertEqual(await c.login(name, "pw-" + name), {"a": "Ok"})
        token = await c.wait_for(is_action("Token"), what="the resume token")
        return c, token["p0"]

    async def v2_walk(self, c, x, y):
        """Target(x, y), then wait for the compact Move that arrives there."""
        await c.send(pkt("Target", x, y))
        await c.wait_for(lambda p: p.get("a") == "Move" and p["p0"] == [c.aid, x, y],
                         what="%s arriving at (%s, %s)" % (c.name, x, y))

    async def resume(self, c, name, token):
        """Sends Resume; on Ok waits for the own model like login() and returns the reply."""
        start = c.mark()
        await c.send(pkt("Resume", name, token))
        r = await c.reply()
        if r.get("a") == "Ok":
            first = await c.wait_for(lambda p: p.get("a") == "ModelDelta", what="own model")
            self.assertEqual(c.since(start, lambda p: p.get("a") == "ModelDelta")[0], first)
            c.own, c.name = first["p0"], name
        return r


class Resume(V2Case):
    server_options = {"log_level": "debug"}

    @async_test
    async def test_password_login_sends_world_players_then_a_token(self):
        c, token = await self.v2_player("tok")
        order = [p["a"] for p in c.packets]
        after_ok = order[order.index("ModelDelta"):]
        self.assertEqual(after_ok[:3], ["ModelDelta", "World", "Players"])
        self.assertIn("Token", after_ok)
        self.assertRegex(token, r"^[A-Za-z0-9_-]{43}$")
        tok = [p for p in c.packets if p["a"] == "Token"][0]
        self.assertEqual(tok["p1"], 86400, "a day, the default --resume-ttl")
        raw = [r for r in c.raws if '"Token"' in r][0]
        self.assertEqual(raw, '{"a":"Token","p0":"%s","p1":86400}' % token)

    @async_test
    async def test_resume_enters_where_the_player_left_without_a_password_or_new_token(self):
        c, token = await self.v2_player("back")
        await self.v2_walk(c, 50, 60)
        await c.close()
        d = await self.v2_client("back2")
        self.assertEqual(await self.resume(d, c.name, token), {"a": "Ok"})
        self.assertEqual(d.own["id"], c.aid)
        ie = d.own["instanced_entity"]
        self.assertEqual((ie["x"], ie["y"]), (50, 60))
        await d.wait_for(is_action("World"), what="World")
        await d.wait_for(is_action("Players"), what="Players")
        await self.assert_no_packet(d, is_action("Token"), 0.5, "new token after a resume")
        # It plays: it walks and is seen walking.
        await self.v2_walk(d, 70, 60)

    @async_test
    async def test_stolen_token_works_elsewhere_takes_over_but_not_after_logout(self):
        owner, token = await self.v2_player("owner")
        thief = await self.v2_client("thief")
        # Bearer token: another connection holding it is the player. The first attempt closes the
        # owner's connection (it may be a dead one the server has not noticed yet).
        r = await self.resume(thief, owner.name, token)
        self.assertEqual(r, {"a": "Deny", "p0": "You are already logged in"})
        self.assertEqual(await owner.wait_closed(), 1008)
        self.assertEqual(owner.ws.close_reason, "Logged in elsewhere")
        for _ in range(20):
            r = await self.resume(thief, owner.name, token)
            if r == {"a": "Ok"}:
                break
            await asyncio.sleep(0.1)
        self.assertEqual(r, {"a": "Ok"})
        self.assertEqual(thief.own["id"], owner.aid)
        # Logout revokes it: nobody resumes with it afterwards. (The Pong answers a packet sent
        # after the Logout: the revoke is in the store's queue before anything that follows.)
        await thief.send(pkt("Logout"))
        await thief.send(pkt("Ping", 1))
        await thief.wait_for(is_action("Pong"), what="the Pong after the Logout")
        await thief.close()
        later = await self.v2_client("later")
        self.assertEqual(await self.resume(later, owner.name, token), DENIED)
        # The password still works, and gives a new, different token.
        self.assertEqual(await later.login(owner.name, owner.password), {"a": "Ok"})
        fresh = await later.wait_for(is_action("Token"), what="a new token")
        self.assertNotEqual(fresh["p0"], token)

    @async_test
    async def test_forged_malformed_and_other_accounts_tokens_are_denied(self):
        alice, token = await self.v2_player("alice")
        bob, _ = await self.v2_player("bob")
        await bob.close()
        c = await self.v2_client("forger")
        forged = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
        self.assertEqual(await self.resume(c, alice.name, forged), DENIED)
        self.assertEqual(await self.resume(c, bob.name, token), DENIED, "alice's token, bob")
        self.assertEqual(await self.resume(c, alice.name, token[:-1]), DENIED, "too short")
        self.assertEqual(await self.resume(c, alice.name, token[:-1] + "="), DENIED)
        self.assertEqual(await self.resume(c, "no such name!", token), DENIED)
        self.assertEqual(await self.resume(c, unique_name("nobody"), token), DENIED)
        await c.send(pkt("Resume", alice.name))
        self.assertEqual(await c.reply(), {"a": "Deny", "p0": "Malformed Resume"})
        await c.send(pkt("Resume", alice.name, 5))
        self.assertEqual(await c.reply(), {"a": "Deny", "p0": "Malformed Resume"})
        # alice plays on, untouched.
        self.assertFalse(alice.closed)

    @async_test
    async def test_tokens_are_never_logged(self):
        c, token = await self.v2_player("quiet")
        await c.send(pkt("Logout"))
        await c.close()
        d = await self.v2_client("quiet2")
        await self.resume(d, c.name, token)
        await asyncio.sleep(0.2)
        self.assertNotIn(token, self.server.stderr_text(all_runs=True))

    @async_test
    async def test_ping_is_answered_with_pong_in_login_and_in_play(self):
        c = await self.v2_client("ping")
        await c.send(pkt("Ping", 12.5))
        self.assertEqual(await c.wait_for(is_action("Pong", "Deny")), {"a": "Pong", "p0": 12.5})
        c2, _ = await self.v2_player("ping2")
        await c2.send(pkt("Ping", 7))
        self.assertEqual(await c2.wait_for(is_action("Pong")), {"a": "Pong", "p0": 7})


class LegacyUnchanged(V2Case):

    @async_test
    async def test_legacy_client_never_sees_tokens_or_presence_and_resume_is_unknown(self):
        legacy = await self.player("legacy")
        mark = legacy.mark()
        v2, token = await self.v2_player("v2")
        await legacy.wait_for(is_full_model_of(v2.aid), what="v2's model")
        await v2.close()
        await asyncio.sleep(0.3)
        self.assertEqual(legacy.since(0, is_action(*V2_ONLY)), [])
        self.assertEqual([p["a"] for p in legacy.since(mark)], ["ModelDelta", "Disconnect"])
        # The legacy protocol has no Resume, Logout or Ping: in LOGIN they stay unknown actions.
        other = await self.client("legacy2")
        for action, payloads in (("Resume", (v2.name, token)), ("Logout", ()), ("Ping", (1,))):
            await other.send(pkt(action, *payloads))
            self.assertEqual(await other.reply(), {"a": "Deny", "p0": "Unknown action"})
        self.assertEqual(other.since(0, is_action(*V2_ONLY)), [])


class Presence(V2Case):

    @async_test
    async def test_players_joined_and_left_count_the_whole_world(self):
        far = await self.player("far")  # a legacy player counts too
        watcher, _ = await self.v2_player("watch")
        players = [p for p in watcher.packets if p["a"] == "Players"][0]
        self.assertIn(far.name, players["p1"])
        self.assertIn(watcher.name, players["p1"])
        self.assertEqual(players["p0"], len(players["p1"]))
        n = players["p0"]
        newcomer = await self.player("new")
        self.assertEqual(await watcher.wait_for(is_action("Joined"), what="Joined"),
                         {"a": "Joined", "p0": newcomer.name, "p1": n + 1})
        await newcomer.close()
        self.assertEqual(await watcher.wait_for(is_action("Left"), what="Left"),
                         {"a": "Left", "p0": newcomer.name, "p1": n})
        raw = [r for r in watcher.raws if '"Left"' in r][0]
        self.assertEqual(raw, '{"a":"Left","p0":"%s","p1":%d}' % (newcomer.name, n))


class Expiry(V2Case):
    server_options = {"extra_args": ["--resume-ttl", "1"]}

    @async_test
    async def test_token_expires_after_resume_ttl_even_across_a_restart(self):
        c, token = await self.v2_player("short")
        self.assertEqual([p for p in c.packets if p["a"] == "Token"][0]["p1"], 1)
        await c.close()
        await asyncio.sleep(2.1)  # the store's clock counts whole seconds
        d = await self.v2_client("short2")
        self.assertEqual(await self.resume(d, c.name, token), DENIED)


class Restart(V2Case):

    @async_test
    async def test_token_survives_a_server_restart(self):
        c, token = await self.v2_player("restart")
        await self.v2_walk(c, 30, 20)
        await c.close()
        await asyncio.sleep(0.2)
        self.server.restart()
        d = await self.v2_client("restart2")
        self.assertEqual(await self.resume(d, c.name, token), {"a": "Ok"})
        ie = d.own["instanced_entity"]
        self.assertEqual((ie["x"], ie["y"]), (30, 20))


class NoTokens(V2Case):
    server_options = {"extra_args": ["--resume-ttl", "0"]}

    @async_test
    async def test_resume_ttl_0_issues_no_token_and_denies_resume(self):
        name = unique_name("none")
        c = await self.v2_client(name)
        await c.register(name, "pw-" + name)
        self.assertEqual(await c.login(name, "pw-" + name), {"a": "Ok"})
        await c.wait_for(is_action("Players"))
        await self.assert_no_packet(c, is_action("Token"), 0.5, "token")
        d = await self.v2_client("none2")
        self.assertEqual(await self.resume(d, name, "A" * 43), DENIED)


if __name__ == "__main__":
    unittest.main()
