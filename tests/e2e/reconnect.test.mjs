// Losing the connection: the page tries again by itself (resume.test.mjs); once it gives up, a
// clear message and a Reconnect button that brings the player back.
// This test runs a server of its own, because it stops it.
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
});
after(async () => {
  await browser?.close();
  if (server) await stopServer(server);
  rmSync(dir, { recursive: true, force: true });
});

test('when reconnecting by itself gives up: Connection lost, and Reconnect brings the player back', async () => {
  const db = path.join(dir, 'reconnect.db');
  server = await startServer({ db });
  const port = server.port;
  const context = await browser.newContext({ viewport: { width: 1024, height: 600 } });
  // one automatic attempt (half a second) instead of a minute of them
  const page = await openGame(context, `${server.url}?reconnect-attempts=1`);
  const name = uniqueName('rc');
  await registerAndEnter(page, name, 'rc-pw', 3);

  await stopServer(server);
  server = null;
  await page.waitForSelector('#connection-overlay', { state: 'visible', timeout: 10000 });
  assert.match(await page.textContent('#connection-title'), /Connection lost/);
  assert.match(await page.textContent('#connection-message'), /Could not reconnect .* \(1 try\)/);
  assert.equal(await page.isVisible('#reconnect-button'), true);
  await screenshot(page, 'connection-lost.png');

  // Reconnect while the server is still down: the message stays, nothing freezes.
  await page.click('#reconnect-button');
  await page.waitForFunction(() => document.getElementById('connection-message').textContent.includes('Still cannot reach'), null, { timeout: 10000 });
  assert.equal(await page.isEnabled('#reconnect-button'), true);

  server = await startServer({ db, port });
  await page.click('#reconnect-button');
  await page.waitForSelector('#connection-overlay', { state: 'hidden', timeout: 20000 });
  const s = await snapshot(page);
  assert.equal(s.screen, 'world');
  assert.equal(s.ownName, name);
  assert.deepEqual(page.errors, []);
  await context.close();
});
