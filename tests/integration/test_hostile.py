"""Hostile clients: floods, clients that stop reading, vanish or never finish a handshake,
connection caps, crashes under load, and what an attacker can and cannot get out of the server.
The limits and the reaction to each attack are in docs/PROTOCOL.md section 6 and docs/SECURITY.md.

Most of the bad-input matrix lives in test_robustness, test_frames and test_limits; this module
adds what needs many connections, a clock or a crash. Tests that must wait out a 45 s timer are
in the Slow* classes and run only with CMMO_SLOW=1 (`make soak` sets it); without it they are
skipped, and the runner does not count skipped tests as passed.
"""

import asyncio
import json
import os
import random
import re
import resource
import socket
import struct
import time
import unittest

import websockets

from harness import (
    REPO, Client, RawWebSocket, Server, ServerTestCase, async_test, dist, http_get,
    is_action, is_at, is_chat, is_disconnect, is_full_model_of, is_move_of, pkt, position_of,
    unique_name, SPEED,
)

SLOW = os.environ.get("CMMO_SLOW") == "1"

# Documented limits (docs/PROTOCOL.md section 6).
OUTBOUND_MAX = 1 << 20
HANDSHAKE_TIMEOUT = 15.0
PING_AFTER = 20.0
DEAD_AFTER = 45.0
PER_ADDRESS_CAP = 64
WRITE_BEHIND = 1.0  # seconds between position saves

# Bounds this module asserts. Generous on purpose: a sanitized server on a loaded CI machine.
LATENCY_BOUND = 1.0        # s: a bystander's chat, while someone floods
RSS_GROWTH_BOUND = 100     # MiB: server RSS while hundreds of clients never read


def _raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < min(hard, 4096):
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    raise AssertionError("no VmRSS for pid %d" % pid)


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def masked_frame(payload, opcode=1):
    """A client frame with the all-zero mask (legal, and the payload stays as is)."""
    n = len(payload)
    b0 = 0x80 | opcode
    if n < 126:
        head = struct.pack("!BB", b0, 0x80 | n)
    else:
        head = struct.pack("!BBH", b0, 0x80 | 126, n)
    return head + b"\0\0\0\0" + payload


def non_loopback_address():
    """This machine's address on a real interface, or None."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # no packet is sent: this only picks a route
            addr = s.getsockname()[0]
    except OSError:
        return None
    return None if addr.startswith("127.") else addr


def closed_by_peer(sock, timeout):
    """True if the server closes sock (EOF or reset) within timeout; reads whatever it sends."""
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            if not sock.recv(65536):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False
    return False


class HostileCase(ServerTestCase):
    async def seen(self, client, pred, timeout=5.0, what="a packet"):
        """Waits until client has received a packet satisfying pred, at any time so far (unlike
        wait_for, which consumes packets in order); returns it."""
        deadline = time.monotonic() + timeout
        while True:
            for p in client.packets:
                if pred(p):
                    return p
            if time.monotonic() > deadline:
                raise AssertionError("no %s within %.1f s; %s" % (what, timeout,
                                                                   client.describe()))
            await asyncio.sleep(0.05)

    async def chat_latency(self, speaker, listener, text, timeout=5.0):
        """Seconds from speaker's Chat to listener receiving it."""
        mark = listener.mark()
        sent = time.monotonic()
        await speaker.chat(text)
        listener.cursor = mark
        await listener.wait_for(is_chat(text), timeout, "chat %r" % text)
        idx = next(i for i in range(mark, len(listener.packets))
                   if is_chat(text)(listener.packets[i]))
        return listener.times[idx] - sent

    async def bystanders(self):
        speaker = await self.player("spk")
        listener = await self.player("lst")
        await listener.wait_for(is_full_model_of(speaker.aid), what="the speaker's model")
        return speaker, listener


# --------------------------------------------------------------------------------------------
# Floods
# --------------------------------------------------------------------------------------------


class Flood(HostileCase):
    async def _flood_while_measuring(self, flooder, frames, speaker, listener):
        """Writes the whole burst at once, measures the bystanders' chat meanwhile; returns
        (close code of the flooder, latencies before, latencies during)."""
        before = [await self.chat_latency(speaker, listener, "before %d" % i) for i in range(3)]
        burst = b"".join(frames)
        flooder.ws.transport.write(burst)
        during = []
        t0 = time.monotonic()
        while time.monotonic() - t0 < 3.0 or len(during) < 4:
            during.append(await self.chat_latency(speaker, listener, "during %d" % len(during)))
            if len(during) >= 8:
                break
        code = await flooder.wait_closed(10)
        return code, before, during

    @async_test
    async def test_burst_of_10000_packets_in_play_closes_1008_and_bystander_latency_stays_low(self):
        speaker, listener = await self.bystanders()
        flooder = await self.player("fld")
        await listener.wait_for(is_full_model_of(flooder.aid), what="the flooder's model")
        frames = [masked_frame(json.dumps(pkt("Target", i % 1344, i % 832)).encode())
                  for i in range(10000)]
        code, before, during = await self._flood_while_measuring(flooder, frames, speaker,
                                                                 listener)
        self.assertEqual(code, 1008, "a 10,000-packet burst must end with close 1008")
        self.assertLess(max(during), LATENCY_BOUND,
                        "bystander chat latency during the flood: %s (before: %s)"
                        % (["%.3f" % x for x in during], ["%.3f" % x for x in before]))
        await self.seen(listener, is_disconnect(flooder.aid), what="Disconnect of the flooder")
        await self.walk_and_wait(speaker, 40, 30, viewers=(listener,))

    @async_test
    async def test_burst_of_10000_malformed_packets_before_login_closes_1008(self):
        speaker, listener = await self.bystanders()
        flooder = await self.client("garbage")
        frames = [masked_frame(b"{not json %d" % i) for i in range(10000)]
        code, before, during = await self._flood_while_measuring(flooder, frames, speaker,
                                                                 listener)
        self.assertEqual(code, 1008)
        self.assertLess(max(during), LATENCY_BOUND, "latencies %s" % during)
        denies = [p for p in flooder.packets if is_action("Deny")(p)]
        # Only the packets inside the budget are answered: the rest is dropped unread.
        self.assertLessEqual(len(denies), 1200, "one Deny per flooded packet is an amplifier")

    @async_test
    async def test_burst_of_10000_max_size_binary_messages_closes_1008(self):
        speaker, listener = await self.bystanders()
        flooder = await self.player("big")
        big = json.dumps(pkt("Chat", "x", "y" * 4000)).encode()
        frames = [masked_frame(big, opcode=2)] * 10000  # 40 MB offered
        rss0 = rss_mib(self.server.proc.pid)
        code, before, during = await self._flood_while_measuring(flooder, frames, speaker,
                                                                 listener)
        self.assertEqual(code, 1008)
        self.assertLess(max(during), LATENCY_BOUND, "latencies %s" % during)
        self.assertLess(rss_mib(self.server.proc.pid) - rss0, RSS_GROWTH_BOUND)

    @async_test
    async def test_ping_flood_without_reading_gets_coalesced_pongs(self):
        # Pings are answered by the WebSocket layer and are not messages, so the message budget
        # does not see them; the server answers only the latest ping once per flush (RFC 6455
        # 5.5.3 allows it), so a flood of pings cannot make it write a flood of pongs.
        speaker, listener = await self.bystanders()
        loop = asyncio.get_running_loop()
        raw = await loop.run_in_executor(None, RawWebSocket, self.server.port)
        raw.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        ping = masked_frame(b"p" * 125, opcode=9)
        burst = ping * 20000  # 2.6 MB of pings, 2.5 MB of pongs owed

        def send_all():
            try:
                raw.sock.settimeout(20)
                raw.sock.sendall(burst)
            except OSError:
                pass  # dropped while we were still sending: that is the point

        sender = loop.run_in_executor(None, send_all)
        lat = [await self.chat_latency(speaker, listener, "ping %d" % i) for i in range(4)]
        await sender
        self.assertLess(max(lat), LATENCY_BOUND, "latencies %s" % lat)
        # Now read: whatever arrives, the connection ends without 2.5 MB of pongs.
        got = 0
        raw.sock.settimeout(5)
        try:
            while True:
                chunk = raw.sock.recv(65536)
                if not chunk:
                    break
                got += len(chunk)
        except (ConnectionResetError, socket.timeout):
            pass
        raw.close()
        # 20,000 pings owe 2.5 MB of pongs one by one; coalesced, a few hundred at most arrive
        # (one per tick while the flood lasts).
        self.assertLess(got, 200 * 1024, "pongs kept coming: %d bytes" % got)

    @async_test
    async def test_registrations_of_one_name_racing_from_eight_connections_one_wins(self):
        name = unique_name("race")
        clients = [await self.client("r%d" % i) for i in range(8)]
        spellings = [name, name.upper(), name.lower(), name.swapcase()] * 2
        for c, n in zip(clients, spellings):
            await c.send(pkt("Register", n, "pw-" + name, 1))
        replies = await asyncio.gather(*(c.reply(10) for c in clients))
        oks = [r for r in replies if r == {"a": "Ok"}]
        self.assertEqual(len(oks), 1, "replies: %s" % replies)
        for r in replies:
            if r != {"a": "Ok"}:
                self.assertEqual(r, {"a": "Deny", "p0": "This username is already taken"})


# --------------------------------------------------------------------------------------------
# Clients that stop reading, never finish a handshake, or come in numbers
# --------------------------------------------------------------------------------------------


class SlowReaders(HostileCase):
    NON_READERS = 24   # logged in, flooded with output until dropped
    IDLE_CONNECTIONS = 500  # handshaken, never read, never send

    async def non_reader(self, tag):
        """A logged-in player whose socket has a tiny receive buffer and who then stops reading
        (the kernel buffers stay small, so the server's own bound is what fills)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", self.server.port))
        sock.setblocking(False)
        name = unique_name(tag)
        c = await self.client(name, sock=sock)
        self.assertEqual(await c.register(name, "pw-" + name, 3), {"a": "Ok"})
        self.assertEqual(await c.login(name, "pw-" + name), {"a": "Ok"})
        return c

    @async_test
    async def test_500_idle_and_24_non_reading_clients_keep_rss_bounded_and_get_dropped(self):
        _raise_fd_limit()
        pid = self.server.proc.pid
        a, b = await self.bystanders()
        rss_start = rss_mib(pid)
        idle = []
        loop = asyncio.get_running_loop()
        for _ in range(self.IDLE_CONNECTIONS):
            idle.append(await loop.run_in_executor(None, RawWebSocket, self.server.port))
        readers = await asyncio.gather(*(self.non_reader("nr%d" % i)
                                         for i in range(self.NON_READERS)))
        for c in readers:
            await self.seen(b, is_full_model_of(c.aid), what="a non-reader's model")
            c.ws.transport.pause_reading()
        # Traffic: every non-reader walks (a delta to everyone each tick) and says the longest
        # line there is (256 emoji, 3 KB as JSON) at the chat budget; every line goes to
        # everyone else. a and b keep walking.
        line = "\U0001F600" * 256
        samples = [rss_start]

        async def talk(c):
            try:
                # Walk across the map (a delta to everyone every tick) and talk.
                await c.send(pkt("Target", 1344, 832))
                for _ in range(10):  # the chat burst
                    await c.send(pkt("Chat", c.name, line))
                while True:
                    await asyncio.sleep(0.55)
                    await c.send(pkt("Chat", c.name, line))
            except Exception:
                return  # dropped: the server has closed this connection

        talkers = [asyncio.get_running_loop().create_task(talk(c)) for c in readers]
        dropped = set()
        deadline = time.monotonic() + 40
        k = 0
        try:
            while len(dropped) < len(readers) and time.monotonic() < deadline:
                k += 1
                await a.send(pkt("Target", 100 + 300 * (k % 2), 100 + 200 * (k % 2)))
                await asyncio.sleep(0.5)
                samples.append(rss_mib(pid))
                for p in b.packets:
                    if is_disconnect()(p):
                        dropped.add(p["p0"])
        finally:
            for t in talkers:
                t.cancel()
        print("\n  non-readers dropped: %d of %d in %.1f s; server RSS MiB: start %.0f, peak %.0f, "
              "end %.0f" % (len(dropped & {c.aid for c in readers}), len(readers),
                            time.monotonic() - (deadline - 40), rss_start, max(samples),
                            samples[-1]))
        want = {c.aid for c in readers}
        self.assertEqual(want - dropped, set(),
                         "non-readers still in the world after %.0f s (outbound bound %d B)"
                         % (time.monotonic() - deadline + 40, OUTBOUND_MAX))
        log = self.server.stderr_text()
        self.assertGreaterEqual(len(re.findall(r"conn_slow_dropped", log)), 1,
                                "drops should be logged as conn_slow_dropped")
        # The idle connections are still there (nothing to drop them for) and the players play.
        lat = await self.chat_latency(a, b, "still here")
        self.assertLess(lat, LATENCY_BOUND)
        status, _, body = http_get(self.server.port, "/stats")
        stats = json.loads(body)
        self.assertGreaterEqual(stats["connections"], self.IDLE_CONNECTIONS)
        peak = max(samples)
        self.assertLess(peak - rss_start, RSS_GROWTH_BOUND,
                        "RSS went from %.0f MiB to %.0f MiB (samples %s)"
                        % (rss_start, peak, ["%.0f" % s for s in samples]))
        for w in idle:
            w.close()

    @async_test
    async def test_silent_dribbling_and_half_handshakes_are_cut_after_the_handshake_timeout(self):
        port = self.server.port
        silent = socket.create_connection(("127.0.0.1", port))
        half = socket.create_connection(("127.0.0.1", port))
        half.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n")
        drip = socket.create_connection(("127.0.0.1", port))
        drip.sendall(b"GET / HTTP/1.1\r\n")
        t0 = time.monotonic()
        loop = asyncio.get_running_loop()

        async def dribble():
            # Slowloris: one header byte every 2 s, forever; the timeout is for the whole head.
            try:
                while time.monotonic() - t0 < HANDSHAKE_TIMEOUT + 6:
                    await asyncio.sleep(2)
                    drip.sendall(b"X")
            except OSError:
                return

        task = loop.create_task(dribble())
        results = await asyncio.gather(
            *(loop.run_in_executor(None, closed_by_peer, s, HANDSHAKE_TIMEOUT + 5)
              for s in (silent, half, drip)))
        elapsed = time.monotonic() - t0
        task.cancel()
        for s in (silent, half, drip):
            s.close()
        self.assertEqual(results, [True, True, True], "silent, half handshake, slowloris")
        self.assertGreaterEqual(elapsed, HANDSHAKE_TIMEOUT - 1,
                                "cut before the documented %.0f s" % HANDSHAKE_TIMEOUT)


class AddressCap(HostileCase):
    """Needs an address that is not loopback (loopback is exempt from the per-address cap)."""

    ADDR = non_loopback_address()
    server_options = {"extra_args": ("--host", "0.0.0.0")}

    @async_test
    async def test_65th_connection_from_one_address_is_refused_and_loopback_is_exempt(self):
        if self.ADDR is None:
            self.skipTest("no non-loopback address on this machine")
        _raise_fd_limit()
        port = self.server.port
        held = [socket.create_connection((self.ADDR, port)) for _ in range(PER_ADDRESS_CAP)]
        try:
            # Give the server time to accept them all, then check they are alive (HTTP works).
            await asyncio.sleep(0.5)
            extra = socket.create_connection((self.ADDR, port))
            refused = await asyncio.get_running_loop().run_in_executor(
                None, closed_by_peer, extra, 3.0)
            extra.close()
            self.assertTrue(refused, "the %dth connection from %s was accepted"
                            % (PER_ADDRESS_CAP + 1, self.ADDR))
            held[0].sendall(b"GET /stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            held[0].settimeout(5)
            self.assertIn(b"200", held[0].recv(4096).split(b"\r\n")[0])
            # Loopback is exempt (a local reverse proxy brings everyone through it).
            local = [socket.create_connection(("127.0.0.1", port)) for _ in range(80)]
            await asyncio.sleep(0.3)
            status, _, _ = http_get(port, "/stats")
            self.assertEqual(status, 200)
            for s in local:
                s.close()
        finally:
            for s in held:
                s.close()
        # Once they are gone, the address may connect again.
        await asyncio.sleep(0.5)
        c = await Client.connect("ws://%s:%d/" % (self.ADDR, port), "after")
        self._clients.append(c)
        await c.send(pkt("Login", "", ""))
        self.assertEqual((await c.reply())["a"], "Deny")


# --------------------------------------------------------------------------------------------
# Crashes under load
# --------------------------------------------------------------------------------------------


class CrashUnderLoad(HostileCase):
    WALKERS = 12

    async def walkers(self):
        ws = await asyncio.gather(*(self.player("w%d" % i) for i in range(self.WALKERS)))
        return list(ws)

    @async_test
    async def test_sigkill_under_load_keeps_every_acknowledged_registration_and_recent_positions(self):
        rng = random.Random(1234)
        walkers = await self.walkers()
        # Each walker goes back and forth between two far points: always moving.
        legs = {}
        for i, w in enumerate(walkers):
            a = (20.0 + 10 * i, 20.0)
            b = (1300.0 - 10 * i, 800.0)
            legs[w.name] = (a, b)
            await w.send(pkt("Target", *b))
        registrants = []
        acked = []
        for cycle in range(2):
            await asyncio.sleep(1.2 + rng.random())
            # Registrations in flight while the server dies: some answered, some not.
            batch = []
            for i in range(16):
                c = await Client.connect(self.server.url, "reg")
                self._clients.append(c)
                name = unique_name("reg%d" % cycle)
                await c.send(pkt("Register", name, "pw-" + name, 4))
                batch.append((c, name))
            registrants += batch
            await asyncio.sleep(0.6 + 0.6 * rng.random())
            last_seen = {}
            for w in walkers:
                moves = w.since(0, is_move_of(w.aid))
                if moves:
                    last_seen[w.name] = position_of(moves[-1])
            killed_at = time.monotonic()
            self.server.kill9()
            for c, name in batch:
                if any(p == {"a": "Ok"} for p in c.packets):
                    acked.append(name)
            await asyncio.gather(*(c.close() for c, _ in batch), return_exceptions=True)
            for w in walkers:
                await w.close()
            self.server.start()
            # Every position is at most the write-behind interval old: the stored one is within
            # what a walker covers in that interval (plus a tick and the delivery delay) of the
            # last position the walker saw before the kill.
            fresh = []
            for w in walkers:
                c = await self.client(w.name)
                self.assertEqual(await c.login(w.name, w.password), {"a": "Ok"})
                ie = c.own["instanced_entity"]
                stored = (ie["x"], ie["y"])
                if w.name in last_seen:
                    self.assertLessEqual(
                        dist(stored, last_seen[w.name]), SPEED * (WRITE_BEHIND + 0.35),
                        "%s: stored %s, last seen %s" % (w.name, stored, last_seen[w.name]))
                c.password = w.password
                fresh.append(c)
                a, b = legs[w.name]
                await c.send(pkt("Target", *(a if cycle % 2 == 0 else b)))
            walkers = fresh
        # Every acknowledged registration survived; an unacknowledged one either does or does
        # not exist, but never half (it can then log in, or be registered afresh).
        self.assertGreater(len(acked), 0, "no registration was answered before the kills")
        for name in acked:
            c = await self.client(name)
            self.assertEqual(await c.login(name, "pw-" + name), {"a": "Ok"},
                             "acknowledged account %s lost in a crash" % name)
            await c.close()
        for _, name in registrants:
            if name in acked:
                continue
            c = await self.client(name)
            r = await c.register(name, "pw-" + name, 4)
            if r != {"a": "Ok"}:
                self.assertEqual(r["p0"], "This username is already taken")
                self.assertEqual(await c.login(name, "pw-" + name), {"a": "Ok"},
                                 "%s exists but cannot log in: a half-created account" % name)
            await c.close()
        # No password of any of these accounts reached the logs, in any run.
        logs = self.server.stderr_text(all_runs=True)
        for _, name in registrants:
            self.assertNotIn("pw-" + name, logs)
        for w in walkers:
            self.assertNotIn(w.password, logs)


# --------------------------------------------------------------------------------------------
# What the browser and the Godot client are shown
# --------------------------------------------------------------------------------------------


class Markup(HostileCase):
    @async_test
    async def test_markup_in_chat_is_relayed_as_text_and_bbcode_brackets_are_neutralised(self):
        a, b = await self.bystanders()
        text = '<img src=x onerror=alert(1)>[url=http://evil]x[/url][color=#ff0000]'
        await a.chat(text)
        got = await b.wait_for(is_chat(), what="the chat")
        self.assertNotIn("[", got["p1"])
        self.assertNotIn("]", got["p1"])
        self.assertEqual(got["p1"], text.replace("[", "\uff3b").replace("]", "\uff3d"))
        self.assertEqual(got["p0"], a.name, "the sender is the server's word, not the client's")

    @async_test
    async def test_names_with_markup_or_bbcode_cannot_be_registered(self):
        c = await self.client("names")
        for name in ("<b>x</b>", "[b]x", "a&amp;", "x\"y", "\u202eevil", "ａdmin"):
            r = await c.register(name, "pw", 0)
            self.assertEqual(r["a"], "Deny", name)

    def test_browser_client_never_renders_server_text_as_html(self):
        # The browser client must put names and chat into the page as text. A static guard:
        # none of the HTML-parsing sinks appears in its scripts.
        sinks = re.compile(r"\.innerHTML\b|\.outerHTML\b|insertAdjacentHTML|document\.write"
                           r"|createContextualFragment|DOMParser")
        js_dir = os.path.join(REPO, "web", "js")
        offenders = []
        for root, _, files in os.walk(js_dir):
            for f in files:
                if f.endswith((".js", ".mjs")):
                    with open(os.path.join(root, f), encoding="utf-8") as fh:
                        for i, line in enumerate(fh, 1):
                            if sinks.search(line):
                                offenders.append("%s:%d: %s" % (f, i, line.strip()))
        self.assertEqual(offenders, [])


# --------------------------------------------------------------------------------------------
# Slow: the 45 s dead-peer timer (CMMO_SLOW=1, run by `make soak`)
# --------------------------------------------------------------------------------------------


@unittest.skipUnless(SLOW, "waits out the 45 s dead-connection timer; CMMO_SLOW=1 runs it")
class SlowDeadPeer(HostileCase):
    @async_test
    async def test_client_that_vanishes_without_fin_is_removed_within_the_dead_timeout(self):
        a, b = await self.bystanders()
        ghost = await self.player("ghost")
        await b.wait_for(is_full_model_of(ghost.aid), what="the ghost's model")
        # A phone that lost its network: nothing more comes from it, no FIN, no pong. Stop
        # reading (so websockets cannot answer the ping) and never write again.
        ghost.ws.transport.pause_reading()
        t0 = time.monotonic()
        # Keep a and b talking so that only the ghost is silent.
        got = None
        while time.monotonic() - t0 < DEAD_AFTER + 8:
            await a.chat("tick")
            await b.chat("tock")
            if b.since(0, is_disconnect(ghost.aid)):
                got = time.monotonic() - t0
                break
            await asyncio.sleep(1.5)
        self.assertIsNotNone(got, "the ghost was not removed within %.0f s" % (DEAD_AFTER + 8))
        print("\n  vanished client removed after %.1f s of silence" % got)
        self.assertGreaterEqual(got, PING_AFTER, "removed before the ping was even due")
        self.assertLessEqual(got, DEAD_AFTER + 5)  # the sweep runs once a second
        self.assertFalse(b.closed or a.closed, "talking players must not be cut as dead")

    @async_test
    async def test_client_that_answers_pings_but_says_nothing_is_kept(self):
        quiet = await self.player("quiet")  # websockets answers pings by itself
        await asyncio.sleep(DEAD_AFTER + 5)
        self.assertFalse(quiet.closed, "a silent client that answers pings was cut")
        await quiet.send(pkt("Target", 5, 5))
        await quiet.wait_for(is_at(quiet.aid, 5, 5), 10)


@unittest.skipUnless(SLOW, "500 logins take minutes under a sanitizer; CMMO_SLOW=1 runs it")
class SlowManyNonReaders(HostileCase):
    @async_test
    async def test_500_logged_in_clients_that_never_read_keep_rss_bounded(self):
        _raise_fd_limit()
        pid = self.server.proc.pid
        a, b = await self.bystanders()
        rss0 = rss_mib(pid)
        players = []
        for i in range(0, 500, 25):
            players += await asyncio.gather(*(self.player("nr%d" % (i + j)) for j in range(25)))
        for c in players:
            c.ws.transport.pause_reading()
        samples = []
        for k in range(40):
            await a.send(pkt("Target", 100 + 400 * (k % 2), 300))
            await asyncio.sleep(0.5)
            samples.append(rss_mib(pid))
        print("\n  500 logged-in non-readers: server RSS %.0f MiB before, peak %.0f, end %.0f; "
              "%d of them dropped" % (rss0, max(samples), samples[-1],
                                       len([c for c in players if b.since(0, is_disconnect(c.aid))])))
        self.assertLess(max(samples) - rss0, 2 * RSS_GROWTH_BOUND, "samples %s" % samples)
        self.assertLess(await self.chat_latency(a, b, "alive"), LATENCY_BOUND)


if __name__ == "__main__":
    unittest.main()
