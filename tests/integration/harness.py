"""Black-box test harness for cmmo: starts a real server, talks to it over WebSocket and HTTP.

Everything here treats the server as a process behind a port: the tests know only the documents
(docs/PROTOCOL.md, ../shared/PROTOCOL-REFERENCE.md), never the C sources.

- Server: one server process on a temp database, port 0, stderr captured to a file; stop() sends
  SIGTERM and checks the exit code and the sanitizer output.
- Client: a websockets client whose reader task records every packet; wait_for() is event driven.
- ServerTestCase: a unittest.TestCase with one server and one asyncio loop per class, so that
  connections can outlive a single test when a class wants that. Test methods are coroutines
  decorated with @async_test.
"""

import asyncio
import base64
import ctypes
import functools
import itertools
import json
import math
import os
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import tempfile
import time
import unittest

import websockets

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SERVER_BIN = os.environ.get("CMMO_SERVER", os.path.join(REPO, "build", "asan", "cmmo-server"))

# How long to wait for one specific packet. Register and Login replies wait for argon2id on a
# worker thread (50-300 ms, more under a sanitizer and a parallel test run): 5 s is generous.
PACKET_TIMEOUT = 5.0
# A hard bound on one test so that a hung server fails the test instead of the whole run.
TEST_TIMEOUT = 90.0
# The server must print its "listening ... port=N" line within this time.
START_TIMEOUT = 10.0

# Defaults of the spec (docs/PROTOCOL.md section 3, Target).
SPEED = 70.0
TICK_HZ = 20.0
STEP = SPEED / TICK_HZ
WORLD_W, WORLD_H = 1344.0, 832.0

# Chat budget of docs/PROTOCOL.md section 6 is 2 lines/s with bursts of 10; Client.chat() keeps
# under it with a margin. Flood limits themselves are tested with raw sends.
CHAT_RATE_SAFE = 1.8
CHAT_BURST_SAFE = 8.0

SANITIZER_PATTERNS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer")

_names = itertools.count(1)


def unique_name(tag):
    """A fresh username (at most 20 characters of [A-Za-z0-9_-]) for this process."""
    n = next(_names)
    suffix = "%d%d" % (os.getpid() % 1000, n)
    return (tag[: 19 - len(suffix)] + "_" + suffix)[:20]


def _die_with_parent():
    # The server must not outlive a test process that is killed (e.g. by the runner's timeout).
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


# --------------------------------------------------------------------------------------------
# The server process
# --------------------------------------------------------------------------------------------


class Server:
    """One cmmo-server process on a temp directory. restart() reuses the same database."""

    def __init__(self, world=None, tick_hz=None, log_level=None, web_root=None, extra_args=()):
        self.dir = tempfile.mkdtemp(prefix="cmmo-it-")
        self.db_path = os.path.join(self.dir, "cmmo.db")
        if web_root is None:
            web_root = os.path.join(self.dir, "web")
            os.makedirs(web_root, exist_ok=True)
            with open(os.path.join(web_root, "index.html"), "w") as f:
                f.write("<!doctype html><title>cmmo test</title><p>integration index</p>\n")
        self.web_root = web_root
        self.world = world
        self.tick_hz = tick_hz
        self.log_level = log_level
        self.extra_args = list(extra_args)
        self.proc = None
        self.port = None
        self.runs = 0
        self.stderr_paths = []
        self.problems = []  # exit-code / sanitizer problems of earlier runs (restart, kill)

    def args(self):
        # No drain window: the suites stop hundreds of servers and wait for each. The drain has
        # its own tests (test_ops.Drain), which pass their own --drain-seconds after this.
        a = [SERVER_BIN, "--host", "127.0.0.1", "--port", "0", "--db", "sqlite:" + self.db_path,
             "--web-root", self.web_root, "--drain-seconds", "0"]
        if self.world:
            a += ["--world", self.world]
        if self.tick_hz:
            a += ["--tick-hz", str(self.tick_hz)]
        if self.log_level:
            a += ["--log-level", self.log_level]
        return a + self.extra_args

    @property
    def stderr_path(self):
        return self.stderr_paths[-1]

    def start(self):
        if not os.path.exists(SERVER_BIN):
            raise RuntimeError("server binary %s does not exist (make asan)" % SERVER_BIN)
        self.runs += 1
        path = os.path.join(self.dir, "stderr-%d.log" % self.runs)
        self.stderr_paths.append(path)
        err = open(path, "wb")
        out = open(os.path.join(self.dir, "stdout-%d.log" % self.runs), "wb")
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "abort_on_error=0:detect_leaks=1")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
        # Run the binary through a symlink with its own name: a developer's `pkill cmmo-server`
        # for their own servers on this machine must not shut down the suite's servers.
        link = os.path.join(self.dir, "cmmo-it-server")
        if not os.path.islink(link):
            os.symlink(os.path.abspath(SERVER_BIN), link)
        args = [link] + self.args()[1:]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                     env=env, preexec_fn=_die_with_parent)
        err.close()
        out.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            text = self.stderr_text()
            for line in text.splitlines():
                m = re.search(r"port=(\d+)", line)
                if "listening" in line and m:
                    self.port = int(m.group(1))
                    return self
            if self.proc.poll() is not None:
                raise RuntimeError("server exited with %s before listening; stderr:\n%s"
                                   % (self.proc.returncode, text[-4000:]))
            time.sleep(0.02)
        self.proc.kill()
        self.proc.wait()
        raise RuntimeError("server printed no 'listening ... port=N' line within %.0f s; "
                           "stderr:\n%s" % (START_TIMEOUT, self.stderr_text()[-4000:]))

    @property
    def url(self):
        return "ws://127.0.0.1:%d/" % self.port

    def stderr_text(self, all_runs=False):
        paths = self.stderr_paths if all_runs else self.stderr_paths[-1:]
        chunks = []
        for p in paths:
            try:
                with open(p, "rb") as f:
                    chunks.append(f.read().decode("utf-8", "replace"))
            except FileNotFoundError:
                pass
        return "".join(chunks)

    def sanitizer_lines(self):
        return [l for l in self.stderr_text().splitlines()
                if any(pat in l for pat in SANITIZER_PATTERNS)]

    def stop(self, sig=signal.SIGTERM, timeout=20.0):
        """Signal the server and wait; returns the exit code (None if it had to be killed)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.problems.append("server did not exit within %.0f s of signal %d"
                                     % (timeout, sig))
                return None
        return self.proc.returncode

    def stop_and_check(self):
        """SIGTERM, then collect problems: exit code other than 0, sanitizer reports."""
        if self.proc is None:
            return
        already = self.proc.poll()
        code = self.stop()
        if already is not None:
            self.problems.append("server had already exited with %s before SIGTERM" % already)
        elif code != 0 and code is not None:
            self.problems.append("server exited with %s after SIGTERM (expected 0)" % code)
        self.check_sanitizers()
        self.proc = None

    def kill9(self):
        """SIGKILL (simulates a crash); checks the sanitizer output of that run."""
        self.stop(signal.SIGKILL)
        self.check_sanitizers()
        self.proc = None

    def restart(self):
        self.stop_and_check()
        return self.start()

    def check_sanitizers(self):
        lines = self.sanitizer_lines()
        if lines:
            self.problems.append("sanitizer reports in %s:\n  %s"
                                 % (self.stderr_path, "\n  ".join(lines[:20])))

    def assert_clean(self):
        if self.problems:
            raise AssertionError("server problems:\n" + "\n".join(self.problems))

    def cleanup_files(self):
        if not self.problems and os.environ.get("CMMO_IT_KEEP") is None:
            shutil.rmtree(self.dir, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# Packets
# --------------------------------------------------------------------------------------------


def pkt(action, *payloads):
    d = {"a": action}
    for i, p in enumerate(payloads):
        d["p%d" % i] = p
    return d


def is_action(*names):
    return lambda p: isinstance(p, dict) and p.get("a") in names


is_reply = is_action("Ok", "Deny")


def is_model_delta(p):
    return isinstance(p, dict) and p.get("a") == "ModelDelta" and isinstance(p.get("p0"), dict)


def is_full_actor(model):
    """True if the model dict is a full Actor model (everything the client needs first)."""
    try:
        ie = model["instanced_entity"]
        ent = ie["entity"]
        return (model["model_type"] == "Actor" and "id" in model and "user" in model
                and "avatar_id" in model and ie["model_type"] == "InstancedEntity"
                and "id" in ie and "x" in ie and "y" in ie and ent["model_type"] == "Entity"
                and "id" in ent and "name" in ent)
    except (KeyError, TypeError):
        return False


def is_full_model_of(actor_id):
    return lambda p: is_model_delta(p) and p["p0"].get("id") == actor_id and is_full_actor(p["p0"])


def position_of(p):
    """(x, y) carried by a ModelDelta packet, or None."""
    if not is_model_delta(p):
        return None
    ie = p["p0"].get("instanced_entity")
    if not isinstance(ie, dict) or "x" not in ie or "y" not in ie:
        return None
    return (ie["x"], ie["y"])


def is_move_of(actor_id):
    """A movement delta of actor_id (a partial model carrying x and y, not a full model)."""
    return lambda p: (is_model_delta(p) and p["p0"].get("id") == actor_id
                      and position_of(p) is not None and not is_full_actor(p["p0"]))


def is_at(actor_id, x, y):
    return lambda p: is_move_of(actor_id)(p) and position_of(p) == (x, y)


def is_chat(text=None):
    return lambda p: (isinstance(p, dict) and p.get("a") == "Chat"
                      and (text is None or p.get("p1") == text))


def is_disconnect(actor_id=None):
    return lambda p: (isinstance(p, dict) and p.get("a") == "Disconnect"
                      and (actor_id is None or p.get("p0") == actor_id))


def dist(a, b):
    return math.hypot(a[0] - b[0], a[1] - b[1])


def find_keys(obj, pred, path=""):
    """All key paths in a JSON value whose key satisfies pred."""
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if pred(k):
                out.append(path + "/" + k)
            out += find_keys(v, pred, path + "/" + k)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += find_keys(v, pred, path + "/%d" % i)
    return out


# --------------------------------------------------------------------------------------------
# The WebSocket client
# --------------------------------------------------------------------------------------------


MOVES_KIND = 1
MOVES_KIND_SHORT = 2
MOVE_RECORD = struct.Struct("<III")
MOVE_RECORD_SHORT = struct.Struct("<IHH")
MOVE_SCALE_MAX = 6


def decode_moves(msg):
    """The (actor id, x, y) records of a cmmo.v2 Moves frame (a binary message of kind 1 or 2,
    docs/PROTOCOL.md), x and y in px; None for anything else."""
    if not isinstance(msg, (bytes, bytearray)) or len(msg) < 1:
        return None
    out = []
    if msg[0] == MOVES_KIND:
        if (len(msg) - 1) % MOVE_RECORD.size:
            raise ValueError("a Moves frame of %d bytes is not whole records" % len(msg))
        for off in range(1, len(msg), MOVE_RECORD.size):
            aid, x, y = MOVE_RECORD.unpack_from(msg, off)
            out.append((aid, hundredths(x), hundredths(y)))
        return out
    if msg[0] != MOVES_KIND_SHORT:
        return None
    if len(msg) < 2 or msg[1] > MOVE_SCALE_MAX or (len(msg) - 2) % MOVE_RECORD_SHORT.size:
        raise ValueError("a Moves frame of kind 2 and %d bytes is malformed" % len(msg))
    unit = 1 / (1 << msg[1])
    for off in range(2, len(msg), MOVE_RECORD_SHORT.size):
        aid, x, y = MOVE_RECORD_SHORT.unpack_from(msg, off)
        out.append((aid, units(x * unit), units(y * unit)))
    return out


def units(v):
    """A kind 2 position (an exact binary fraction) as a JSON Move would print it: an int when
    whole."""
    return int(v) if v == int(v) else v


def hundredths(n):
    """n hundredths as the number a JSON Move would print: an int when whole."""
    return n // 100 if n % 100 == 0 else n / 100


class Client:
    """A game connection. Every received packet is kept in .packets (with arrival times in
    .times and the raw frames in .raws); .cursor marks what wait_for() has consumed."""

    def __init__(self, ws, label=""):
        self.ws = ws
        self.label = label
        self.packets = []
        self.raws = []
        self.times = []
        self.cursor = 0
        self.frames = 0  # WebSocket messages received (a Moves frame holds many packets)
        self.closed = False
        self.name = None
        self.password = None
        self.own = None  # own full actor model after a successful login
        self._new = asyncio.Event()
        self.task = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def connect(cls, url, label="", **kwargs):
        opts = dict(max_size=2 ** 24, ping_interval=None, compression=None, open_timeout=10,
                    close_timeout=3)
        opts.update(kwargs)
        ws = await websockets.connect(url, **opts)
        return cls(ws, label)

    @property
    def aid(self):
        return self.own["id"] if self.own else None

    async def _read(self):
        try:
            async for msg in self.ws:
                now = time.monotonic()
                self.frames += 1
                moves = decode_moves(msg)
                if moves is not None:
                    # A cmmo.v2 Moves frame: each record is kept as the Move it means, with the
                    # frame's bytes as its raw (docs/PROTOCOL.md, "One frame per tick").
                    for m in moves:
                        self.raws.append(msg)
                        self.times.append(now)
                        self.packets.append({"a": "Move", "p0": list(m)})
                    self._new.set()
                    continue
                self.raws.append(msg)
                self.times.append(now)
                try:
                    p = json.loads(msg)
                except ValueError:
                    p = {"a": "<unparseable>", "raw": msg}
                self.packets.append(p)
                self._new.set()
        except websockets.ConnectionClosed:
            pass
        except Exception as e:  # keep the reader's failure visible in assertion messages
            self.packets.append({"a": "<reader error>", "error": repr(e)})
        finally:
            self.closed = True
            self._new.set()

    def describe(self, n=8):
        tail = self.packets[-n:]
        return "%s: %d packets received, last %d: %s" % (
            self.label or self.name, len(self.packets), len(tail),
            json.dumps(tail)[:1500])

    async def send(self, obj):
        await self.ws.send(json.dumps(obj, separators=(",", ":"), allow_nan=True))

    async def send_raw(self, data):
        await self.ws.send(data)

    async def chat(self, text, sender=None):
        """Send a Chat, paced to stay inside the documented chat budget (2 lines/s, bursts of
        10; docs/PROTOCOL.md section 6) so that a test's chats are never dropped for rate."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        if not hasattr(self, "_chat_tokens"):
            self._chat_tokens, self._chat_last = CHAT_BURST_SAFE, now
        self._chat_tokens = min(CHAT_BURST_SAFE,
                                self._chat_tokens + (now - self._chat_last) * CHAT_RATE_SAFE)
        self._chat_last = now
        if self._chat_tokens < 1:
            wait = (1 - self._chat_tokens) / CHAT_RATE_SAFE
            await asyncio.sleep(wait)
            self._chat_tokens, self._chat_last = 1, loop.time()
        self._chat_tokens -= 1
        await self.send(pkt("Chat", self.name if sender is None else sender, text))

    def mark(self):
        """Index of the next packet to arrive."""
        return len(self.packets)

    def since(self, mark, pred=lambda p: True):
        return [p for p in self.packets[mark:] if pred(p)]

    async def wait_for(self, pred, timeout=PACKET_TIMEOUT, what="a packet"):
        """Consume packets from the cursor until one satisfies pred; return it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            while self.cursor < len(self.packets):
                p = self.packets[self.cursor]
                self.cursor += 1
                if pred(p):
                    return p
            if self.closed:
                raise AssertionError("connection closed (code %s) while waiting for %s; %s"
                                     % (self.ws.close_code, what, self.describe()))
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError("no %s within %.1f s; %s" % (what, timeout, self.describe()))
            self._new.clear()
            try:
                await asyncio.wait_for(self._new.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    async def next(self, timeout=PACKET_TIMEOUT, what="the next packet"):
        return await self.wait_for(lambda p: True, timeout, what)

    async def reply(self, timeout=PACKET_TIMEOUT):
        """The next Ok or Deny."""
        return await self.wait_for(is_reply, timeout, "an Ok/Deny reply")

    async def register(self, name, password, avatar=0):
        await self.send(pkt("Register", name, password, avatar))
        return await self.reply()

    async def login(self, name, password):
        """Login; on Ok also waits for the first ModelDelta and stores it as .own.
        Returns the reply packet."""
        start = self.mark()
        await self.send(pkt("Login", name, password))
        r = await self.reply()
        if r.get("a") == "Ok":
            early = [p for p in self.packets[start:self.cursor] if is_model_delta(p)]
            if early:
                raise AssertionError("ModelDelta before Ok: %s" % early)
            first = await self.wait_for(is_model_delta, what="the first ModelDelta after Ok")
            self.own = first["p0"]
            self.name = name
            self.password = password
        return r

    async def wait_closed(self, timeout=PACKET_TIMEOUT):
        """Wait until the server closed the connection; returns the close code."""
        try:
            await asyncio.wait_for(asyncio.shield(self.task), timeout)
        except asyncio.TimeoutError:
            raise AssertionError("connection still open after %.1f s; %s"
                                 % (timeout, self.describe()))
        return self.ws.close_code

    async def close(self):
        try:
            await asyncio.wait_for(self.ws.close(), 5)
        except Exception:
            self.abort()
        try:
            await asyncio.wait_for(asyncio.shield(self.task), 5)
        except Exception:
            pass

    def abort(self):
        """Drop the TCP connection without a close frame."""
        if self.ws.transport is not None:
            self.ws.transport.abort()


# --------------------------------------------------------------------------------------------
# Raw WebSocket (for frames the websockets library refuses to produce)
# --------------------------------------------------------------------------------------------


def make_certificate(directory, name="localhost"):
    """A self-signed certificate and key made with the openssl command, as an operator would."""
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "2", "-subj", "/CN=" + name],
                   check=True, capture_output=True)
    return cert, key


def client_tls_context():
    # The tutorial's v1.1 client does not verify certificates; neither does this test client.
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class RawWebSocket:
    """A minimal blocking RFC 6455 client over a plain socket, or over TLS (tls=True) driven
    through memory BIOs so that the test decides where TLS records begin and end."""

    def __init__(self, port, timeout=PACKET_TIMEOUT, tls=False):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.tls = None
        if tls:
            self._in, self._out = ssl.MemoryBIO(), ssl.MemoryBIO()
            self.tls = client_tls_context().wrap_bio(self._in, self._out)
            while True:
                try:
                    self.tls.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    self._send_tls_output()
                    self._pull()
            self._send_tls_output()
        key = base64.b64encode(os.urandom(16)).decode()
        req = ("GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
               % (port, key))
        self.send_bytes(req.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            try:
                chunk = self.recv_bytes()
            except EOFError:
                chunk = b""
            if not chunk:
                raise AssertionError("connection closed during the handshake: %r" % head)
            head += chunk
        head, _, self.buf = head.partition(b"\r\n\r\n")
        status = head.split(b"\r\n")[0]
        if b" 101" not in status:
            raise AssertionError("handshake failed: %r" % head)

    def _send_tls_output(self):
        data = self._out.read()
        if data:
            self.sock.sendall(data)

    def _pull(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError
        self._in.write(chunk)

    def send_pieces(self, pieces):
        """Sends the pieces in one TCP write; over TLS each piece is its own TLS record, so the
        server decrypts them one by one with the boundaries exactly where the pieces end."""
        if self.tls is None:
            self.sock.sendall(b"".join(pieces))
            return
        for p in pieces:
            self.tls.write(p)  # one SSL_write of a small buffer: one record
        self._send_tls_output()

    def send_bytes(self, data):
        self.send_pieces([data])

    def recv_bytes(self):
        """Some received bytes (decrypted over TLS); raises EOFError at the end of the stream."""
        if self.tls is None:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            return chunk
        while True:
            try:
                return self.tls.read(65536)
            except ssl.SSLWantReadError:
                self._pull()
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                raise EOFError

    @staticmethod
    def frame(opcode, payload, fin=True, mask=True, rsv=0):
        """The bytes of one client frame."""
        b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
        n = len(payload)
        mbit = 0x80 if mask else 0
        if n < 126:
            hdr = struct.pack("!BB", b0, mbit | n)
        elif n < 65536:
            hdr = struct.pack("!BBH", b0, mbit | 126, n)
        else:
            hdr = struct.pack("!BBQ", b0, mbit | 127, n)
        if mask:
            key = os.urandom(4)
            payload = bytes(c ^ key[i % 4] for i, c in enumerate(payload))
            hdr += key
        return hdr + payload

    def send_frame(self, opcode, payload, fin=True, mask=True, rsv=0):
        self.send_bytes(self.frame(opcode, payload, fin, mask, rsv))

    def _need(self, n):
        while len(self.buf) < n:
            self.buf += self.recv_bytes()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv_frame(self):
        """(opcode, payload) of the next frame; raises EOFError when the socket closes."""
        b0, b1 = self._need(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._need(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._need(8))[0]
        if b1 & 0x80:
            key = self._need(4)
            data = bytes(c ^ key[i % 4] for i, c in enumerate(self._need(n)))
        else:
            data = self._need(n)
        return b0 & 0x0F, data

    def recv_close_code(self):
        """Read frames until a close frame; return its code, or a string saying what happened
        instead (no code in the close frame, TCP closed without a close frame, timeout)."""
        try:
            while True:
                op, data = self.recv_frame()
                if op == 8:
                    if len(data) >= 2:
                        return struct.unpack("!H", data[:2])[0]
                    return "close frame without a code"
        except (EOFError, ConnectionError):
            return "TCP closed without a close frame"
        except socket.timeout:
            return "no close frame within the timeout"

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def http_get(port, path, timeout=PACKET_TIMEOUT, extra_headers=""):
    """A raw HTTP/1.1 GET (no path normalisation); returns (status, headers dict, body bytes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s\r\n"
                   % (path, extra_headers)).encode("latin-1"))
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        if not lines or not lines[0].startswith("HTTP/1."):
            raise AssertionError("not an HTTP response to %s: %r" % (path, data[:200]))
        status = int(lines[0].split()[1])
        headers = {}
        for l in lines[1:]:
            k, _, v = l.partition(":")
            headers[k.strip().lower()] = v.strip()
        if "content-length" in headers:
            n = int(headers["content-length"])
            while len(body) < n:
                chunk = s.recv(65536)
                if not chunk:
                    break
                body += chunk
            body = body[:n]
        else:
            while True:
                try:
                    chunk = s.recv(65536)
                except socket.timeout:
                    break
                if not chunk:
                    break
                body += chunk
        return status, headers, body


# --------------------------------------------------------------------------------------------
# Test case base
# --------------------------------------------------------------------------------------------


def async_test(fn):
    """Run a coroutine test method on the class's event loop, bounded by TEST_TIMEOUT."""

    @functools.wraps(fn)
    def wrapper(self):
        return self.loop.run_until_complete(asyncio.wait_for(fn(self), TEST_TIMEOUT))

    return wrapper


class ServerTestCase(unittest.TestCase):
    """One server per class (server_options), one asyncio loop per class. Clients made with
    self.client()/self.player() are closed after each test."""

    server_options = {}
    start_server = True

    @classmethod
    def setUpClass(cls):
        cls.loop = asyncio.new_event_loop()
        cls.server = None
        if cls.start_server:
            cls.server = Server(**cls.server_options)
            try:
                cls.server.start()
            except Exception:
                cls.loop.close()
                raise

    @classmethod
    def tearDownClass(cls):
        try:
            kept = getattr(cls, "_kept", [])
            if kept:
                async def close_kept():
                    await asyncio.gather(*(c.close() for c in kept), return_exceptions=True)
                cls.loop.run_until_complete(close_kept())
        finally:
            cls._kept = []
            cls._stop_server()

    @classmethod
    def _stop_server(cls):
        try:
            if cls.server is not None:
                cls.server.stop_and_check()
                cls.server.assert_clean()
                cls.server.cleanup_files()
        finally:
            cls.loop.close()

    def setUp(self):
        self._clients = []
        srv = self.server
        if srv is not None and srv.proc is not None and srv.proc.poll() is not None:
            # An earlier test of this class killed the server. Record why (exit code, sanitizer
            # report: tearDownClass fails with it) and start a new one on the same database so
            # that each later test still tests something.
            srv.stop_and_check()
            srv.start()

    def tearDown(self):
        async def close_all():
            await asyncio.gather(*(c.close() for c in self._clients), return_exceptions=True)
        self.loop.run_until_complete(close_all())
        # Is the server still alive? A crash is then pinned on this test, and the next test's
        # setUp restarts it (a sanitizer report can take a moment to finish the process).
        srv = self.server
        if srv is not None and srv.proc is not None and srv.proc.poll() is None:
            try:
                http_get(srv.port, "/stats", timeout=3)
            except Exception:
                try:
                    srv.proc.wait(10)
                except subprocess.TimeoutExpired:
                    pass

    async def client(self, label="", server=None, **kwargs):
        c = await Client.connect((server or self.server).url, label, **kwargs)
        self._clients.append(c)
        return c

    async def player(self, tag="p", avatar=0, password=None, server=None, keep=False):
        """A new account, logged in; returns the client (own model in .own). keep=True: the
        connection outlives the test and is closed at the end of the class."""
        name = unique_name(tag)
        password = password or "pw-" + name
        if keep:
            c = await Client.connect((server or self.server).url, name)
            type(self)._kept = getattr(type(self), "_kept", []) + [c]
        else:
            c = await self.client(name, server=server)
        r = await c.register(name, password, avatar)
        self.assertEqual(r, {"a": "Ok"}, "Register %s" % name)
        r = await c.login(name, password)
        self.assertEqual(r, {"a": "Ok"}, "Login %s" % name)
        return c

    async def players(self, n, tag="p"):
        return await asyncio.gather(*(self.player("%s%d" % (tag, i)) for i in range(n)))

    async def assert_no_packet(self, client, pred, duration=0.5, what="packet"):
        mark = client.mark()
        await asyncio.sleep(duration)
        got = client.since(mark, pred)
        self.assertEqual(got, [], "unexpected %s to %s" % (what, client.name or client.label))

    async def walk_and_wait(self, mover, x, y, viewers=(), timeout=None):
        """Send Target(x, y) and wait until mover and viewers see it arrive exactly there."""
        if timeout is None:
            timeout = PACKET_TIMEOUT
        await mover.send(pkt("Target", x, y))
        for c in (mover,) + tuple(viewers):
            await c.wait_for(is_at(mover.aid, x, y), timeout,
                             "%s arriving at (%s, %s)" % (mover.name, x, y))

    # ---- "the world keeps running": a kept mover/observer pair, re-created if it broke ----

    async def world_pair(self):
        cls = type(self)
        pair = getattr(cls, "_world_pair", None)
        if pair is None or any(c.closed for c in pair):
            mover = await self.player("mover", keep=True)
            observer = await self.player("observer", keep=True)
            await observer.wait_for(is_full_model_of(mover.aid), what="the mover's model")
            cls._world_pair = pair = (mover, observer)
            cls._world_step = 0
        return pair

    async def assert_world_runs(self, context=""):
        """Another player still moves (observed step by step to its exact target) and chats."""
        mover, observer = await self.world_pair()
        cls = type(self)
        cls._world_step += 1
        k = cls._world_step
        tx, ty = (10 + 3 * (k % 2), 10 + 4 * (k % 2))
        observer.cursor = observer.mark()
        await mover.send(pkt("Target", tx, ty))
        await observer.wait_for(is_at(mover.aid, tx, ty), 4.0,
                                "the mover arriving at (%s, %s) %s" % (tx, ty, context))
        token = "world alive %d" % k
        await mover.chat(token)
        got = await observer.wait_for(is_chat(token), 4.0, "the mover's chat %s" % context)
        self.assertEqual(got["p0"], mover.name)
