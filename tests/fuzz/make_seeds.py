#!/usr/bin/python3
"""Writes the committed seed corpora under tests/fuzz/corpus/fuzz_<target>/ (run from anywhere; the
files are committed, so this only needs to run again when the input layouts change).

Each target's layout is described at the top of its tests/fuzz/fuzz_<target>.c."""

import hashlib
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def put(target, data):
    d = os.path.join(HERE, "corpus", "fuzz_" + target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def pkt(a, *p):
    d = {"a": a}
    for i, v in enumerate(p):
        d["p%d" % i] = v
    return json.dumps(d, separators=(",", ":")).encode()


PACKETS = [
    pkt("Register", "alice", "pw-alice", 2),
    pkt("Register", "bob", "pw", 2.0),
    pkt("Register", "x" * 21, "pw", 0),
    pkt("Register", "alice", "pw", "2"),
    pkt("Register", "alice", "p" * 129, 0),
    pkt("Login", "alice", "pw-alice"),
    pkt("Login", "", ""),
    pkt("Login", "al ice", "\u00e9\u0000"),
    pkt("Chat", "alice", "hello [b]bob[/b] <i>x</i>"),
    pkt("Chat", "mallory", "\u0000\u001b\u0085\U0001F600" + "z" * 300),
    pkt("Chat", "a", 5),
    pkt("Target", 200, 100),
    pkt("Target", -1e308, 1e308),
    pkt("Target", 3.5, "4"),
    pkt("Ok"),
    pkt("Deny", "no"),
    pkt("ModelDelta", {"id": 1}),
    pkt("Disconnect", 1),
    pkt("Unknown"),
    b'{"a":"Chat","p0":"x","p2":"gap"}',
    b'{"a":"Chat","a":"Login","p0":"x","p1":"y"}',
    b'{"a":"Target","p0":NaN,"p1":1}',
    b'{"a":"Target","p0":1e999,"p1":1}',
    b'{"a":"Chat","p0":"x","p1":"\\ud800"}',
    b'{"a":"Chat","p00":"x","p1":"y"}',
    b'[1,2,3]',
    b'"Chat"',
    b'{"a":7}',
    b'',
    b'{',
    b'\xff\xfe{"a":"Ok"}',
]


def packet_seeds():
    for p in PACKETS:
        put("packet", p)


KEY = b"dGhlIHNhbXBsZSBub25jZQ=="


def upgrade(key=KEY, version=b"13", extra=b""):
    return (b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
            b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: " + version + b"\r\n"
            + extra + b"Origin: http://evil.example\r\n\r\n")


def http_seeds():
    reqs = [
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"HEAD /app.js HTTP/1.1\r\nHost: x\r\n\r\nGET /stats?reset=1 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /../secret.txt HTTP/1.1\r\n\r\n",
        b"GET /%2e%2e/secret.txt HTTP/1.1\r\n\r\n",
        b"GET /link.txt HTTP/1.1\r\n\r\n",
        b"GET /a%00b HTTP/1.1\r\n\r\n",
        b"GET /a\\..\\b HTTP/1.1\r\n\r\n",
        b"GET http://x/ HTTP/1.1\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
        b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"GET /" + b"a" * 3000 + b" HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nX: " + b"b" * 9000 + b"\r\n\r\n",
        upgrade(),
        upgrade(version=b"8"),
        upgrade(key=b"short=="),
        upgrade(key=b"AAAAAAAAAAAAAAAAAAAAAAAA"),
        upgrade() + b"\x81\x85\x00\x00\x00\x00hello",
        b"GET / HTTP/1.0\r\nUpgrade: websocket\r\n\r\n",
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03",  # a TLS ClientHello
        b"GET /up/secret.txt HTTP/1.1\r\n\r\n",  # a directory link out of the root
        # issue 11: heads over the limit in one read, repeated and folded fields, loose
        # subprotocols, a smuggled body
        b"GET / HTTP/1.1\r\n" + b"X-A: b\r\n" * 2000 + b"\r\n",
        upgrade(extra=b"Connection: close\r\nConnection: Upgrade\r\n"),
        upgrade(key=b"dGhlIHNhbXBsZS\r\nSec-WebSocket-Key: Bub25jZQ=="),
        upgrade(key=b"dGhlIHNhbXBsZSBub25jZR=="),
        upgrade(extra=b"Sec-WebSocket-Protocol: " + b"p, " * 82 + b"p,cmmo.v2x\r\n"),
        upgrade(extra=b"Sec-WebSocket-Protocol: CMMO.V2\r\nSec-WebSocket-Protocol: cmmo.v2\r\n"),
        upgrade(extra=b"X-Folded: a,\r\n b\r\n"),
        b"GET / HTTP/1.1\r\nContent-Length: 38\r\n\r\nGET /index.html HTTP/1.1\r\nHost: x\r\n\r\n",
    ]
    for r in reqs:
        for split in (0, 1, 7):
            put("http", bytes([split]) + r)


def frame(op, payload, fin=True, mask=b"\x01\x02\x03\x04", rsv=0, length=None):
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | (rsv << 4) | op
    mbit = 0x80 if mask is not None else 0
    if n < 126:
        h = struct.pack("!BB", b0, mbit | n)
    elif n < 65536:
        h = struct.pack("!BBH", b0, mbit | 126, n)
    else:
        h = struct.pack("!BBQ", b0, mbit | 127, n)
    if mask is not None:
        payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
        h += mask
    return h + payload


def ws_seeds():
    streams = [
        frame(1, pkt("Login", "alice", "pw")),
        frame(2, pkt("Chat", "a", "b")),
        frame(1, b"") + frame(1, b"{}"),
        frame(1, b"hel", fin=False) + frame(9, b"p") + frame(0, b"lo"),
        frame(9, b"ping") + frame(10, b"pong"),
        frame(8, struct.pack("!H", 1000) + b"bye"),
        frame(8, b"\x03"),
        frame(8, struct.pack("!H", 1005)),
        frame(8, struct.pack("!H", 999)),
        frame(8, struct.pack("!H", 1000) + b"\xff"),
        frame(1, b"\xc3\x28"),
        frame(1, b"\xed\xa0\x80"),
        frame(1, b"x" * 4097),
        frame(1, b"x" * 4096),
        frame(1, b"abc", mask=None),
        frame(1, b"abc", rsv=4),
        frame(3, b"abc"),
        frame(9, b"x" * 126),
        frame(9, b"p", fin=False),
        frame(0, b"cont"),
        frame(1, b"x", length=1 << 40)[:14],
        b"".join(frame(1, pkt("Target", i, i)) for i in range(80)),
    ]
    for s in streams:
        for ctl in ((0, 0), (1, 1), (5, 3), (0, 64)):  # read size, pause every N messages
            put("ws", bytes(ctl) + s)


def msg(link, data, buffered=False):
    return bytes([(2 if buffered else 0) | (link << 3), len(data)]) + data


def tmpl(link, t, a):
    return bytes([3 | (link << 3), t, a])


TICK, IDLE = 4, 5


def session_seeds():
    reg0 = tmpl(0, 0, 0)     # Register alice, pw 0
    login0 = tmpl(0, 1, 0)   # Login alice, pw 0
    reg2 = tmpl(1, 0, 2)     # Register bob
    login2 = tmpl(1, 1, 2)
    seqs = [
        b"\x00" + reg0 + bytes([IDLE, TICK, IDLE]) + login0 + bytes([TICK, IDLE, TICK]),
        b"\x01" + reg0 + reg2 + bytes([TICK, IDLE, TICK, IDLE]) + login0 + login2
        + bytes([TICK, IDLE, TICK]) + tmpl(0, 3, 1) + tmpl(1, 4, 30) + bytes([TICK] * 8),
        b"\x00" + reg0 + tmpl(1, 0, 1) + bytes([TICK, IDLE, TICK, IDLE, TICK]),  # racing names
        b"\x00" + reg0 + bytes([TICK, IDLE]) + login0 + tmpl(1, 1, 0)
        + bytes([TICK, IDLE, TICK, IDLE]),  # the same account twice
        b"\x00" + reg0 + bytes([TICK, IDLE]) + login0 + bytes([TICK, IDLE]) + tmpl(0, 7, 200)
        + bytes([TICK, TICK]),  # a flood
        b"\x00" + reg0 + bytes([TICK, IDLE]) + login0 + bytes([TICK, IDLE])
        + b"".join(tmpl(0, 3, i) for i in range(14)) + bytes([TICK, TICK]),  # a chat flood
        b"\x00" + reg0 + bytes([TICK, IDLE]) + login0 + bytes([6, TICK, IDLE, TICK, 7]),
        b"\x00" + msg(0, b"{") + msg(0, b"") + msg(0, pkt("Chat", "a", "b")) + bytes([TICK]),
        b"\x00" + b"".join(msg(0, pkt("Target", 1, 2), buffered=True) for _ in range(70))
        + bytes([TICK, TICK]),
        b"\x00" + reg0 + bytes([TICK, IDLE]) + login0 + bytes([TICK]) + tmpl(0, 6, 39)
        + bytes([TICK]),
        # cmmo.v2 links (first byte's bit 1): a password login gets a token; link 1 resumes with
        # it (the first try closes link 0, the second gets in), pings, logs out.
        b"\x02" + reg0 + bytes([TICK, IDLE]) + login0 + bytes([TICK, IDLE, TICK, IDLE])
        + tmpl(1, 0x83, 0) + bytes([TICK, IDLE, TICK, IDLE]) + tmpl(1, 0x83, 0)
        + bytes([TICK, IDLE, TICK]) + tmpl(1, 0x83, 2) + tmpl(1, 0x83, 1) + bytes([TICK, IDLE]),
    ]
    for s in seqs:
        put("session", s)


DICT = [b'"a"', b'"p0"', b'"p1"', b'"p2"', b'"Register"', b'"Login"', b'"Chat"', b'"Target"',
        b'"Ok"', b'"Deny"', b'"ModelDelta"', b'"Disconnect"', b'"Resume"', b'"Logout"',
        b'"Ping"', b'\\u0000', b'\\ud83d\\ude00',
        b'1e308', b'-0.0', b'null', b'true', b'[', b']', b'{', b'}', b':', b',']


def write_dict():
    with open(os.path.join(HERE, "packet.dict"), "w") as f:
        f.write("# JSON and protocol tokens for fuzz_packet and fuzz_session (make_seeds.py)\n")
        for t in DICT:
            f.write('"%s"\n' % "".join(chr(c) if 32 <= c < 127 and c not in (34, 92)
                                       else "\\x%02x" % c for c in t))


if __name__ == "__main__":
    packet_seeds()
    http_seeds()
    ws_seeds()
    session_seeds()
    write_dict()
