import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cameraOrigin, screenToWorld, visibleTiles, TILE_SIZE, WORLD_WIDTH, WORLD_HEIGHT } from '../../web/js/camera.js';

const M = { left: 96, right: 96, top: 160, bottom: 200 };

test('a view larger than the map and its margins centers the map (margins included)', () => {
  const o = cameraOrigin(2560, 1440, { x: 0, y: 0 }, undefined, M);
  assert.equal(o.x, (WORLD_WIDTH - 2560) / 2);
  assert.equal(o.y, (WORLD_HEIGHT + 200 - 160 - 1440) / 2);
});

test('a small view follows the player, a little above the middle', () => {
  const o = cameraOrigin(390, 700, { x: 600, y: 400 }, undefined, M);
  assert.deepEqual(o, { x: 600 - 195, y: 400 - 280 });
});

test('the camera stops at the map edges plus the margins', () => {
  assert.deepEqual(cameraOrigin(390, 700, { x: 0, y: 0 }, undefined, M), { x: -96, y: -160 });
  assert.deepEqual(cameraOrigin(390, 700, { x: WORLD_WIDTH, y: WORLD_HEIGHT }, undefined, M), {
    x: WORLD_WIDTH + 96 - 390,
    y: WORLD_HEIGHT + 200 - 700,
  });
});

test('by default the bottom margin keeps an actor on the bottom edge above the chat', () => {
  const o = cameraOrigin(1024, 600, { x: 600, y: WORLD_HEIGHT });
  const feetOnScreen = WORLD_HEIGHT - o.y;
  assert.ok(feetOnScreen < 600 * 0.66, `feet at ${feetOnScreen}`);
});

test('screenToWorld adds the origin and clamps to the map like the server does', () => {
  assert.deepEqual(screenToWorld(100, 50, { x: 10, y: 20 }), { x: 110, y: 70 });
  assert.deepEqual(screenToWorld(5, 5, { x: -96, y: -96 }), { x: 0, y: 0 });
  assert.deepEqual(screenToWorld(5000, 5000, { x: 0, y: 0 }), { x: WORLD_WIDTH, y: WORLD_HEIGHT });
});

// A world the server announced with a World packet (cmmo.v2): --world 16000x16000.
const BIG = { width: 16000, height: 16000 };

test('screenToWorld with a large world lets a click land far beyond the default map', () => {
  assert.deepEqual(screenToWorld(500, 300, { x: 9000, y: 12000 }, BIG), { x: 9500, y: 12300 });
  assert.deepEqual(screenToWorld(5000, 5000, { x: 14000, y: 14000 }, BIG), { x: 16000, y: 16000 });
  assert.deepEqual(screenToWorld(5, 5, { x: -96, y: -96 }, BIG), { x: 0, y: 0 });
});

test('the camera follows a player deep in a large world and stops at its far edges', () => {
  assert.deepEqual(cameraOrigin(1024, 600, { x: 9000, y: 12000 }, BIG, M), { x: 9000 - 512, y: 12000 - 240 });
  assert.deepEqual(cameraOrigin(1024, 600, { x: 16000, y: 16000 }, BIG, M), { x: 16000 + 96 - 1024, y: 16000 + 200 - 600 });
});

test('the ground drawn is the tiles in view, not the world', () => {
  const t = visibleTiles({ x: 9000, y: 12000 }, 1024, 600, TILE_SIZE);
  assert.deepEqual(t, { x0: 140, y0: 187, x1: 156, y1: 196 });
  assert.ok((t.x1 - t.x0 + 1) * (t.y1 - t.y0 + 1) <= 17 * 10);
  // Negative origins (the margin beyond the top-left edge) round down, never toward zero.
  assert.deepEqual(visibleTiles({ x: -96, y: -160 }, 390, 700, 64), { x0: -2, y0: -3, x1: 4, y1: 8 });
});
