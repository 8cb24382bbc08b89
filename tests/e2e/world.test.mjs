// Two players in one world: each sees the other, they chat both ways, one walks and the other sees
// it arrive smoothly, one leaves and the other is told.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launchBrowser, openGame, uniqueName, registerAndEnter, waitForActor, waitForChatLine, chatLines, snapshot, screenshot,
} from './helpers.mjs';

let browser;
let alice; // pages
let bob;
const ALICE = uniqueName('alice');
const BOB = uniqueName('bob');

before(async () => {
  browser = await launchBrowser();
  alice = await openGame(await browser.newContext({ viewport: { width: 1024, height: 600 } }));
  bob = await openGame(await browser.newContext({ viewport: { width: 1024, height: 600 } }));
});
after(async () => {
  await browser?.close();
});

// Waits until the own player stands still where the server has it.
async function waitUntilStill(page) {
  await page.waitForFunction(() => {
    const own = window.cmmo.snapshot().actors.find((a) => a.own);
    return !own.walking && Math.hypot(own.x - own.serverX, own.y - own.serverY) < 0.01;
  }, null, { timeout: 15000 });
}

test('two players register with different avatars and each sees the other by name', async () => {
  await registerAndEnter(alice, ALICE, 'alice-pw', 1);
  await registerAndEnter(bob, BOB, 'bob-pw', 4);
  const bobSeenByAlice = await waitForActor(alice, BOB);
  const aliceSeenByBob = await waitForActor(bob, ALICE);
  assert.equal(bobSeenByAlice.avatar, 4);
  assert.equal(aliceSeenByBob.avatar, 1);
  assert.equal(bobSeenByAlice.own, false);
  const a = await snapshot(alice);
  assert.equal(a.actors.find((x) => x.own).name, ALICE);
  assert.equal(await alice.textContent('#hud-name'), ALICE);
});

test('chat goes both ways, as "name: message" lines, not echoed twice', async () => {
  await alice.click('#chat-input');
  await alice.fill('#chat-input', 'hello bob');
  await alice.press('#chat-input', 'Enter');
  await waitForChatLine(bob, `${ALICE}: hello bob`);
  await waitForChatLine(alice, `${ALICE}: hello bob`);

  await bob.fill('#chat-input', 'hi alice [b]bold[/b]');
  await bob.click('#chat-send'); // the Send button, as on a touch device
  await waitForChatLine(alice, `${BOB}: hi alice [b]bold[/b]`);
  const lines = await chatLines(alice);
  assert.equal(lines.filter((l) => l === `${ALICE}: hello bob`).length, 1);
});

test('markup in chat is shown as text and cannot run', async () => {
  const evil = '<img src=x onerror="window.__pwned=1"><b>bold</b><script>window.__pwned=2</script>';
  await bob.fill('#chat-input', evil);
  await bob.press('#chat-input', 'Enter');
  await waitForChatLine(alice, `${BOB}: ${evil}`);
  await alice.waitForTimeout(200);
  assert.equal(await alice.evaluate(() => window.__pwned), undefined);
  assert.equal(await alice.locator('#chat-log img, #chat-log b, #chat-log script').count(), 0);
});

test('Enter focuses the chat input and Escape leaves it', async () => {
  await alice.keyboard.press('Escape');
  assert.notEqual(await alice.evaluate(() => document.activeElement.id), 'chat-input');
  await alice.keyboard.press('Enter');
  assert.equal(await alice.evaluate(() => document.activeElement.id), 'chat-input');
  await alice.keyboard.press('Escape');
  assert.notEqual(await alice.evaluate(() => document.activeElement.id), 'chat-input');
});

test('clicks on the chat do not move the player', async () => {
  await waitUntilStill(alice);
  const before = (await snapshot(alice)).actors.find((a) => a.own);
  const box = await alice.locator('#chat-log').boundingBox();
  await alice.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await alice.click('#chat-send');
  await alice.waitForTimeout(600);
  const after = (await snapshot(alice)).actors.find((a) => a.own);
  assert.ok(Math.hypot(after.x - before.x, after.y - before.y) < 0.01, `moved from ${before.x},${before.y} to ${after.x},${after.y}`);
});

test('a click walks the own player at once, and the other page sees it arrive smoothly', async () => {
  const s = await snapshot(alice);
  const own = s.actors.find((a) => a.own);
  // a point about 150 px from alice, inside the map
  const target = { x: Math.min(own.x + 120, 1300), y: Math.min(own.y + 90, 800) };
  const screen = { x: target.x - s.camera.x, y: target.y - s.camera.y };

  // record how bob draws alice, frame by frame, while she walks
  await bob.evaluate((name) => {
    window.__trail = [];
    const record = () => {
      const a = window.cmmo.snapshot().actors.find((x) => x.name === name);
      if (a) window.__trail.push({ x: a.x, y: a.y, t: performance.now() });
      if (window.__trail.length < 2000) window.__recorder = requestAnimationFrame(record);
    };
    record();
  }, ALICE);

  await alice.mouse.click(screen.x, screen.y);
  // prediction: within a few frames alice already moves on her own screen
  await alice.waitForFunction(
    ([x, y]) => {
      const me = window.cmmo.snapshot().actors.find((a) => a.own);
      return Math.hypot(me.x - x, me.y - y) > 3;
    },
    [own.x, own.y],
    { timeout: 1000 },
  );
  // bob sees her arrive at the clicked point (the server stops exactly on it)
  await bob.waitForFunction(
    ([name, x, y]) => {
      const a = window.cmmo.snapshot().actors.find((b) => b.name === name);
      return a && Math.hypot(a.x - x, a.y - y) < 1 && Math.hypot(a.serverX - x, a.serverY - y) < 1;
    },
    [ALICE, target.x, target.y],
    { timeout: 15000 },
  );
  const trail = await bob.evaluate(() => {
    cancelAnimationFrame(window.__recorder);
    return window.__trail;
  });
  const moving = trail.filter((p, i) => i > 0 && (p.x !== trail[i - 1].x || p.y !== trail[i - 1].y));
  assert.ok(moving.length > 20, `alice was drawn moving in only ${moving.length} frames`);
  let maxJump = 0;
  for (let i = 1; i < trail.length; i++) {
    const d = Math.hypot(trail[i].x - trail[i - 1].x, trail[i].y - trail[i - 1].y);
    const dt = Math.max(trail[i].t - trail[i - 1].t, 16);
    maxJump = Math.max(maxJump, d / dt); // px per ms
  }
  assert.ok(maxJump < 0.2, `alice jumped on bob's screen: ${maxJump * 1000} px/s`); // walking is 70 px/s

  const mine = (await snapshot(alice)).actors.find((a) => a.own);
  assert.ok(Math.hypot(mine.x - target.x, mine.y - target.y) < 1, 'alice stands where she clicked');

  // bob walks next to her for the screenshot
  const b = await snapshot(bob);
  await bob.mouse.click(target.x + 80 - b.camera.x, target.y + 10 - b.camera.y);
  await alice.waitForFunction(
    ([name, x, y]) => {
      const a = window.cmmo.snapshot().actors.find((b) => b.name === name);
      return a && Math.hypot(a.x - x, a.y - y) < 1;
    },
    [BOB, target.x + 80, target.y + 10],
    { timeout: 20000 },
  );
  await alice.waitForTimeout(200);
  await screenshot(alice, 'world-two-players.png');
  await screenshot(bob, 'world-two-players-bob.png');
});

test('closing a page removes its actor and prints the leave line for the other', async () => {
  await bob.close();
  await waitForChatLine(alice, `${BOB} left.`); // cmmo.v2's Left ("has disconnected." on a legacy server)
  await alice.waitForFunction((name) => !window.cmmo.snapshot().actors.some((a) => a.name === name), BOB);
  assert.deepEqual(alice.errors, []);
  assert.deepEqual(bob.errors, []);
});
