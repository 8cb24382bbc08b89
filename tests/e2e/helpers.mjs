// Shared helpers of the browser tests: the Chromium launch, the server under test, and small
// steps a player takes (register, log in, chat) written once.

import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { chromium } from 'playwright-core';

export const BASE_URL = process.env.CMMO_URL;
export const SCREENSHOT_DIR = process.env.CMMO_SCREENSHOTS ?? 'build/screenshots';

if (!BASE_URL) throw new Error('CMMO_URL is not set: run the browser tests with tests/e2e/run.sh');

// The flags that work for Debian's chromium in a container without a GPU or a user namespace.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
  });
}

// A new page on the game, failing the test on any page error or alert box.
// `setup(page)`, when given, runs before the page loads (init scripts, WebSocket listeners).
export async function openGame(context, url = BASE_URL, { setup } = {}) {
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (error) => page.errors.push(error.message));
  page.on('dialog', (dialog) => {
    page.errors.push(`unexpected dialog: ${dialog.message()}`);
    dialog.dismiss().catch(() => {});
  });
  if (setup) await setup(page);
  await page.goto(url);
  await page.waitForFunction(() => window.cmmo?.snapshot().connected === true);
  return page;
}

// A fresh username: 1-20 of [A-Za-z0-9_-] per docs/PROTOCOL.md.
export function uniqueName(prefix) {
  return `${prefix}_${randomBytes(4).toString('hex')}`.slice(0, 20);
}

export const snapshot = (page) => page.evaluate(() => window.cmmo.snapshot());

// Registers with the given avatar through the form; the client then logs in by itself.
export async function registerAndEnter(page, username, password, avatar, { tap = false } = {}) {
  const press = (selector) => (tap ? page.tap(selector) : page.click(selector));
  await press('#register-button');
  await page.fill('#username', username);
  await page.fill('#password', password);
  for (let i = 0; i < avatar; i++) await press('#avatar-next');
  await press('#create-button');
  await waitForWorld(page, username);
}

export async function login(page, username, password) {
  await page.fill('#username', username);
  await page.fill('#password', password);
  await page.press('#password', 'Enter');
}

export async function waitForWorld(page, username) {
  await page.waitForFunction(
    (name) => {
      const s = window.cmmo.snapshot();
      return s.screen === 'world' && s.ownName === name;
    },
    username,
    { timeout: 20000 },
  );
}

// Waits until `page` knows an actor called `name` (other than itself) and returns it.
export async function waitForActor(page, name) {
  await page.waitForFunction((n) => window.cmmo.snapshot().actors.some((a) => a.name === n), name, { timeout: 15000 });
  return (await snapshot(page)).actors.find((a) => a.name === name);
}

export async function chatLines(page) {
  return page.$$eval('#chat-log li', (lis) => lis.map((li) => li.textContent));
}

export async function waitForChatLine(page, text) {
  await page.waitForFunction((t) => [...document.querySelectorAll('#chat-log li')].some((li) => li.textContent === t), text, {
    timeout: 10000,
  });
}

export async function screenshot(page, name) {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, name);
  await page.screenshot({ path: file });
  return file;
}

// Starts a server of its own (for the tests that stop it, or that need other options: `args`,
// e.g. ['--world', '16000x16000']), on `port` (0: any free one).
// Resolves to {process, port, url} once it logs that it listens.
export function startServer({ db, port = 0, args = [] }) {
  const binary = process.env.CMMO_SERVER;
  if (!binary) throw new Error('CMMO_SERVER is not set');
  const argv = ['--host', '127.0.0.1', '--port', String(port), '--db', `sqlite:${db}`, '--web-root', 'web', '--log-level', 'info', '--drain-seconds', '0', ...args];
  const child = spawn(binary, argv, {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => reject(new Error(`server did not listen in time:\n${log}`)), 15000);
    child.stderr.on('data', (chunk) => {
      log += chunk;
      for (const line of log.split('\n')) {
        const m = line.includes('listening') && line.match(/port=(\d+)/);
        if (m) {
          clearTimeout(timer);
          child.stderr.removeAllListeners('data');
          child.stderr.resume();
          const p = Number(m[1]);
          resolve({ process: child, port: p, url: `http://127.0.0.1:${p}/` });
          return;
        }
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening:\n${log}`));
    });
  });
}

export function stopServer(server) {
  return new Promise((resolve) => {
    if (server.process.exitCode !== null) return resolve(server.process.exitCode);
    server.process.once('exit', (code) => resolve(code));
    server.process.kill('SIGTERM');
  });
}
