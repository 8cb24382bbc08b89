import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Bubbles,
  BUBBLE_MS,
  BUBBLE_MAX_CHARS,
  clearResume,
  loadResume,
  logoutPacket,
  offscreenArrow,
  pingPacket,
  reconnectDelay,
  RECONNECT_ATTEMPTS,
  resumePacket,
  resumeRetryable,
  RESUME_DENIED,
  RESUME_KEY,
  Roster,
  saveResume,
  v2Events,
} from '../../web/js/v2.js';
import { decodePacket } from '../../web/js/protocol.js';
import { GameSession, State } from '../../web/js/session.js';

const TOKEN = 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCd'.padEnd(43, 'x');

class MemoryStorage {
  constructor() {
    this.items = new Map();
  }
  getItem(k) {
    return this.items.has(k) ? this.items.get(k) : null;
  }
  setItem(k, v) {
    this.items.set(k, String(v));
  }
  removeItem(k) {
    this.items.delete(k);
  }
}

const events = (text, now = 0) => v2Events(decodePacket(text), now);

test('Resume, Logout and Ping are encoded as docs/PROTOCOL.md shows them', () => {
  assert.deepEqual(JSON.parse(resumePacket('alice', TOKEN)), { a: 'Resume', p0: 'alice', p1: TOKEN });
  assert.equal(logoutPacket(), '{"a":"Logout"}');
  assert.deepEqual(JSON.parse(pingPacket(1234.56789)), { a: 'Ping', p0: 1234.568 });
});

test('Token, Players, Joined, Left and Pong become events; malformed ones are ignored', () => {
  assert.deepEqual(events(JSON.stringify({ a: 'Token', p0: TOKEN, p1: 86400 })), [{ type: 'token', token: TOKEN, ttl: 86400 }]);
  assert.deepEqual(events(JSON.stringify({ a: 'Token', p0: 'short', p1: 86400 })), []);
  assert.deepEqual(events(JSON.stringify({ a: 'Token', p0: TOKEN, p1: -1 })), []);
  assert.deepEqual(events('{"a":"Players","p0":3,"p1":["alice","bob","<b>x</b>"]}'), [
    { type: 'players', count: 3, names: ['alice', 'bob'] },
  ]);
  assert.deepEqual(events('{"a":"Players","p0":"3","p1":[]}'), []);
  assert.deepEqual(events('{"a":"Joined","p0":"carol","p1":4}'), [{ type: 'joined', name: 'carol', count: 4 }]);
  assert.deepEqual(events('{"a":"Left","p0":"carol","p1":3}'), [{ type: 'left', name: 'carol', count: 3 }]);
  assert.deepEqual(events('{"a":"Left","p0":"","p1":3}'), []);
  assert.deepEqual(events('{"a":"Pong","p0":100.5}', 142.5), [{ type: 'pong', rtt: 42 }]);
  assert.deepEqual(events('{"a":"Pong","p0":500}', 100), [], 'a Pong from the future is not a latency');
  assert.deepEqual(events('{"a":"Nope"}'), []);
});

test('the session logs in with a token: Resume, then Ok enters PLAY like a Login', () => {
  const sent = [];
  const s = new GameSession((t) => (sent.push(JSON.parse(t)), true));
  assert.equal(s.resume('alice', TOKEN), true);
  assert.deepEqual(sent, [{ a: 'Resume', p0: 'alice', p1: TOKEN }]);
  assert.deepEqual(s.handleMessage('{"a":"Ok"}', 0), [{ type: 'logged-in' }]);
  assert.equal(s.state, State.PLAY);
  assert.equal(s.resume('alice', TOKEN), false, 'not in PLAY');
  // and passes cmmo.v2's own packets on as events
  assert.deepEqual(s.handleMessage('{"a":"Joined","p0":"bob","p1":2}', 0), [{ type: 'joined', name: 'bob', count: 2 }]);
});

test('a Deny of a Resume is a denied event with the reason', () => {
  const s = new GameSession(() => true);
  s.resume('alice', TOKEN);
  assert.deepEqual(s.handleMessage(JSON.stringify({ a: 'Deny', p0: RESUME_DENIED }), 0), [{ type: 'denied', reason: RESUME_DENIED }]);
  assert.equal(s.state, State.LOGIN);
});

test('which Resume denials are worth another try', () => {
  assert.equal(resumeRetryable('You are already logged in'), true);
  assert.equal(resumeRetryable('Server busy, try again'), true);
  assert.equal(resumeRetryable('The server is shutting down, try again in a moment'), true);
  assert.equal(resumeRetryable('Too many failed attempts, try again in 42 seconds'), true);
  assert.equal(resumeRetryable(RESUME_DENIED), false);
});

test('the stored token is kept until it expires, and an unreadable one is dropped', () => {
  const storage = new MemoryStorage();
  assert.equal(loadResume(storage, 0), null);
  saveResume(storage, 'alice', TOKEN, 60, 1000);
  assert.deepEqual(loadResume(storage, 60999), { username: 'alice', token: TOKEN });
  assert.equal(loadResume(storage, 61000), null, 'expired');
  assert.equal(storage.getItem(RESUME_KEY), null, 'and removed');
  storage.setItem(RESUME_KEY, '{not json');
  assert.equal(loadResume(storage, 0), null);
  storage.setItem(RESUME_KEY, JSON.stringify({ username: 'a b', token: TOKEN, expires: 1e15 }));
  assert.equal(loadResume(storage, 0), null, 'a name the server cannot have');
  saveResume(storage, 'alice', TOKEN, 60, 0);
  clearResume(storage);
  assert.equal(loadResume(storage, 0), null);
});

test('reconnect delays grow from half a second to 15 s, with jitter in the upper half', () => {
  assert.equal(reconnectDelay(0, () => 0), 250);
  assert.equal(reconnectDelay(0, () => 1), 500);
  assert.equal(reconnectDelay(3, () => 0), 2000);
  assert.equal(reconnectDelay(3, () => 1), 4000);
  assert.equal(reconnectDelay(20, () => 1), 15000);
  assert.equal(reconnectDelay(20, () => 0), 7500);
  let total = 0;
  for (let i = 0; i < RECONNECT_ATTEMPTS; i++) total += reconnectDelay(i, () => 1);
  assert.ok(total >= 45000 && total <= 90000, `about a minute of attempts, got ${total} ms`);
  // two players of a restarted server do not come back at the same moment
  const a = reconnectDelay(4, () => 0.1);
  const b = reconnectDelay(4, () => 0.9);
  assert.ok(b - a > 3000);
});

test('the roster follows Players, Joined and Left, counts beyond the listed names', () => {
  const r = new Roster();
  assert.equal(r.known, false);
  r.apply({ type: 'players', count: 300, names: ['bob', 'Alice'] });
  assert.equal(r.known, true);
  r.apply({ type: 'joined', name: 'carol', count: 301 });
  assert.deepEqual(r.sorted(), ['Alice', 'bob', 'carol']);
  r.apply({ type: 'left', name: 'bob', count: 300 });
  assert.equal(r.count, 300);
  assert.deepEqual(r.sorted(), ['Alice', 'carol']);
  r.reset();
  assert.equal(r.known, false);
  assert.equal(r.count, 0);
});

test('a chat bubble lasts BUBBLE_MS, the newest line of a speaker wins, long lines are cut', () => {
  const b = new Bubbles();
  b.add('alice', 'hello', 1000);
  assert.deepEqual(b.at('alice', 1000), { text: 'hello', age: 0 });
  b.add('alice', 'again', 2000);
  assert.equal(b.at('alice', 2000).text, 'again');
  assert.equal(b.at('alice', 2000 + BUBBLE_MS - 1).text, 'again');
  assert.equal(b.at('alice', 2000 + BUBBLE_MS), null);
  assert.equal(b.at('bob', 0), null);
  // a frame stamped just before the line was added still shows it
  b.add('carol', 'hi', 5000);
  assert.deepEqual(b.at('carol', 4990), { text: 'hi', age: 0 });
  b.add('bob', 'x'.repeat(500), 0);
  assert.equal(Array.from(b.at('bob', 0).text).length, BUBBLE_MAX_CHARS);
  assert.ok(b.at('bob', 0).text.endsWith('…'));
});

test("an arrow sits on the free area's edge nearest to an off-screen player and points at them", () => {
  const area = { left: 10, top: 50, right: 390, bottom: 550 };
  const origin = { x: 0, y: 0 };
  assert.equal(offscreenArrow(200, 300, origin, 400, 600, area), null, 'on screen: no arrow');
  const right = offscreenArrow(1000, 300, origin, 400, 600, area);
  assert.equal(right.x, 390);
  assert.equal(right.y, 300);
  assert.equal(right.angle, 0);
  const up = offscreenArrow(200, -500, origin, 400, 600, area);
  assert.equal(up.y, 50);
  assert.ok(Math.abs(up.angle + Math.PI / 2) < 1e-9);
  const corner = offscreenArrow(-5000, 5000, { x: 100, y: 100 }, 400, 600, area);
  assert.deepEqual([corner.x, corner.y], [area.left, area.bottom]);
  assert.ok(corner.angle > Math.PI / 2 && corner.angle < Math.PI, 'down and to the left');
  // below the screen but beside the chat: the arrow stays above the chat, pointing down
  const below = offscreenArrow(300, 700, origin, 400, 600, area);
  assert.deepEqual([below.x, below.y], [300, 550]);
  assert.ok(Math.abs(below.angle - Math.PI / 2) < 1e-9);
  // the nearer player has the smaller distance
  assert.ok(offscreenArrow(500, 300, origin, 400, 600, area).distance < right.distance);
});
