import { test } from 'node:test';
import assert from 'node:assert/strict';
import { layoutLabels } from '../../web/js/labels.js';

const overlap = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

test('tags that do not touch stay where they are', () => {
  const boxes = [{ x: 0, y: 0, w: 50, h: 20 }, { x: 100, y: 0, w: 50, h: 20 }];
  assert.deepEqual(layoutLabels(boxes), boxes);
});

test('an overlapping tag moves above the other; the own tag keeps its place', () => {
  const own = { x: 0, y: 100, w: 120, h: 20, first: true };
  const other = { x: 60, y: 105, w: 120, h: 20 };
  const [a, b] = layoutLabels([own, other]);
  assert.deepEqual(a, own);
  assert.equal(b.y, 100 - 20 - 2);
  assert.equal(overlap(a, b), false);
});

test('a crowd of tags stacks without overlaps', () => {
  const boxes = Array.from({ length: 6 }, (_, i) => ({ x: i * 3, y: 200 + i, w: 80, h: 20 }));
  const out = layoutLabels(boxes);
  for (let i = 0; i < out.length; i++) for (let j = i + 1; j < out.length; j++) assert.equal(overlap(out[i], out[j]), false, `${i} ${j}`);
});
