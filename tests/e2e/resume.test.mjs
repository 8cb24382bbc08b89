// Staying in (cmmo.v2 resume tokens): a reload comes back without the password, where the player
// was and with the chat; a server restart is ridden out by reconnecting with backoff and the
// token; Log out revokes the token. This file runs a server of its own, because it stops it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launchBrowser, openGame, uniqueName, registerAndEnter, waitForChatLine, waitForWorld, chatLines, snapshot, screenshot, startServer, stopServer } from './helpers.mjs';

let browser;
let dir;
let server;
before(async () => {
  browser = await launchBrowser();
  dir = mkdtempSync(path.join(tmpdir(), 'cmmo-e2e-resume-'));
  server = await startServer({ db: path.join(dir, 'resume.db') });
});
after(async () => {
  await browser?.close();
  if (server) await stopServer(server);
  rmSync(dir, { recursive: true, force: true });
});

async function walkTo(page, x, y) {
  const s = await snapshot(page);
  await page.mouse.click(x - s.camera.x, y - s.camera.y);
  await page.waitForFunction(
    ([tx, ty]) => {
      const me = window.cmmo.snapshot().actors.find((a) => a.own);
      return me && Math.hypot(me.serverX - tx, me.serverY - ty) < 1;
    },
    [x, y],
    { timeout: 20000 },
  );
}

const storedToken = (page) => page.evaluate(() => JSON.parse(localStorage.getItem('cmmo.resume'))?.token ?? null);

// Resume with `token` on a fresh cmmo.v2 socket from the page; resolves to the reply packet.
const resumeFromPage = (page, name, token) =>
  page.evaluate(
    ([n, t]) =>
      new Promise((resolve) => {
        const ws = new WebSocket(`ws://${location.host}/`, ['cmmo.v2']);
        ws.onopen = () => ws.send(JSON.stringify({ a: 'Resume', p0: n, p1: t }));
        ws.onmessage = (e) => {
          const p = JSON.parse(e.data);
          if (p.a === 'Ok' || p.a === 'Deny') {
            ws.close();
            resolve(p);
          }
        };
      }),
    [name, token],
  );

test('a reload comes back without the password, where the player stood, with the chat', async () => {
  const context = await browser.newContext({ viewport: { width: 1024, height: 600 } });
  const page = await openGame(context, server.url);
  const name = uniqueName('reload');
  await registerAndEnter(page, name, 'reload-pw', 2);
  await page.waitForFunction(() => window.cmmo.snapshot().resumable !== null);
  const token = await storedToken(page);
  assert.match(token, /^[A-Za-z0-9_-]{43}$/);
  assert.equal((await page.content()).includes(token), false, 'the token is not in the page');
  await walkTo(page, 300, 200);
  await page.fill('#chat-input', 'before the reload');
  await page.press('#chat-input', 'Enter');
  await waitForChatLine(page, `${name}: before the reload`);

  await page.reload();
  await waitForWorld(page, name);
  assert.equal(await page.inputValue('#password'), '', 'no password was typed');
  const me = (await snapshot(page)).actors.find((a) => a.own);
  assert.ok(Math.hypot(me.serverX - 300, me.serverY - 200) < 1, `back at ${me.serverX},${me.serverY}`);
  assert.ok((await chatLines(page)).includes(`${name}: before the reload`), 'the chat came back');
  assert.equal(await storedToken(page), token, 'a resume keeps the token');
  assert.deepEqual(page.errors, []);
  await context.close();
});

test('a server restart: the page reconnects by itself with backoff and the token, chat and position kept', async () => {
  const context = await browser.newContext({ viewport: { width: 1024, height: 600 } });
  const page = await openGame(context, server.url);
  const name = uniqueName('storm');
  await registerAndEnter(page, name, 'storm-pw', 5);
  await page.waitForFunction(() => window.cmmo.snapshot().resumable !== null);
  await walkTo(page, 500, 400);
  await page.fill('#chat-input', 'see you after the restart');
  await page.press('#chat-input', 'Enter');

  const port = server.port;
  await stopServer(server);
  server = null;
  await page.waitForSelector('#reconnect-banner', { state: 'visible', timeout: 10000 });
  assert.match(await page.textContent('#reconnect-banner'), /Reconnecting/);
  assert.equal(await page.isVisible('#connection-overlay'), false, 'no dialog while it retries');
  await page.waitForTimeout(300);
  await screenshot(page, 'reconnecting-banner.png');

  server = await startServer({ db: path.join(dir, 'resume.db'), port });
  await waitForChatLine(page, 'Reconnected.');
  const s = await snapshot(page);
  assert.equal(s.screen, 'world');
  assert.equal(s.ownName, name);
  assert.equal(s.protocol, 'cmmo.v2');
  const me = s.actors.find((a) => a.own);
  assert.ok(Math.hypot(me.serverX - 500, me.serverY - 400) < 1, `back at ${me.serverX},${me.serverY}`);
  assert.ok((await chatLines(page)).includes(`${name}: see you after the restart`));
  assert.equal(await page.isVisible('#reconnect-banner'), false);
  assert.deepEqual(page.errors, []);
  await context.close();
});

test('Log out revokes the token: the login form comes back, and the old token is refused', async () => {
  const context = await browser.newContext({ viewport: { width: 1024, height: 600 } });
  const page = await openGame(context, server.url);
  const name = uniqueName('bye');
  await registerAndEnter(page, name, 'bye-pw', 0);
  await page.waitForFunction(() => window.cmmo.snapshot().resumable !== null);
  const token = await storedToken(page);
  await page.click('#logout-button');
  await page.waitForSelector('#login-screen', { state: 'visible' });
  assert.equal(await storedToken(page), null);
  assert.equal(await page.textContent('#login-message'), 'Logged out.');
  // a reload now asks for the password
  await page.reload();
  await page.waitForFunction(() => window.cmmo?.snapshot().connected === true);
  await page.waitForTimeout(300);
  assert.equal((await snapshot(page)).screen, 'login');
  // and the token is dead on the server, not only forgotten by the page
  assert.deepEqual(await resumeFromPage(page, name, token), { a: 'Deny', p0: 'Resume token invalid or expired' });
  assert.deepEqual(page.errors, []);
  await context.close();
});

test('a stored token the server refuses sends the player to the login form with the name filled in', async () => {
  const context = await browser.newContext({ viewport: { width: 1024, height: 600 } });
  const name = uniqueName('stale');
  await context.addInitScript(
    ([n]) => {
      if (!sessionStorage.getItem('seeded')) {
        sessionStorage.setItem('seeded', '1');
        localStorage.setItem('cmmo.resume', JSON.stringify({ username: n, token: 'A'.repeat(43), expires: Date.now() + 60000 }));
      }
    },
    [name],
  );
  const page = await openGame(context, server.url);
  await page.waitForFunction(() => document.getElementById('login-message').textContent.includes('Log in again'), null, { timeout: 10000 });
  assert.equal(await page.inputValue('#username'), name);
  assert.equal((await snapshot(page)).resumable, null, 'the refused token is forgotten');
  await screenshot(page, 'resume-refused.png');
  assert.deepEqual(page.errors, []);
  await context.close();
});
