"""cmmo.v2 movement under a bandwidth budget (docs/PROTOCOL.md, "One frame per tick" and
"Bandwidth budget"): a tick's movement arrives as one binary Moves frame; in a crowd the bytes a
cmmo.v2 client is sent stay within --compact-budget, and no walking actor's position is left stale
beyond the bound; a legacy client in the same crowd still gets every delta, one per frame."""

import asyncio
import math
import time

from harness import ServerTestCase, async_test, is_move_of, pkt

V2 = "cmmo.v2"
WALKERS = 30
BUDGET_KIB = 4  # 4,096 B/s: 24 records (8 bytes) a tick, for 30 walkers: the budget binds
WINDOW_S = 2.0
# The documented bound is 250 ms, 5 ticks at 20 Hz. Counted in Moves frames (one a tick), so
# that a loaded machine's scheduling does not count as staleness.
STALE_MAX_TICKS = 5


class Budget(ServerTestCase):

    server_options = {"extra_args": ["--compact-budget", str(BUDGET_KIB)]}

    @async_test
    async def test_a_crowd_stays_within_the_budget_and_no_walker_goes_stale(self):
        walkers = await self.players(WALKERS, "crowd")
        legacy = walkers[0]
        name = "v2watch%d" % (time.monotonic_ns() % 100000)
        v2 = await self.client(name, subprotocols=[V2])
        self.assertEqual(v2.ws.subprotocol, V2)
        self.assertEqual(await v2.register(name, "pw-" + name), {"a": "Ok"})
        self.assertEqual(await v2.login(name, "pw-" + name), {"a": "Ok"})
        ids = {w.aid for w in walkers}
        await v2.wait_for(lambda p: p.get("a") == "ModelDelta" and p["p0"].get("id") == walkers[-1].aid
                          and "user" in p["p0"], what="the crowd's full models")
        # Everyone walks from the spawn point outward, for about 5 s.
        for i, w in enumerate(walkers):
            angle = 2 * math.pi * i / WALKERS
            await w.send(pkt("Target", 340 + 330 * math.cos(angle), 400 + 330 * math.sin(angle)))
        await asyncio.sleep(1.0)  # the join burst is paid for, everyone walks
        start = len(v2.raws)
        legacy_mark = legacy.mark()
        frames_before = v2.frames
        t0 = time.monotonic()
        await asyncio.sleep(WINDOW_S)
        t1 = time.monotonic()
        end = len(v2.raws)
        # Bytes: each distinct message once (a Moves frame is kept once per record it holds).
        seen, sent = set(), 0
        for k in range(start, end):
            raw = v2.raws[k]
            if id(raw) in seen:
                continue
            seen.add(id(raw))
            size = len(raw) if isinstance(raw, bytes) else len(raw.encode())
            sent += size + (2 if size < 126 else 4)
        rate = sent / (t1 - t0)
        self.assertLessEqual(rate, BUDGET_KIB * 1024 * 1.10,
                             "%.0f B/s to the cmmo.v2 client, budget %d KiB/s" % (rate, BUDGET_KIB))
        per_tick = sent / max(1, v2.frames - frames_before)
        self.assertGreater(per_tick, BUDGET_KIB * 1024 / 20 * 0.5,
                           "the crowd needs more than the budget (bytes per tick)")
        # One frame a tick (20 Hz), not one per move.
        frames = v2.frames - frames_before
        self.assertLessEqual(frames, 20 * (t1 - t0) + 4)
        # Staleness: the ticks (Moves frames) between a walker's updates, while it walks.
        last, worst, frame, prev_raw = {}, 0, 0, None
        for k in range(start, end):
            p, raw = v2.packets[k], v2.raws[k]
            if raw is not prev_raw and isinstance(raw, bytes):
                frame += 1
            prev_raw = raw
            if p.get("a") != "Move" or p["p0"][0] not in ids:
                continue
            aid = p["p0"][0]
            if aid in last:
                worst = max(worst, frame - last[aid])
            last[aid] = frame
        self.assertEqual(set(last), ids, "every walker was updated in the window")
        self.assertLessEqual(worst, STALE_MAX_TICKS, "a walker's position waited %d ticks" % worst)
        # The legacy client has no budget: every tick of a walker's walk (as many as the cmmo.v2
        # client got Moves frames in the window: ticks, however loaded the machine), one delta per
        # frame.
        deltas = legacy.since(legacy_mark, is_move_of(walkers[1].aid))
        self.assertGreaterEqual(len(deltas), frame - 3)
        self.assertTrue(all(isinstance(r, str) for r in legacy.raws))
