// A world larger than the default map (--world 16000x16000): the server tells the cmmo.v2 client
// its size, and a click far beyond the default 1344 x 832 walks the player there, the camera
// following. This test runs a server of its own, because it needs another --world.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launchBrowser, openGame, uniqueName, registerAndEnter, snapshot, screenshot, startServer, stopServer } from './helpers.mjs';

let browser;
let dir;
let server;
before(async () => {
  browser = await launchBrowser();
  dir = mkdtempSync(path.join(tmpdir(), 'cmmo-e2e-'));
  server = await startServer({ db: path.join(dir, 'world.db'), args: ['--world', '16000x16000'] });
});
after(async () => {
  await browser?.close();
  if (server) assert.equal(await stopServer(server), 0, 'the server exits cleanly');
  rmSync(dir, { recursive: true, force: true });
});

test('on a 16000 x 16000 world a click beyond 1344 walks the player there', async () => {
  // Wide enough that a new player at (0, 0) can click past x = 1344 on the first screen.
  const context = await browser.newContext({ viewport: { width: 1600, height: 900 } });
  const sent = [];
  const page = await openGame(context, server.url, {
    setup: (p) => p.on('websocket', (ws) => ws.on('framesent', (frame) => sent.push(String(frame.payload)))),
  });
  await registerAndEnter(page, uniqueName('far'), 'far-pw', 2);
  await page.waitForFunction(() => window.cmmo.snapshot().world.width === 16000, null, { timeout: 5000 });
  const s = await snapshot(page);
  assert.equal(s.protocol, 'cmmo.v2');
  assert.deepEqual(s.world, { width: 16000, height: 16000 });
  const own = s.actors.find((a) => a.own);
  assert.deepEqual([own.serverX, own.serverY], [0, 0], 'a new player starts at (0, 0)');

  const target = { x: 1500, y: 10 };
  const screen = { x: target.x - s.camera.x, y: target.y - s.camera.y };
  assert.ok(screen.x > 0 && screen.x < 1600 && screen.y > 0 && screen.y < 900, `target on screen at ${JSON.stringify(screen)}`);
  await page.mouse.click(screen.x, screen.y);
  // The frame reaches the test a moment after the click.
  const lastTarget = () => sent.map((t) => JSON.parse(t)).filter((p) => p.a === 'Target').at(-1);
  for (let i = 0; i < 40 && !lastTarget(); i++) await page.waitForTimeout(50);
  assert.deepEqual(lastTarget(), { a: 'Target', p0: target.x, p1: target.y }, 'the click is not clamped to 1344');

  // 1500 px at 70 px/s: about 21 s.
  await page.waitForFunction(
    ([x, y]) => {
      const me = window.cmmo.snapshot().actors.find((a) => a.own);
      return Math.hypot(me.serverX - x, me.serverY - y) < 0.01 && Math.hypot(me.x - x, me.y - y) < 1;
    },
    [target.x, target.y],
    { timeout: 45000 },
  );
  const end = await snapshot(page);
  // The camera followed the player (kept in the middle) past where the default map stops it.
  assert.ok(Math.abs(end.camera.x - (target.x - 800)) < 2, `camera at ${end.camera.x}`);
  await screenshot(page, 'world-large.png');
  assert.deepEqual(page.errors, []);
  await context.close();
});
