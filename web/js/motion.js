// How actors move on screen between server updates (docs/PROTOCOL.md section 3 "Target",
// PROTOCOL-REFERENCE section 8). Pure functions and small classes: no DOM, no clock of their own
// (every method takes `now` in milliseconds), so the tests drive time by hand.
//
// - The own player is predicted: it walks toward its click target at once, at the server's speed.
// - Other actors are interpolated: drawn a little in the past, between two server positions.
// - Rubber band: a server position more than 200 px from the drawn one is snapped to.

export const WALK_SPEED = 70; // px/s, the server's speed
export const TICK_MS = 50; // the server's tick, 20 Hz
export const STOP_DISTANCE = 5; // px: closer than this to a goal counts as there
export const IDLE_SPEED = 5; // px/s: slower than this is drawn idle
export const RUBBER_BAND_DISTANCE = 200; // px: farther than this from the server snaps to it
// Others are drawn this far in the past, so that two ticks of jitter still find a segment to
// interpolate on instead of stopping and jumping.
export const INTERPOLATION_DELAY_MS = 2 * TICK_MS;
// The own player, arrived at its target, waits this long without server news before it glides
// to the server's position (the server may have stopped elsewhere, for instance at the world edge).
export const SETTLE_MS = 4 * TICK_MS;

export function distance(ax, ay, bx, by) {
  return Math.hypot(bx - ax, by - ay);
}

// One step of at most speed*dt toward (gx, gy), never past it.
// Returns {x, y, vx, vy, arrived}; v is in px/s.
export function stepToward(x, y, gx, gy, speed, dtSeconds) {
  const d = distance(x, y, gx, gy);
  const reach = speed * dtSeconds;
  if (d <= reach || d === 0) {
    const vx = dtSeconds > 0 ? (gx - x) / dtSeconds : 0;
    const vy = dtSeconds > 0 ? (gy - y) / dtSeconds : 0;
    return { x: gx, y: gy, vx, vy, arrived: true };
  }
  const ux = (gx - x) / d;
  const uy = (gy - y) / d;
  return { x: x + ux * reach, y: y + uy * reach, vx: ux * speed, vy: uy * speed, arrived: false };
}

// True when a server position is so far from the drawn one that the drawn one must snap to it.
export function needsRubberBand(drawnX, drawnY, serverX, serverY, limit = RUBBER_BAND_DISTANCE) {
  return distance(drawnX, drawnY, serverX, serverY) > limit;
}

// The walk animation for a velocity: the quadrant it points into, or 'idle' when slow.
// Screen coordinates: y grows downward. Diagonals go to the horizontal animations.
export function facing(vx, vy, idleSpeed = IDLE_SPEED) {
  if (Math.hypot(vx, vy) < idleSpeed) return 'idle';
  if (Math.abs(vx) >= Math.abs(vy)) return vx < 0 ? 'left' : 'right';
  return vy < 0 ? 'up' : 'down';
}

// The own player: walks toward the local target at once; server positions correct it.
export class Predictor {
  constructor(x, y, now = 0) {
    this.x = x;
    this.y = y;
    this.vx = 0;
    this.vy = 0;
    this.target = null;
    this.serverX = x;
    this.serverY = y;
    this.serverTime = now;
    this.lastStep = now;
    this.snaps = 0; // how many times the rubber band fired, for the tests and the debug view
  }

  // A click: walk there from now on.
  setTarget(x, y) {
    this.target = { x, y };
  }

  // A position from the server. Snaps to it beyond the rubber band distance; otherwise the
  // prediction is trusted (the server walks the same line, a tick or two behind).
  onServerPosition(x, y, now) {
    this.serverX = x;
    this.serverY = y;
    this.serverTime = now;
    if (needsRubberBand(this.x, this.y, x, y)) {
      this.x = x;
      this.y = y;
      this.snaps++;
    }
  }

  // Advances to `now`. Returns {x, y, vx, vy}.
  step(now) {
    const dt = Math.max(0, Math.min(now - this.lastStep, 250)) / 1000; // a hidden tab must not teleport
    this.lastStep = now;
    let goal = null;
    if (this.target) {
      goal = this.target;
    } else if (
      now - this.serverTime >= SETTLE_MS &&
      distance(this.x, this.y, this.serverX, this.serverY) > STOP_DISTANCE
    ) {
      // Walk all the way, not just to within STOP_DISTANCE: the server stands exactly there.
      goal = this.target = { x: this.serverX, y: this.serverY };
    }
    if (!goal) {
      this.vx = 0;
      this.vy = 0;
      return this.view();
    }
    const s = stepToward(this.x, this.y, goal.x, goal.y, WALK_SPEED, dt);
    this.x = s.x;
    this.y = s.y;
    this.vx = s.arrived ? 0 : s.vx;
    this.vy = s.arrived ? 0 : s.vy;
    if (s.arrived && this.target === goal) this.target = null;
    return this.view();
  }

  view() {
    return { x: this.x, y: this.y, vx: this.vx, vy: this.vy };
  }
}

// Keeps this many server positions per actor: a second of history at 20 Hz, more than the delay needs.
const MAX_SNAPSHOTS = 24;
// The longest delay an actor is drawn with: a cmmo.v2 server under a bandwidth budget sends a far
// actor's position as seldom as every 250 ms (docs/PROTOCOL.md, "Bandwidth budget"); one tick of
// jitter on top.
export const MAX_INTERPOLATION_DELAY_MS = 250 + 2 * TICK_MS;
// A walking actor's update gap is remembered, decaying by this factor per update, so that the
// delay follows a sparser schedule at once and a denser one gently (no jump back in time).
const GAP_DECAY = 0.9;

// Another actor: drawn in the past (INTERPOLATION_DELAY_MS, or one tick more than the gaps
// between its updates while it walks, when a bandwidth budget sends it seldom), on the line
// between the two server positions around that moment. Never extrapolates: when updates stop, it
// stops at the last one.
export class Interpolator {
  constructor(x, y, now = 0, delayMs = INTERPOLATION_DELAY_MS) {
    this.baseDelay = delayMs;
    this.delay = delayMs;
    this.gap = 0;
    this.snapshots = [{ t: now, x, y }];
  }

  // A server position received at `now`.
  push(x, y, now) {
    const last = this.snapshots[this.snapshots.length - 1];
    if (now < last.t) now = last.t; // clocks only go forward
    // The actor walks at WALK_SPEED, so it left the last position at least d / speed ago. When
    // that is well after the last snapshot it stood still first (no updates came because it did
    // not move): its walk starts then, not at the old snapshot. For one step after a pause that
    // is one tick before now; a sparse update of a walking actor (a bandwidth budget) covers the
    // whole gap and inserts nothing.
    const walked = (distance(last.x, last.y, x, y) / WALK_SPEED) * 1000;
    const gap = now - last.t;
    if (gap > 2 * TICK_MS && gap - walked > TICK_MS) {
      this.snapshots.push({ t: now - Math.max(walked, TICK_MS), x: last.x, y: last.y });
    } else if (gap > 0) {
      this.gap = Math.max(gap, this.gap * GAP_DECAY);
      this.delay = Math.min(MAX_INTERPOLATION_DELAY_MS, Math.max(this.baseDelay, this.gap + TICK_MS));
    }
    this.snapshots.push({ t: now, x, y });
    if (this.snapshots.length > MAX_SNAPSHOTS) this.snapshots.splice(0, this.snapshots.length - MAX_SNAPSHOTS);
  }

  // Where to draw at `now`: {x, y, vx, vy}.
  sample(now) {
    const t = now - this.delay;
    const snaps = this.snapshots;
    const first = snaps[0];
    const last = snaps[snaps.length - 1];
    if (t <= first.t) return { x: first.x, y: first.y, vx: 0, vy: 0 };
    if (t >= last.t) return { x: last.x, y: last.y, vx: 0, vy: 0 };
    let i = snaps.length - 2;
    while (i > 0 && snaps[i].t > t) i--;
    const a = snaps[i];
    const b = snaps[i + 1];
    const span = b.t - a.t;
    if (span <= 0) return { x: b.x, y: b.y, vx: 0, vy: 0 };
    const f = (t - a.t) / span;
    return {
      x: a.x + (b.x - a.x) * f,
      y: a.y + (b.y - a.y) * f,
      vx: ((b.x - a.x) / span) * 1000,
      vy: ((b.y - a.y) / span) * 1000,
    };
  }

  // The latest server position.
  latest() {
    const last = this.snapshots[this.snapshots.length - 1];
    return { x: last.x, y: last.y };
  }
}
