// What cmmo.v2 adds for a browser client beyond compact movement (docs/PROTOCOL.md, "cmmo.v2
// sessions"): resume tokens, who is around (Players, Joined, Left) and Ping/Pong; and the pieces
// of the page's logic built on them that can be tested without a browser: the stored token, the
// reconnect schedule, the roster, chat bubbles, and the arrows to players off the screen.
// No DOM, no socket.

import { encodePacket } from './protocol.js';

export const V2Action = Object.freeze({
  RESUME: 'Resume', // C->S p0 username, p1 token
  TOKEN: 'Token', // S->C p0 token, p1 seconds it is valid
  LOGOUT: 'Logout', // C->S: revoke this session's token
  PLAYERS: 'Players', // S->C p0 count, p1 names
  JOINED: 'Joined', // S->C p0 name, p1 count
  LEFT: 'Left', // S->C p0 name, p1 count
  PING: 'Ping', // C->S p0 a number, echoed
  PONG: 'Pong', // S->C
});

// The one Deny text for a token the server will not take: ask for the password.
export const RESUME_DENIED = 'Resume token invalid or expired';
// Denials of a Resume that are worth trying again in a moment (the old connection is being
// closed; the server is busy or restarting; too many failures from this address).
export function resumeRetryable(reason) {
  return (
    reason === 'You are already logged in' ||
    reason === 'Server busy, try again' ||
    /shutting down|try again in/i.test(reason)
  );
}

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const NAME_PATTERN = /^[A-Za-z0-9_-]{1,20}$/;

export const resumePacket = (username, token) => encodePacket(V2Action.RESUME, username, token);
export const logoutPacket = () => encodePacket(V2Action.LOGOUT);
export const pingPacket = (now) => encodePacket(V2Action.PING, Math.round(now * 1000) / 1000);

const isCount = (v) => Number.isInteger(v) && v >= 0;
const isName = (v) => typeof v === 'string' && NAME_PATTERN.test(v);

// The events of one cmmo.v2 packet ({action, payloads} from decodePacket) received at `now` (ms),
// or [] when it is not one or is malformed:
//   {type:'token', token, ttl} {type:'players', count, names} {type:'joined', name, count}
//   {type:'left', name, count} {type:'pong', rtt}
export function v2Events(packet, now) {
  const [p0, p1] = packet.payloads;
  switch (packet.action) {
    case V2Action.TOKEN:
      return typeof p0 === 'string' && TOKEN_PATTERN.test(p0) && isCount(p1) ? [{ type: 'token', token: p0, ttl: p1 }] : [];
    case V2Action.PLAYERS:
      if (!isCount(p0) || !Array.isArray(p1)) return [];
      return [{ type: 'players', count: p0, names: p1.filter(isName) }];
    case V2Action.JOINED:
    case V2Action.LEFT:
      if (!isName(p0) || !isCount(p1)) return [];
      return [{ type: packet.action === V2Action.JOINED ? 'joined' : 'left', name: p0, count: p1 }];
    case V2Action.PONG:
      return typeof p0 === 'number' && Number.isFinite(p0) && now >= p0 ? [{ type: 'pong', rtt: now - p0 }] : [];
    default:
      return [];
  }
}

// ---- the stored token --------------------------------------------------------------------------

// localStorage: only pages of this origin can read it (docs/SECURITY.md, "Resume tokens").
export const RESUME_KEY = 'cmmo.resume';

// Saves {username, token} valid for ttl seconds from nowMs (wall clock, Date.now()).
export function saveResume(storage, username, token, ttl, nowMs) {
  try {
    storage.setItem(RESUME_KEY, JSON.stringify({ username, token, expires: nowMs + ttl * 1000 }));
  } catch {
    // storage full or disabled (private mode): the password is asked next time
  }
}

// {username, token} when a token is stored that has not expired at nowMs, else null (an expired
// or unreadable one is removed).
export function loadResume(storage, nowMs) {
  let value = null;
  try {
    value = JSON.parse(storage.getItem(RESUME_KEY));
  } catch {
    value = null;
  }
  const ok =
    value && isName(value.username) && typeof value.token === 'string' && TOKEN_PATTERN.test(value.token) && value.expires > nowMs;
  if (!ok) {
    clearResume(storage);
    return null;
  }
  return { username: value.username, token: value.token };
}

export function clearResume(storage) {
  try {
    storage.removeItem(RESUME_KEY);
  } catch {
    // nothing stored, or no storage
  }
}

// ---- reconnecting ------------------------------------------------------------------------------

// Attempts before the page gives up and shows the Reconnect button: about a minute in all.
export const RECONNECT_ATTEMPTS = 8;
const RECONNECT_BASE_MS = 500;
const RECONNECT_CAP_MS = 15000;

// The wait before attempt `attempt` (0-based): exponential from half a second, at most 15 s, each
// drawn at random from its upper half ("equal jitter"), so that the thousands of players of a
// restarted server do not all come back in the same tick.
export function reconnectDelay(attempt, random = Math.random) {
  const ceiling = Math.min(RECONNECT_CAP_MS, RECONNECT_BASE_MS * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

// ---- who is around -----------------------------------------------------------------------------

// The players in the world as the server listed them (Players, then Joined and Left), and the
// count, which may exceed the names the server listed.
export class Roster {
  constructor() {
    this.reset();
  }

  reset() {
    this.known = false; // a Players arrived on this connection
    this.count = 0;
    this.names = new Set();
  }

  apply(event) {
    switch (event.type) {
      case 'players':
        this.known = true;
        this.count = event.count;
        this.names = new Set(event.names);
        break;
      case 'joined':
        this.count = event.count;
        this.names.add(event.name);
        break;
      case 'left':
        this.count = event.count;
        this.names.delete(event.name);
        break;
    }
  }

  // Names in the order a person looks for them: letter case ignored.
  sorted() {
    return [...this.names].sort((a, b) => a.localeCompare(b, undefined, { sensitivity: 'base' }));
  }
}

// ---- chat bubbles ------------------------------------------------------------------------------

export const BUBBLE_MS = 5000;
// A bubble shows the start of a long line: the chat log has all of it.
export const BUBBLE_MAX_CHARS = 90;

// The latest line of each speaker, shown above them for BUBBLE_MS.
export class Bubbles {
  constructor() {
    this.byName = new Map(); // name -> {text, t}
  }

  add(name, text, now) {
    const chars = Array.from(text);
    const shown = chars.length > BUBBLE_MAX_CHARS ? `${chars.slice(0, BUBBLE_MAX_CHARS - 1).join('')}…` : text;
    this.byName.set(name, { text: shown, t: now });
  }

  // {text, age (0..1)} of name's bubble at now, or null; expired ones are forgotten. A frame's
  // time may be a little earlier than the line's (requestAnimationFrame stamps the frame's
  // start): that is age 0, not a bubble from the future.
  at(name, now) {
    const b = this.byName.get(name);
    if (!b) return null;
    const age = Math.max(0, (now - b.t) / BUBBLE_MS);
    if (age >= 1) {
      this.byName.delete(name);
      return null;
    }
    return { text: b.text, age };
  }
}

// ---- players off the screen --------------------------------------------------------------------

// Where to draw the arrow to a player at world (x, y) who is outside the view: the player's screen
// point pulled into `area` ({left, top, right, bottom} in screen px, the part of the screen not
// under the HUD or the chat), so the arrow sits on the edge nearest to them, and the angle from
// there to them (radians, 0 = right, growing clockwise as the screen's y grows down); distance
// from the area's middle, to pick the nearest. null when the player is inside the view.
export function offscreenArrow(x, y, origin, viewWidth, viewHeight, area) {
  const sx = x - origin.x;
  const sy = y - origin.y;
  if (sx >= 0 && sx <= viewWidth && sy >= 0 && sy <= viewHeight) return null;
  const ax = Math.min(Math.max(sx, area.left), area.right);
  const ay = Math.min(Math.max(sy, area.top), area.bottom);
  const cx = (area.left + area.right) / 2;
  const cy = (area.top + area.bottom) / 2;
  return { x: ax, y: ay, angle: Math.atan2(sy - ay, sx - ax), distance: Math.hypot(sx - cx, sy - cy) };
}
