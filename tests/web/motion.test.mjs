import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  WALK_SPEED, TICK_MS, SETTLE_MS, INTERPOLATION_DELAY_MS, stepToward, needsRubberBand, facing, Predictor, Interpolator, distance,
} from '../../web/js/motion.js';

const near = (a, b, eps = 1e-6) => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);

test('stepToward moves speed*dt along the line', () => {
  const s = stepToward(0, 0, 300, 400, 70, 1);
  near(s.x, 42);
  near(s.y, 56);
  near(Math.hypot(s.vx, s.vy), 70);
  assert.equal(s.arrived, false);
});

test('stepToward never overshoots and reports arrival', () => {
  const s = stepToward(0, 0, 3, 4, 70, 1);
  assert.deepEqual([s.x, s.y, s.arrived], [3, 4, true]);
  const z = stepToward(5, 5, 5, 5, 70, 0);
  assert.deepEqual([z.x, z.y, z.vx, z.vy, z.arrived], [5, 5, 0, 0, true]);
});

test('rubber band fires beyond 200 px only', () => {
  assert.equal(needsRubberBand(0, 0, 200, 0), false);
  assert.equal(needsRubberBand(0, 0, 200.5, 0), true);
  assert.equal(needsRubberBand(0, 0, 150, 150), true);
});

test('facing picks the quadrant of the velocity, idle below 5 px/s', () => {
  assert.equal(facing(70, 0), 'right');
  assert.equal(facing(-70, 10), 'left');
  assert.equal(facing(10, 70), 'down');
  assert.equal(facing(-10, -70), 'up');
  assert.equal(facing(3, 3), 'idle');
  assert.equal(facing(0, 0), 'idle');
  assert.equal(facing(50, 50), 'right'); // diagonals use the side views
});

test('Predictor walks toward the click at 70 px/s at once', () => {
  const p = new Predictor(0, 0, 0);
  p.setTarget(700, 0);
  const v = p.step(1000);
  near(v.x, WALK_SPEED * 0.25); // one step is capped to 250 ms so a hidden tab does not teleport
  let t = 1000;
  for (let i = 0; i < 20; i++) p.step((t += 100));
  near(p.x, 17.5 + 20 * 7);
  near(p.vx, 70);
});

test('Predictor stops exactly on the target and goes idle', () => {
  const p = new Predictor(0, 0, 0);
  p.setTarget(10, 0);
  let t = 0;
  for (let i = 0; i < 10; i++) {
    p.step((t += 50));
    p.onServerPosition(Math.min(3.5 * i, 10), 0, t); // the server, a tick behind
  }
  assert.deepEqual([p.x, p.y, p.vx, p.vy, p.target], [10, 0, 0, 0, null]);
});

test('Predictor keeps its prediction when the server is a little behind', () => {
  const p = new Predictor(0, 0, 0);
  p.setTarget(500, 0);
  p.step(100);
  p.step(200); // x = 14
  p.onServerPosition(7, 0, 200);
  near(p.x, 14);
  assert.equal(p.snaps, 0);
});

test('Predictor snaps to a server position more than 200 px away (rubber band)', () => {
  const p = new Predictor(0, 0, 0);
  p.onServerPosition(300, 0, 10);
  assert.deepEqual([p.x, p.y, p.snaps], [300, 0, 1]);
});

test('Predictor, arrived, glides to where the server settled after a while', () => {
  const p = new Predictor(0, 0, 0);
  p.setTarget(50, 0);
  let t = 0;
  while (p.target) p.step((t += 50));
  p.onServerPosition(40, 0, t); // the server stopped short, e.g. at the world's edge
  p.step((t += 50));
  assert.equal(p.x, 50, 'waits while the server may still be walking');
  t += SETTLE_MS;
  p.step(t);
  for (let i = 0; i < 10; i++) p.step((t += 50));
  assert.equal(p.x, 40);
  assert.equal(p.target, null);
  assert.equal(p.snaps, 0);
});

test('Interpolator draws others in the past, between server positions', () => {
  const ip = new Interpolator(0, 0, 0);
  // the server sends a step of 3.5 px per 50 ms tick
  for (let i = 1; i <= 10; i++) ip.push(3.5 * i, 0, 1000 + i * TICK_MS);
  const s = ip.sample(1000 + 5 * TICK_MS + INTERPOLATION_DELAY_MS + 25);
  near(s.x, 3.5 * 5.5);
  near(s.vx, 70);
});

test('Interpolator moves smoothly: no frame jumps more than the walk allows', () => {
  const ip = new Interpolator(100, 100, 0);
  let now = 5000;
  const jitter = [0, 30, -20, 10, 40, -10, 0, 25, -25, 5];
  for (let i = 1; i <= 40; i++) ip.push(100 + 3.5 * i, 100, now + i * TICK_MS + jitter[i % jitter.length]);
  let prev = ip.sample(now);
  for (let t = now; t < now + 45 * TICK_MS; t += 16) {
    const s = ip.sample(t);
    assert.ok(distance(prev.x, prev.y, s.x, s.y) < 6, `jump at ${t}: ${prev.x} -> ${s.x}`);
    prev = s;
  }
  near(prev.x, 100 + 3.5 * 40);
});

test('Interpolator starts a walk after standing still without sliding from the old time', () => {
  const ip = new Interpolator(0, 0, 0);
  ip.push(3.5, 0, 10000); // first step after ten seconds of standing
  assert.equal(ip.sample(10000).x, 0);
  near(ip.sample(10000 + INTERPOLATION_DELAY_MS).x, 3.5);
  near(ip.sample(10000 + INTERPOLATION_DELAY_MS - TICK_MS / 2).x, 1.75);
});

test('Interpolator holds the last position when updates stop (no extrapolation)', () => {
  const ip = new Interpolator(0, 0, 0);
  ip.push(3.5, 0, 50);
  ip.push(7, 0, 100);
  const s = ip.sample(100000);
  assert.deepEqual([s.x, s.vx], [7, 0]);
  assert.deepEqual(ip.latest(), { x: 7, y: 0 });
});

test('Interpolator bounds its history', () => {
  const ip = new Interpolator(0, 0, 0);
  for (let i = 1; i <= 1000; i++) ip.push(i, 0, i * TICK_MS);
  assert.ok(ip.snapshots.length <= 24);
});

test('Interpolator keeps a sparsely updated walker walking (a bandwidth budget sends it every 5 ticks)', () => {
  const ip = new Interpolator(0, 0, 0);
  // walking at 70 px/s, its position sent only every 250 ms (17.5 px apart)
  for (let i = 1; i <= 12; i++) ip.push(17.5 * i, 0, 1000 + i * 5 * TICK_MS);
  let prev = ip.sample(2000);
  let stopped = 0;
  for (let t = 2000; t <= 4000; t += 16) {
    const s = ip.sample(t);
    assert.ok(distance(prev.x, prev.y, s.x, s.y) < 6, `jump at ${t}: ${prev.x} -> ${s.x}`);
    if (s.vx < 35) stopped++;
    prev = s;
  }
  assert.equal(stopped, 0, 'never drawn standing while it walks');
});
