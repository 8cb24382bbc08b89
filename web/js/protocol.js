// Packet codec for the tutorial protocol (docs/PROTOCOL.md, sections 2 and 3).
// A packet is one JSON object per WebSocket message: {"a":"<Action>","p0":...,"p1":...}.
// This module knows nothing of sockets, the DOM or the world.
//
// cmmo.v2: this client offers the WebSocket subprotocol `cmmo.v2`. A server that accepts it sends
// every movement as the compact {"a":"Move","p0":[actor_id, x, y]} instead of a movement
// ModelDelta ({"id":A,"model_type":"Actor","instanced_entity":{"id":I,...,"x":X,"y":Y}}), about
// 3.5x fewer bytes in a crowd; everything else is the tutorial protocol. A server that does not
// know it answers without a subprotocol, which a browser treats as a failed handshake: main.js
// then connects again without the offer and speaks the tutorial protocol. The session
// understands both encodings of movement on any connection. A cmmo.v2 server also tells the
// client its world size once, right after the own model that follows Ok:
// {"a":"World","p0":width,"p1":height}.

export const Action = Object.freeze({
  OK: 'Ok',
  DENY: 'Deny',
  REGISTER: 'Register',
  LOGIN: 'Login',
  CHAT: 'Chat',
  TARGET: 'Target',
  MODEL_DELTA: 'ModelDelta',
  DISCONNECT: 'Disconnect',
  MOVE: 'Move', // cmmo.v2 only
  WORLD: 'World', // cmmo.v2 only
});

// The subprotocol this client offers: new WebSocket(url, OFFERED_SUBPROTOCOLS).
export const SUBPROTOCOL_V2 = 'cmmo.v2';
export const OFFERED_SUBPROTOCOLS = Object.freeze([SUBPROTOCOL_V2]);

// The protocol a connection speaks, from the socket's `protocol` once it is open: 'cmmo.v2', or
// 'legacy' when the server chose none (an older server; '' in the browser).
export function negotiatedProtocol(socketProtocol) {
  return socketProtocol === SUBPROTOCOL_V2 ? SUBPROTOCOL_V2 : 'legacy';
}

// The most payloads any action has (Register). Decoding stops looking for pN beyond a gap anyway;
// the bound keeps a hostile packet from making us walk a huge key range.
const MAX_PAYLOADS = 16;

// Encodes an action and its payloads as the protocol's JSON text.
export function encodePacket(action, ...payloads) {
  const packet = { a: action };
  payloads.forEach((payload, i) => {
    packet[`p${i}`] = payload;
  });
  return JSON.stringify(packet);
}

// Decodes one message. Returns {action, payloads} or null when the text is not a packet
// (not JSON, not an object, no string `a`). Payloads are p0, p1, ... up to the first gap.
export function decodePacket(text) {
  if (typeof text !== 'string') return null;
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  if (typeof value.a !== 'string') return null;
  const payloads = [];
  for (let i = 0; i < MAX_PAYLOADS && Object.hasOwn(value, `p${i}`); i++) payloads.push(value[`p${i}`]);
  return { action: value.a, payloads };
}

// Decodes the payload of a Move (cmmo.v2): [actor_id, x, y]. Returns {id, x, y}, or null unless it
// is an array of exactly three finite numbers with an integer id (the id a ModelDelta's top level
// and Disconnect carry). JSON.parse turns 1e999 into Infinity, hence the finiteness check.
export function decodeMove(payload) {
  if (!Array.isArray(payload) || payload.length !== 3) return null;
  const [id, x, y] = payload;
  if (!Number.isInteger(id)) return null;
  if (typeof x !== 'number' || typeof y !== 'number' || !Number.isFinite(x) || !Number.isFinite(y)) return null;
  return { id, x, y };
}

// cmmo.v2's Moves frame: a binary message of one of two kinds, little-endian (docs/PROTOCOL.md,
// "One frame per tick"). Kind 2: the kind byte, a scale byte s, then records of 8 bytes, each the
// actor id (u32), x and y (u16) in units of 2^-s px. Kind 1: the kind byte, then records of 12
// bytes, the actor id, x and y (u32), x and y in hundredths of a px. A server sends one kind all
// its life (kind 1 only for worlds wider than 65,535 px). All of a tick's movement comes in one.
export const MOVES_KIND = 1;
export const MOVES_KIND_SHORT = 2;
const MOVE_RECORD = 12;
const MOVE_RECORD_SHORT = 8;
const MOVE_SCALE_MAX = 6;

// Decodes a Moves frame (an ArrayBuffer). Returns [{id, x, y}, ...], or null unless it is one: the
// kind byte (and a scale byte up to 6 for kind 2), then whole records.
export function decodeMoves(buffer) {
  if (!(buffer instanceof ArrayBuffer) || buffer.byteLength < 1) return null;
  const view = new DataView(buffer);
  const kind = view.getUint8(0);
  const moves = [];
  if (kind === MOVES_KIND) {
    if ((buffer.byteLength - 1) % MOVE_RECORD !== 0) return null;
    for (let at = 1; at < buffer.byteLength; at += MOVE_RECORD) {
      moves.push({
        id: view.getUint32(at, true),
        x: view.getUint32(at + 4, true) / 100,
        y: view.getUint32(at + 8, true) / 100,
      });
    }
    return moves;
  }
  if (kind !== MOVES_KIND_SHORT || buffer.byteLength < 2) return null;
  const scale = view.getUint8(1);
  if (scale > MOVE_SCALE_MAX || (buffer.byteLength - 2) % MOVE_RECORD_SHORT !== 0) return null;
  const unit = 1 / (1 << scale);
  for (let at = 2; at < buffer.byteLength; at += MOVE_RECORD_SHORT) {
    moves.push({
      id: view.getUint32(at, true),
      x: view.getUint16(at + 4, true) * unit,
      y: view.getUint16(at + 6, true) * unit,
    });
  }
  return moves;
}

// The server's --world bound on each side; a larger size is not a size this protocol sends.
export const WORLD_SIZE_MAX = 1000000;

// Decodes the payloads of a World (cmmo.v2): width and height in px. Returns {width, height}, or
// null unless both are finite numbers in (0, WORLD_SIZE_MAX].
export function decodeWorld(width, height) {
  const ok = (v) => typeof v === 'number' && Number.isFinite(v) && v > 0 && v <= WORLD_SIZE_MAX;
  return ok(width) && ok(height) ? { width, height } : null;
}

export function registerPacket(username, password, avatarId) {
  return encodePacket(Action.REGISTER, username, password, avatarId);
}

export function loginPacket(username, password) {
  return encodePacket(Action.LOGIN, username, password);
}

// The server replaces the sender name with the speaker's own; the Godot client sends it, so do we.
export function chatPacket(senderName, message) {
  return encodePacket(Action.CHAT, senderName, message);
}

// World pixels, rounded to hundredths: the server walks in 3.5 px steps, finer is noise.
export function targetPacket(x, y) {
  return encodePacket(Action.TARGET, Math.round(x * 100) / 100, Math.round(y * 100) / 100);
}

// The WebSocket address of the game: the page's own host, wss when the page came over https.
export function gameSocketUrl(location) {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}/`;
}
