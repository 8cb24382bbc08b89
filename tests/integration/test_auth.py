"""Accounts and sessions (docs/PROTOCOL.md sections 3 and 6; reference defects 5 and 7): login
throttling per account and per address, one session per account, racing registrations and
logins, hashing off the tick."""

import asyncio
import re
import time
import unittest

from harness import (ServerTestCase, async_test, is_move_of, pkt, unique_name)

INCORRECT = {"a": "Deny", "p0": "Username or password incorrect"}
TAKEN = {"a": "Deny", "p0": "This username is already taken"}
ALREADY = {"a": "Deny", "p0": "You are already logged in"}
THROTTLED = re.compile(r"^Too many failed attempts, try again in (\d+) seconds$")


class AccountThrottle(ServerTestCase):

    async def account(self, tag):
        name = unique_name(tag)
        c = await self.client()
        self.assertEqual(await c.register(name, "pw-" + name, 0), {"a": "Ok"})
        return name, "pw-" + name

    def assert_throttled(self, reply):
        self.assertEqual(reply.get("a"), "Deny", reply)
        self.assertIn("Too many failed attempts", reply.get("p0", ""))
        m = THROTTLED.match(reply["p0"])
        self.assertIsNotNone(m, "Deny text %r" % reply["p0"])
        self.assertTrue(1 <= int(m.group(1)) <= 60, reply["p0"])

    @async_test
    async def test_five_wrong_passwords_then_too_many_failed_attempts(self):
        name, password = await self.account("guess")
        c = await self.client()
        for i in range(5):
            self.assertEqual(await c.login(name, "wrong-%d" % i), INCORRECT, "attempt %d" % i)
        # Denied for 60 s from the last failure, even with the right password.
        self.assert_throttled(await c.login(name, password))

    @async_test
    async def test_throttle_counts_across_connections_and_spares_other_accounts(self):
        name, password = await self.account("spread")
        other, other_pw = await self.account("bystander")
        for i in range(5):
            c = await self.client()
            self.assertEqual(await c.login(name, "wrong-%d" % i), INCORRECT)
            await c.close()
        c = await self.client()
        self.assert_throttled(await c.login(name, password))
        d = await self.client()
        self.assertEqual(await d.login(other, other_pw), {"a": "Ok"})

    @async_test
    async def test_concurrent_wrong_passwords_get_at_most_five_checks(self):
        # Guesses sent at once from many connections all arrive before the first is checked:
        # each must count when it is admitted, not when its hash is done.
        name, password = await self.account("burst")
        clients = [await self.client("burst%d" % i) for i in range(12)]
        replies = await asyncio.gather(*(c.login(name, "wrong-%d" % i)
                                         for i, c in enumerate(clients)))
        checked = [r for r in replies if r == INCORRECT]
        throttled = [r for r in replies if THROTTLED.match(r.get("p0", ""))]
        self.assertEqual(len(checked), 5, replies)
        self.assertEqual(len(throttled), 7, replies)
        self.assert_throttled(await clients[0].login(name, password))


class AddressThrottle(ServerTestCase):

    @async_test
    async def test_twenty_failures_from_one_address_throttle_all_its_logins(self):
        reg = await self.client()
        names = [unique_name("addr%d" % i) for i in range(6)]
        for n in names:
            self.assertEqual(await reg.register(n, "pw-" + n, 0), {"a": "Ok"})
        c = await self.client()
        # Four failures on each of five accounts: no account reaches its own limit of five.
        for n in names[:5]:
            for i in range(4):
                self.assertEqual(await c.login(n, "wrong-%d" % i), INCORRECT, n)
        r = await c.login(names[5], "pw-" + names[5])
        self.assertEqual(r.get("a"), "Deny", "the 21st attempt from one address within 60 s")
        self.assertRegex(r.get("p0", ""), THROTTLED)


class LoopbackIsOneAddress(ServerTestCase):
    """A direct loopback client (no X-Real-IP) is one address like any other for login failures
    (docs/SECURITY.md section 9: exempting it would let anything behind a proxy that forgets
    X-Real-IP guess across all accounts), while a client a local proxy names in X-Real-IP is
    its own address."""

    @async_test
    async def test_loopback_failures_lock_loopback_logins_but_not_proxied_clients(self):
        reg = await self.client("reg")
        names = [unique_name("lo%d" % i) for i in range(7)]
        for n in names:
            self.assertEqual(await reg.register(n, "pw-" + n, 0), {"a": "Ok"})
        direct = await self.client("direct")
        for n in names[:5]:
            for i in range(4):
                self.assertEqual(await direct.login(n, "wrong-%d" % i), INCORRECT, n)
        # The 21st attempt from 127.0.0.1, from another connection, with the right password.
        again = await self.client("direct2")
        r = await again.login(names[5], "pw-" + names[5])
        self.assertRegex(r.get("p0", ""), THROTTLED, "loopback is throttled like any address")
        proxied = await self.client("proxied", extra_headers={"X-Real-IP": "198.51.100.20"})
        self.assertEqual(await proxied.login(names[6], "pw-" + names[6]), {"a": "Ok"},
                         "a client named in X-Real-IP is not held up by 127.0.0.1's failures")


class ForwardedForIsNotTrusted(ServerTestCase):
    """X-Forwarded-For is not read (docs/OPERATIONS.md section 8): its entries can be written by
    the client, so a guesser sending a new one each time is still one address."""

    @async_test
    async def test_failures_with_changing_x_forwarded_for_count_as_one_address(self):
        reg = await self.client("reg")
        names = [unique_name("xf%d" % i) for i in range(6)]
        for n in names:
            self.assertEqual(await reg.register(n, "pw-" + n, 0), {"a": "Ok"})
        attempt = 0
        for n in names[:5]:
            for i in range(4):
                attempt += 1
                c = await self.client("xff%d" % attempt, extra_headers={
                    "X-Forwarded-For": "203.0.113.%d" % attempt})
                self.assertEqual(await c.login(n, "wrong-%d" % i), INCORRECT, n)
                await c.close()
        c = await self.client("xff-last", extra_headers={"X-Forwarded-For": "203.0.113.200"})
        r = await c.login(names[5], "pw-" + names[5])
        self.assertRegex(r.get("p0", ""), THROTTLED)


class Sessions(ServerTestCase):

    @async_test
    async def test_racing_registrations_of_one_name_give_exactly_one_ok(self):
        for round_ in range(6):
            name = unique_name("race%d" % round_)
            other = name.upper() if round_ % 2 else name  # case variants race too
            a, b = await self.client(), await self.client()
            ra, rb = await asyncio.gather(a.register(name, "pw-a", 1), b.register(other, "pw-b", 2))
            replies = sorted([ra, rb], key=lambda r: r["a"])
            self.assertEqual(replies, [TAKEN, {"a": "Ok"}], "round %d: %r" % (round_, [ra, rb]))
            win_pw, lose_pw, win_avatar = (("pw-a", "pw-b", 1) if ra == {"a": "Ok"}
                                           else ("pw-b", "pw-a", 2))
            c = await self.client()
            self.assertEqual(await c.login(name, lose_pw), INCORRECT)
            self.assertEqual(await c.login(name, win_pw), {"a": "Ok"})
            self.assertEqual(c.own["avatar_id"], win_avatar, "the account is the winner's")

    @async_test
    async def test_racing_logins_of_one_account_give_exactly_one_ok(self):
        for round_ in range(4):
            name = unique_name("dbl%d" % round_)
            r = await self.client()
            self.assertEqual(await r.register(name, "pw", 0), {"a": "Ok"})
            a, b = await self.client(), await self.client()
            ra, rb = await asyncio.gather(a.login(name, "pw"), b.login(name, "pw"))
            replies = sorted([ra, rb], key=lambda r: r["a"])
            self.assertEqual(replies, [ALREADY, {"a": "Ok"}], "round %d: %r" % (round_, [ra, rb]))

    @async_test
    async def test_second_connection_is_denied_already_logged_in(self):
        a = await self.player("solo")
        b = await self.client()
        self.assertEqual(await b.login(a.name, a.password), ALREADY)
        self.assertEqual(await b.login(a.name, a.password), ALREADY, "asking twice")
        self.assertFalse(a.closed)


class HashingOffTheTick(ServerTestCase):

    @async_test
    async def test_twenty_simultaneous_registrations_do_not_stall_movement(self):
        mover = await self.player("steady")
        observer = await self.player("watch")
        mark = observer.mark()
        await mover.send(pkt("Target", 600, 0))  # about 8.5 s of walking
        await observer.wait_for(is_move_of(mover.aid), what="the walk")
        clients = [await self.client() for _ in range(20)]
        t0 = time.monotonic()
        replies = await asyncio.gather(*(c.register(unique_name("load%d" % i), "pw-load", 0)
                                         for i, c in enumerate(clients)))
        t1 = time.monotonic()
        self.assertEqual(replies, [{"a": "Ok"}] * 20)
        end = max(t1, t0 + 1.0) + 0.2
        await asyncio.sleep(max(0.0, end - time.monotonic()))
        times = [observer.times[i] for i in range(mark, len(observer.packets))
                 if is_move_of(mover.aid)(observer.packets[i]) and t0 <= observer.times[i] <= end]
        self.assertGreater(len(times), 2)
        gaps = [b - a for a, b in zip(times, times[1:])]
        self.assertLess(max(gaps), 0.5, "movement stalled %.2f s during %d hashes (%.2f s)"
                        % (max(gaps), 20, t1 - t0))


if __name__ == "__main__":
    unittest.main()
