// Who is around (cmmo.v2): the count and the list of everyone in the world, "X joined" / "X left"
// lines, chat bubbles above the speaker, arrows to players off the screen, the latency figure; on
// a desktop and on a phone-sized touch screen (chat on one line, the keyboard never covering the
// input, the player framed at spawn, taps on the chat not walking).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE_URL, launchBrowser, openGame, uniqueName, registerAndEnter, waitForChatLine, snapshot, screenshot } from './helpers.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

async function chat(page, text) {
  await page.fill('#chat-input', text);
  await page.press('#chat-input', 'Enter');
}

test('desktop: count and list of players, joined/left lines, bubbles, off-screen arrows, latency', async () => {
  const aliceContext = await browser.newContext({ viewport: { width: 800, height: 450 } });
  const bobContext = await browser.newContext({ viewport: { width: 1024, height: 600 } });
  const alice = await openGame(aliceContext);
  const bob = await openGame(bobContext);
  const ALICE = uniqueName('alice');
  const BOB = uniqueName('bob');
  await registerAndEnter(alice, ALICE, 'alice-pw', 1);
  assert.equal((await snapshot(alice)).protocol, 'cmmo.v2');
  await registerAndEnter(bob, BOB, 'bob-pw', 4);

  // alice is told bob joined, and counts him
  await waitForChatLine(alice, `${BOB} joined.`);
  await alice.waitForFunction((n) => window.cmmo.snapshot().players.names.includes(n), BOB);
  const s = await snapshot(alice);
  assert.ok(s.players.known);
  assert.ok(s.players.names.includes(ALICE));
  assert.equal(s.players.count, s.players.names.length, 'everyone listed in a small world');
  assert.equal(await alice.textContent('#players-button'), `${s.players.count} online`);

  // the list
  await alice.click('#players-button');
  const listed = await alice.$$eval('#players-list li', (lis) => lis.map((li) => li.textContent));
  assert.ok(listed.includes(ALICE) && listed.includes(BOB), listed.join(','));
  assert.equal(await alice.getAttribute('#players-button', 'aria-expanded'), 'true');

  // latency: a figure in the corner
  await alice.waitForFunction(() => window.cmmo.snapshot().latencyMs !== null, null, { timeout: 10000 });
  assert.match(await alice.textContent('#latency'), /^\d+ ms$/);

  // bob speaks: a bubble over him on alice's screen, and a line in her log
  await chat(bob, 'hello alice, over here!');
  await waitForChatLine(alice, `${BOB}: hello alice, over here!`);
  await alice.waitForFunction((n) => window.cmmo.snapshot().bubbles.includes(n), BOB);
  await alice.waitForTimeout(150);
  await screenshot(alice, 'around-desktop.png');

  // bob walks to the right edge of his wider screen, off alice's: an arrow points at him
  await bob.mouse.click(1010, 390);
  await alice.waitForFunction((n) => window.cmmo.snapshot().arrows.includes(n), BOB, { timeout: 30000 });
  // ... and has arrived (drawn where the server has him)
  await alice.waitForFunction(
    (n) => {
      const b = window.cmmo.snapshot().actors.find((a) => a.name === n);
      return b && Math.hypot(b.x - b.serverX, b.y - b.serverY) < 1 && b.serverX > 900;
    },
    BOB,
    { timeout: 30000 },
  );
  await alice.click('#players-button'); // closes the list
  await alice.waitForTimeout(150);
  await screenshot(alice, 'around-desktop-arrow.png');

  // the bubble goes after a few seconds
  await alice.waitForFunction((n) => !window.cmmo.snapshot().bubbles.includes(n), BOB, { timeout: 8000 });

  await bob.close();
  await waitForChatLine(alice, `${BOB} left.`);
  await alice.waitForFunction((n) => !window.cmmo.snapshot().players.names.includes(n), BOB);
  assert.deepEqual(alice.errors, []);
  assert.deepEqual(bob.errors, []);
  await aliceContext.close();
  await bobContext.close();
});

test('phone: chat on one line, player framed at spawn, taps on the chat do not walk, keyboard leaves the input visible', async () => {
  const context = await browser.newContext(PHONE);
  // count the Targets this page sends
  const targets = [];
  const page = await openGame(context, BASE_URL, {
    setup: (p) =>
      p.on('websocket', (ws) => ws.on('framesent', (f) => typeof f.payload === 'string' && f.payload.includes('"Target"') && targets.push(f.payload))),
  });
  const name = uniqueName('phonelongname'); // 20 characters, the longest a name can be
  assert.equal(name.length, 20);
  await registerAndEnter(page, name, 'phone-pw', 2, { tap: true });

  // the chat starts on one line in portrait
  let s = await snapshot(page);
  assert.equal(s.chatCollapsed, true);
  const chat = await page.locator('#chat').boundingBox();
  assert.ok(chat.height < 110, `collapsed chat is ${chat.height}px tall`);

  // the new player (at 0,0, a corner of the map) is on screen, clear of the HUD, the corner
  // buttons and the chat
  const me = s.actors.find((a) => a.own);
  const sx = me.x - s.camera.x;
  const sy = me.y - s.camera.y;
  const corner = await page.locator('#corner').boundingBox();
  assert.ok(sx >= 24 && sx <= 390 - 24, `player at screen x ${sx}`);
  assert.ok(sy - 60 > corner.y + corner.height, `player's head at ${sy - 60} under the corner's buttons`);
  assert.ok(sy < chat.y, `player at ${sy} above the chat at ${chat.y}`);
  // the top row fits: the corner's buttons stay on the screen, and nothing else is beside them
  assert.ok(corner.x >= 0 && corner.x + corner.width <= 390, `corner ${JSON.stringify(corner)}`);
  assert.equal(await page.isVisible('#hud'), false);
  await screenshot(page, 'phone-spawn.png');

  // taps on the chat (the log line, the panel) never walk
  await page.waitForTimeout(300);
  const before = targets.length;
  const log = await page.locator('#chat-log').boundingBox();
  await page.touchscreen.tap(log.x + 40, log.y + log.height / 2);
  await page.touchscreen.tap(chat.x + chat.width - 20, chat.y + 6);
  await page.waitForTimeout(300);
  assert.equal(targets.length, before, 'no Target sent');
  s = await snapshot(page);
  assert.equal(s.actors.find((a) => a.own).walking, false);

  // expand and collapse
  await page.tap('#chat-toggle');
  assert.equal((await snapshot(page)).chatCollapsed, false);
  const expanded = await page.locator('#chat').boundingBox();
  assert.ok(expanded.height > chat.height + 60, `expanded ${expanded.height}px`);
  await page.tap('#chat-toggle');
  assert.equal((await snapshot(page)).chatCollapsed, true);

  // the on-screen keyboard: Chrome on Android resizes the viewport to what stays visible
  // (interactive-widget=resizes-content); the input must stay inside it
  await page.tap('#chat-input');
  await page.setViewportSize({ width: 390, height: 844 - 336 });
  await page.waitForTimeout(300);
  const input = await page.locator('#chat-input').boundingBox();
  const visible = await page.evaluate(() => window.visualViewport.height);
  assert.ok(input.y >= 0 && input.y + input.height <= visible, `input ${JSON.stringify(input)} in ${visible}px`);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'chat-input');
  await page.keyboard.type('typing on a phone');
  await page.keyboard.press('Enter');
  await waitForChatLine(page, `${name}: typing on a phone`);
  await page.waitForFunction((n) => window.cmmo.snapshot().bubbles.includes(n), name); // over the own head too
  await page.waitForTimeout(150);
  await screenshot(page, 'phone-keyboard.png');
  await page.setViewportSize(PHONE.viewport);
  assert.deepEqual(page.errors, []);
  await context.close();
});
