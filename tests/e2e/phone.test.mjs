// A phone-sized touch screen: register by taps, tap to walk, chat with the on-screen keyboard's input.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, openGame, uniqueName, registerAndEnter, waitForChatLine, snapshot, screenshot } from './helpers.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

test('on a phone: taps register, walk and chat, and the layout fits', async () => {
  const context = await browser.newContext(PHONE);
  const page = await openGame(context);
  const name = uniqueName('phone');

  // the login card fits the screen's width
  const card = await page.locator('#login-form').boundingBox();
  assert.ok(card.x >= 0 && card.x + card.width <= 390, `card ${JSON.stringify(card)}`);

  await registerAndEnter(page, name, 'phone-pw', 5, { tap: true });
  const before = (await snapshot(page)).actors.find((a) => a.own);
  const s = await snapshot(page);
  // tap a point about 100 px away from the player
  const target = { x: before.x + 80, y: before.y + 60 };
  await page.touchscreen.tap(target.x - s.camera.x, target.y - s.camera.y);
  await page.waitForFunction(
    ([x, y]) => {
      const me = window.cmmo.snapshot().actors.find((a) => a.own);
      return Math.hypot(me.x - x, me.y - y) < 1 && Math.hypot(me.serverX - x, me.serverY - y) < 1;
    },
    [target.x, target.y],
    { timeout: 15000 },
  );

  // the chat spans the screen's width and the bottom of it; the input takes text and Send sends it
  const chat = await page.locator('#chat').boundingBox();
  assert.ok(chat.width <= 390 && chat.y + chat.height <= 844 + 1, `chat ${JSON.stringify(chat)}`);
  await page.tap('#chat-input');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'chat-input');
  await page.keyboard.type('hello from a phone');
  await page.tap('#chat-send');
  await waitForChatLine(page, `${name}: hello from a phone`);
  assert.equal(await page.inputValue('#chat-input'), '');

  // nothing overflows the screen horizontally
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `page is ${width}px wide`);
  await page.waitForTimeout(200);
  await screenshot(page, 'phone-world.png');

  // landscape too
  await page.setViewportSize({ width: 844, height: 390 });
  await page.waitForTimeout(200);
  const chatLandscape = await page.locator('#chat').boundingBox();
  assert.ok(chatLandscape.y >= 0 && chatLandscape.y + chatLandscape.height <= 391, `chat ${JSON.stringify(chatLandscape)}`);
  await screenshot(page, 'phone-landscape.png');
  assert.deepEqual(page.errors, []);
  await context.close();
});

test('on a phone: the login form fits a small landscape screen', async () => {
  const context = await browser.newContext({ ...PHONE, viewport: { width: 667, height: 375 } });
  const page = await openGame(context);
  await page.tap('#register-button');
  // every control can be reached (the card scrolls when taller than the screen)
  for (const id of ['#username', '#password', '#avatar-next', '#create-button']) {
    await page.locator(id).scrollIntoViewIfNeeded();
    const box = await page.locator(id).boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= 667 && box.y >= 0 && box.y + box.height <= 375, `${id} ${JSON.stringify(box)}`);
  }
  await screenshot(page, 'phone-register-landscape.png');
  await context.close();
});
