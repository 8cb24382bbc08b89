"""Server-authoritative movement (docs/PROTOCOL.md section 3, Target): 70 px/s, 3.5 px per tick
at 20 Hz, exact arrival, clamping to the world, deltas with both x and y to mover and viewers."""

import asyncio
import math
import time
import unittest

from harness import (PACKET_TIMEOUT, STEP, SPEED, WORLD_H, WORLD_W, ServerTestCase, async_test,
                     dist, is_at, is_move_of, pkt, position_of)


def moves_since(client, aid, mark):
    """[(x, y, arrival time)] of aid's movement deltas received since mark."""
    out = []
    for i in range(mark, len(client.packets)):
        p = client.packets[i]
        if is_move_of(aid)(p):
            x, y = position_of(p)
            out.append((x, y, client.times[i]))
    return out


class MovementCase(ServerTestCase):

    def assert_straight_walk(self, path, start, target, step):
        """Every delta is one step of `step` px along the line start->target; the last one is
        exactly the target."""
        self.assertTrue(path, "no movement deltas")
        self.assertEqual(path[-1][:2], target, "arrives exactly on the target")
        total = dist(start, target)
        expected_ticks = math.ceil(total / step - 1e-9)
        self.assertEqual(len(path), expected_ticks,
                         "one delta per tick of movement (%.3f px at %.3f px/tick)"
                         % (total, step))
        prev = start
        ux, uy = (target[0] - start[0]) / total, (target[1] - start[1]) / total
        for i, (x, y, _) in enumerate(path):
            d = dist(prev, (x, y))
            if i < len(path) - 1:
                self.assertAlmostEqual(d, step, delta=1e-6,
                                       msg="step %d is %.6f px, expected %.3f" % (i, d, step))
            else:
                self.assertLessEqual(d, step + 1e-6)
            # On the straight line start->target (distance from the line ~ 0).
            cross = (x - start[0]) * uy - (y - start[1]) * ux
            self.assertAlmostEqual(cross, 0.0, delta=1e-6, msg="off the line at step %d" % i)
            prev = (x, y)


class DefaultWorld(MovementCase):

    @async_test
    async def test_target_moves_3_5_px_per_tick_and_arrives_exactly(self):
        a, b = await self.players(2, "step")
        ma, mb = a.mark(), b.mark()
        # 72.11 px: 20 full steps of 3.5 px and a last short one.
        await self.walk_and_wait(a, 40, 60, viewers=(b,))
        for viewer, mark in ((a, ma), (b, mb)):
            self.assert_straight_walk(moves_since(viewer, a.aid, mark), (0, 0), (40, 60), STEP)

    @async_test
    async def test_mover_and_observer_receive_the_same_deltas_with_x_and_y(self):
        a, b = await self.players(2, "same")
        ma, mb = a.mark(), b.mark()
        await self.walk_and_wait(a, 20, 10, viewers=(b,))
        da = [p for p in a.since(ma) if is_move_of(a.aid)(p)]
        db = [p for p in b.since(mb) if is_move_of(a.aid)(p)]
        self.assertEqual(da, db)
        for p in da:
            ie = p["p0"]["instanced_entity"]
            self.assertIn("x", ie)
            self.assertIn("y", ie)
            self.assertEqual(p["p0"]["model_type"], "Actor")
            self.assertEqual(ie["model_type"], "InstancedEntity")
            self.assertEqual(ie["id"], a.own["instanced_entity"]["id"])

    @async_test
    async def test_walk_speed_is_70_px_per_second(self):
        a, b = await self.players(2, "speed")
        mb = b.mark()
        t0 = time.monotonic()
        await self.walk_and_wait(a, 105, 0, viewers=(b,))
        t1 = time.monotonic()
        path = moves_since(b, a.aid, mb)
        # First to last delta: (n-1) ticks of movement.
        span = path[-1][2] - path[0][2]
        covered = dist(path[0][:2], path[-1][:2])
        speed = covered / span
        self.assertAlmostEqual(speed, SPEED, delta=SPEED * 0.2,
                               msg="measured %.1f px/s over %.2f s" % (speed, span))
        self.assertGreaterEqual(t1 - t0, 105 / SPEED - 0.2, "arrived too soon")
        self.assertLessEqual(t1 - t0, 105 / SPEED + 1.0, "arrived too late")

    @async_test
    async def test_no_deltas_after_arrival(self):
        a, b = await self.players(2, "rest")
        await self.walk_and_wait(a, 7, 0, viewers=(b,))
        await self.assert_no_packet(b, is_move_of(a.aid), 0.5, "delta of a resting actor")
        await self.assert_no_packet(a, is_move_of(a.aid), 0.1, "delta of a resting actor")

    @async_test
    async def test_target_at_current_position_sends_no_delta(self):
        a, b = await self.players(2, "stay")
        await a.send(pkt("Target", 0, 0))
        await self.assert_no_packet(b, is_move_of(a.aid), 0.4, "delta without movement")

    @async_test
    async def test_new_target_replaces_the_old_one_at_once(self):
        a, b = await self.players(2, "retarget")
        mb = b.mark()
        await a.send(pkt("Target", 700, 0))
        for _ in range(4):
            await b.wait_for(is_move_of(a.aid), what="walk toward the first target")
        switch = b.mark()
        t0 = time.monotonic()
        await a.send(pkt("Target", 0, 35))
        await b.wait_for(is_at(a.aid, 0, 35), timeout=4, what="arrival at the second target")
        path = moves_since(b, a.aid, switch)
        xs = [x for x, _, _ in path]
        self.assertEqual(xs, sorted(xs, reverse=True), "never walks on toward the old target")
        self.assertLess(max(xs), 14 + 4 * STEP, "turned around within a few ticks")
        self.assertLess(time.monotonic() - t0, 3.0)
        self.assertGreater(len(moves_since(b, a.aid, mb)), 4)

    @async_test
    async def test_target_left_of_world_is_clamped_to_x_zero(self):
        a, b = await self.players(2, "clampx")
        mb = b.mark()
        await a.send(pkt("Target", -50, 36))
        await b.wait_for(is_at(a.aid, 0, 36), what="arrival at the clamped target (0, 36)")
        path = moves_since(b, a.aid, mb)
        self.assert_straight_walk(path, (0, 0), (0, 36), STEP)

    @async_test
    async def test_target_beyond_world_corner_heads_to_the_clamped_corner(self):
        a, b = await self.players(2, "corner")
        mb = b.mark()
        await a.send(pkt("Target", 1e6, 1e6))
        for _ in range(3):
            await b.wait_for(is_move_of(a.aid), what="walk toward the corner")
        path = moves_since(b, a.aid, mb)
        x, y, _ = path[2]
        # Unclamped the direction would be 45 degrees; clamped it is toward (1344, 832).
        self.assertAlmostEqual(y / x, WORLD_H / WORLD_W, delta=1e-6,
                               msg="direction (%r, %r) is not toward (1344, 832)" % (x, y))
        self.assertAlmostEqual(math.hypot(x, y), 3 * STEP, delta=1e-6)

    @async_test
    async def test_target_1e308_is_clamped_like_any_finite_number(self):
        a, b = await self.players(2, "huge")
        mb = b.mark()
        await a.send(pkt("Target", 1e308, -1e308))
        for _ in range(2):
            await b.wait_for(is_move_of(a.aid), what="walk toward (1344, 0)")
        path = moves_since(b, a.aid, mb)
        self.assertEqual(path[0][:2], (STEP, 0))
        self.assertEqual(path[1][:2], (2 * STEP, 0))

    @async_test
    async def test_target_with_float_coordinates_is_reached_exactly(self):
        a, b = await self.players(2, "float")
        await self.walk_and_wait(a, 10.25, 3.125, viewers=(b,))


class SmallWorld(MovementCase):
    # --help documents 64..1000000 for each side.
    server_options = {"world": "128x64"}

    @async_test
    async def test_world_option_bounds_clamp_targets(self):
        a, b = await self.players(2, "small")
        await a.send(pkt("Target", 1e6, 1e6))
        await b.wait_for(is_at(a.aid, 128, 64), timeout=5, what="arrival at the corner (128, 64)")
        await a.send(pkt("Target", -1e6, 25))
        await b.wait_for(is_at(a.aid, 0, 25), timeout=5, what="arrival at (0, 25)")
        await a.send(pkt("Target", 300, -300))
        await b.wait_for(is_at(a.aid, 128, 0), timeout=5, what="arrival at (128, 0)")
        for p in b.since(0, is_move_of(a.aid)):
            x, y = position_of(p)
            self.assertTrue(0 <= x <= 128 and 0 <= y <= 64, "position (%r, %r) outside" % (x, y))


class SlowTick(MovementCase):
    server_options = {"tick_hz": 10}

    @async_test
    async def test_speed_stays_70_px_per_second_at_10_hz(self):
        a, b = await self.players(2, "hz10")
        mb = b.mark()
        await self.walk_and_wait(a, 40, 60, viewers=(b,))
        self.assert_straight_walk(moves_since(b, a.aid, mb), (0, 0), (40, 60), SPEED / 10)


if __name__ == "__main__":
    unittest.main()
