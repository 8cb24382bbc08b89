// The login screen: the form, registration with the avatar picker, inline deny reasons.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, openGame, uniqueName, registerAndEnter, login, snapshot, screenshot } from './helpers.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

test('the login screen shows username, hidden password, Login and Register', async () => {
  const context = await browser.newContext({ viewport: { width: 1024, height: 600 } });
  const page = await openGame(context);
  assert.equal(await page.isVisible('#username'), true);
  assert.equal(await page.getAttribute('#password', 'type'), 'password');
  assert.equal((await page.textContent('#login-button')).trim(), 'Login');
  assert.equal((await page.textContent('#register-button')).trim(), 'Register');
  assert.equal(await page.isVisible('#avatar-picker'), false);
  await page.waitForTimeout(300); // let the ground draw a frame or two
  await screenshot(page, 'login.png');
  assert.deepEqual(page.errors, []);
  await context.close();
});

test('Register shows the avatar picker with previous/next and all six avatars', async () => {
  const context = await browser.newContext({ viewport: { width: 1024, height: 600 } });
  const page = await openGame(context);
  await page.click('#register-button');
  assert.equal(await page.isVisible('#avatar-picker'), true);
  assert.equal(await page.locator('#avatar-strip button').count(), 6);
  assert.match(await page.textContent('#avatar-name'), /1 of 6/);
  await page.click('#avatar-next');
  await page.click('#avatar-next');
  assert.match(await page.textContent('#avatar-name'), /3 of 6/);
  await page.click('#avatar-prev');
  assert.match(await page.textContent('#avatar-name'), /2 of 6/);
  await page.click('#avatar-prev');
  await page.click('#avatar-prev');
  assert.match(await page.textContent('#avatar-name'), /6 of 6/, 'previous from the first wraps to the last');
  await page.waitForTimeout(300);
  await screenshot(page, 'register.png');
  assert.deepEqual(page.errors, []);
  await context.close();
});

test('a wrong password shows the reason inline, and the right one enters the world', async () => {
  const context = await browser.newContext({ viewport: { width: 1024, height: 600 } });
  const page = await openGame(context);
  const name = uniqueName('pw');
  await registerAndEnter(page, name, 'right-password', 2);
  await context.close();

  const context2 = await browser.newContext({ viewport: { width: 1024, height: 600 } });
  const page2 = await openGame(context2);
  await login(page2, name, 'wrong-password');
  await page2.waitForFunction(() => document.getElementById('login-message').textContent.includes('incorrect'));
  assert.equal(await page2.textContent('#login-message'), 'Username or password incorrect');
  assert.equal(await page2.isVisible('#login-message'), true);
  assert.equal((await snapshot(page2)).screen, 'login');
  await screenshot(page2, 'login-denied.png');

  await login(page2, name, 'right-password');
  await page2.waitForFunction((n) => window.cmmo.snapshot().ownName === n, name);
  const s = await snapshot(page2);
  assert.equal(s.screen, 'world');
  assert.equal(s.actors.find((a) => a.own).avatar, 2);
  assert.deepEqual(page2.errors, []);
  await context2.close();
});

test('registering a taken name shows the reason inline', async () => {
  const context = await browser.newContext();
  const page = await openGame(context);
  const name = uniqueName('dup');
  await registerAndEnter(page, name, 'pw', 0);
  const page2 = await openGame(await browser.newContext());
  await page2.click('#register-button');
  await page2.fill('#username', name);
  await page2.fill('#password', 'other');
  await page2.press('#password', 'Enter'); // Enter submits the register form
  await page2.waitForFunction(() => document.getElementById('login-message').textContent.includes('taken'));
  assert.equal(await page2.textContent('#login-message'), 'This username is already taken');
  assert.deepEqual([...page.errors, ...page2.errors], []);
  await context.close();
});
