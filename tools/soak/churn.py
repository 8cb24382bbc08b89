#!/usr/bin/python3
"""Churn driver for the soak test: a few dozen players connecting, playing, leaving, for a while.

    churn.py PORT SECONDS [PLAYERS]

Each virtual player registers once, then loops: connect, log in, walk (a Target every 0.3-2 s)
and chat now and then for 3-30 s, then leave: a clean close most of the time, sometimes an abrupt
drop (no close frame), sometimes mid-login. Beside them, a trickle of hostile or odd traffic:
malformed packets, a burst over the message budget, HTTP GETs, a connection that stops
reading. Prints one summary line per minute and a final line with the totals; exits 1 if the
server stopped answering.
"""

import asyncio
import json
import random
import socket
import sys
import time

import websockets

stats = {"sessions": 0, "logins": 0, "denied": 0, "errors": 0, "chats": 0, "targets": 0,
         "hostile": 0, "http": 0}


def pkt(a, *p):
    d = {"a": a}
    for i, v in enumerate(p):
        d["p%d" % i] = v
    return json.dumps(d, separators=(",", ":"))


async def reply(ws, timeout=15):
    deadline = time.monotonic() + timeout
    while True:
        msg = await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.monotonic()))
        p = json.loads(msg)
        if p.get("a") in ("Ok", "Deny"):
            return p


async def drain(ws):
    try:
        async for _ in ws:
            pass
    except websockets.ConnectionClosed:
        pass


async def player(url, idx, until, rng):
    name = "soak%d_%d" % (idx, rng.randrange(10 ** 6))
    password = "pw-soak-%d-%d" % (idx, rng.randrange(10 ** 9))
    registered = False
    while time.monotonic() < until:
        try:
            async with websockets.connect(url, ping_interval=None, close_timeout=2,
                                          max_size=2 ** 24) as ws:
                stats["sessions"] += 1
                if not registered:
                    await ws.send(pkt("Register", name, password, rng.randrange(6)))
                    r = await reply(ws)
                    registered = r["a"] == "Ok" or r.get("p0") == "This username is already taken"
                    if not registered:
                        stats["denied"] += 1
                        await asyncio.sleep(1)
                        continue
                await ws.send(pkt("Login", name, password))
                if rng.random() < 0.05:
                    ws.transport.abort()  # gone while the password is being checked
                    continue
                r = await reply(ws)
                if r["a"] != "Ok":
                    stats["denied"] += 1
                    await asyncio.sleep(1)
                    continue
                stats["logins"] += 1
                reader = asyncio.get_running_loop().create_task(drain(ws))
                stay = time.monotonic() + rng.uniform(3, 30)
                while time.monotonic() < min(stay, until):
                    await ws.send(pkt("Target", rng.uniform(0, 1344), rng.uniform(0, 832)))
                    stats["targets"] += 1
                    if rng.random() < 0.2:
                        await ws.send(pkt("Chat", name, "hello [b]%d[/b] \u00e9" % rng.randrange(99)))
                        stats["chats"] += 1
                    await asyncio.sleep(rng.uniform(0.3, 2.0))
                if rng.random() < 0.25:
                    ws.transport.abort()  # vanished without a close frame
                reader.cancel()
        except (OSError, asyncio.TimeoutError, websockets.WebSocketException, ValueError):
            stats["errors"] += 1
            await asyncio.sleep(0.5)
        await asyncio.sleep(rng.uniform(0.1, 3.0))


async def hostile(url, port, until, rng):
    while time.monotonic() < until:
        kind = rng.randrange(4)
        try:
            if kind == 0:
                async with websockets.connect(url, ping_interval=None, close_timeout=2) as ws:
                    for i in range(rng.randrange(1, 40)):
                        await ws.send(rng.choice(["{", "[]", '{"a":"Nope"}', pkt("Chat", 1, 2),
                                                  pkt("Target", "x", None), "\u0000"]))
            elif kind == 1:
                async with websockets.connect(url, ping_interval=None, close_timeout=2) as ws:
                    for i in range(600):  # over the message budget: closed with 1008
                        await ws.send(pkt("Target", i, i))
                    await asyncio.sleep(0.5)
            elif kind == 2:
                r, w = await asyncio.open_connection("127.0.0.1", port)
                w.write(b"GET /stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                await asyncio.wait_for(r.read(), 5)
                w.close()
                stats["http"] += 1
            else:
                ws = await websockets.connect(url, ping_interval=None, close_timeout=2)
                ws.transport.pause_reading()  # a client that stops reading, then leaves
                await asyncio.sleep(rng.uniform(1, 5))
                ws.transport.abort()
            stats["hostile"] += 1
        except (OSError, asyncio.TimeoutError, websockets.WebSocketException):
            stats["hostile"] += 1
        await asyncio.sleep(rng.uniform(0.5, 3))


async def server_alive(port):
    r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
    w.write(b"GET /stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = await asyncio.wait_for(r.read(), 5)
    w.close()
    return b" 200 " in data.split(b"\r\n")[0] + b" "


async def main():
    port, seconds = int(sys.argv[1]), float(sys.argv[2])
    players = int(sys.argv[3]) if len(sys.argv) > 3 else 30
    url = "ws://127.0.0.1:%d/" % port
    rng = random.Random(20261121)
    start = time.monotonic()
    until = start + seconds
    tasks = [asyncio.get_running_loop().create_task(
        player(url, i, until, random.Random(rng.random()))) for i in range(players)]
    tasks.append(asyncio.get_running_loop().create_task(
        hostile(url, port, until, random.Random(rng.random()))))
    ok = True
    next_report = start + 60
    while time.monotonic() < until:
        await asyncio.sleep(1)
        if time.monotonic() >= next_report:
            next_report += 60
            try:
                alive = await server_alive(port)
            except (OSError, asyncio.TimeoutError):
                alive = False
            print("churn t=%4.0fs alive=%s %s" % (time.monotonic() - start, alive,
                                                 json.dumps(stats)), flush=True)
            ok = ok and alive
    await asyncio.gather(*tasks, return_exceptions=True)
    print("churn done: %s" % json.dumps(stats), flush=True)
    return 0 if ok and stats["logins"] > 0 else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
