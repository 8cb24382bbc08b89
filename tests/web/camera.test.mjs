import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cameraOrigin, screenToWorld, WORLD_WIDTH, WORLD_HEIGHT, EDGE_MARGIN } from '../../web/js/camera.js';

test('a view larger than the map centers it', () => {
  const o = cameraOrigin(1920, 1080, { x: 0, y: 0 });
  assert.equal(o.x, (WORLD_WIDTH - 1920) / 2);
  assert.equal(o.y, (WORLD_HEIGHT - 1080) / 2);
});

test('a small view follows the player', () => {
  const o = cameraOrigin(390, 700, { x: 600, y: 400 });
  assert.deepEqual(o, { x: 600 - 195, y: 400 - 350 });
});

test('the camera stops at the map edges plus a margin', () => {
  assert.deepEqual(cameraOrigin(390, 700, { x: 0, y: 0 }), { x: -EDGE_MARGIN, y: -EDGE_MARGIN });
  assert.deepEqual(cameraOrigin(390, 700, { x: WORLD_WIDTH, y: WORLD_HEIGHT }), {
    x: WORLD_WIDTH + EDGE_MARGIN - 390,
    y: WORLD_HEIGHT + EDGE_MARGIN - 700,
  });
});

test('screenToWorld adds the origin and clamps to the map like the server does', () => {
  assert.deepEqual(screenToWorld(100, 50, { x: 10, y: 20 }), { x: 110, y: 70 });
  assert.deepEqual(screenToWorld(5, 5, { x: -96, y: -96 }), { x: 0, y: 0 });
  assert.deepEqual(screenToWorld(5000, 5000, { x: 0, y: 0 }), { x: WORLD_WIDTH, y: WORLD_HEIGHT });
});
