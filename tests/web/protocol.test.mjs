import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Action, encodePacket, decodePacket, registerPacket, loginPacket, chatPacket, targetPacket, gameSocketUrl,
  decodeMove, decodeWorld, WORLD_SIZE_MAX, negotiatedProtocol, OFFERED_SUBPROTOCOLS, SUBPROTOCOL_V2,
} from '../../web/js/protocol.js';

test('encodePacket writes a and p0..pN in order', () => {
  assert.equal(encodePacket('Ok'), '{"a":"Ok"}');
  assert.equal(encodePacket('Chat', 'alice', 'hi'), '{"a":"Chat","p0":"alice","p1":"hi"}');
});

test('register, login, chat and target packets match the tutorial client', () => {
  assert.deepEqual(JSON.parse(registerPacket('alice', 'pw', 2)), { a: 'Register', p0: 'alice', p1: 'pw', p2: 2 });
  assert.deepEqual(JSON.parse(loginPacket('alice', 'pw')), { a: 'Login', p0: 'alice', p1: 'pw' });
  assert.deepEqual(JSON.parse(chatPacket('alice', 'hello bob')), { a: 'Chat', p0: 'alice', p1: 'hello bob' });
  assert.deepEqual(JSON.parse(targetPacket(200, 100)), { a: 'Target', p0: 200, p1: 100 });
});

test('targetPacket rounds coordinates to hundredths', () => {
  assert.deepEqual(JSON.parse(targetPacket(12.34567, 0.001)), { a: 'Target', p0: 12.35, p1: 0 });
});

test('decodePacket returns the action and contiguous payloads', () => {
  assert.deepEqual(decodePacket('{"a":"Deny","p0":"Username or password incorrect"}'), {
    action: Action.DENY,
    payloads: ['Username or password incorrect'],
  });
  assert.deepEqual(decodePacket('{"p1":"b","a":"Chat","p0":"a"}'), { action: 'Chat', payloads: ['a', 'b'] });
  assert.deepEqual(decodePacket('{"a":"Ok"}'), { action: 'Ok', payloads: [] });
});

test('decodePacket stops at the first gap in pN', () => {
  assert.deepEqual(decodePacket('{"a":"X","p0":1,"p2":3}'), { action: 'X', payloads: [1] });
});

test('decodePacket rejects what is not a packet', () => {
  for (const text of ['', 'not json', '[]', '"Ok"', 'null', '42', '{"p0":1}', '{"a":5}', undefined, null]) {
    assert.equal(decodePacket(text), null, String(text));
  }
});

test('decodePacket keeps unicode escapes as text', () => {
  assert.deepEqual(decodePacket('{"a":"Chat","p0":"bob","p1":"\\uff3bb\\uff3d"}').payloads, ['bob', '［b］']);
});

test('gameSocketUrl uses the page host, wss for https', () => {
  assert.equal(gameSocketUrl({ protocol: 'http:', host: 'localhost:8081' }), 'ws://localhost:8081/');
  assert.equal(gameSocketUrl({ protocol: 'https:', host: 'mmo.example:443' }), 'wss://mmo.example:443/');
  assert.equal(gameSocketUrl({ protocol: 'http:', host: '[::1]:9000' }), 'ws://[::1]:9000/');
});

test('the client offers exactly the cmmo.v2 subprotocol', () => {
  assert.equal(SUBPROTOCOL_V2, 'cmmo.v2');
  assert.deepEqual([...OFFERED_SUBPROTOCOLS], ['cmmo.v2']);
});

test('negotiatedProtocol: cmmo.v2 when the server chose it, legacy when it chose none', () => {
  assert.equal(negotiatedProtocol('cmmo.v2'), 'cmmo.v2');
  assert.equal(negotiatedProtocol(''), 'legacy');
  assert.equal(negotiatedProtocol(undefined), 'legacy');
});

test('a Move packet decodes to the actor id and its position', () => {
  const packet = decodePacket('{"a":"Move","p0":[7,12,12.5]}');
  assert.equal(packet.action, Action.MOVE);
  assert.deepEqual(decodeMove(packet.payloads[0]), { id: 7, x: 12, y: 12.5 });
  assert.deepEqual(decodeMove(decodePacket('{"a":"Move","p0":[1,1343.99,0.25]}').payloads[0]), { id: 1, x: 1343.99, y: 0.25 });
  assert.deepEqual(decodeMove([3, -0.01, 0]), { id: 3, x: -0.01, y: 0 });
});

test('a malformed Move payload decodes to null', () => {
  const bad = [
    undefined, null, 7, 'x', {}, { id: 1, x: 2, y: 3 }, [], [1], [1, 2], [1, 2, 3, 4],
    ['1', 2, 3], [1, '2', 3], [1, 2, null], [1.5, 2, 3], [true, 2, 3], [1, [2], 3], [1, 2, { y: 3 }],
  ];
  for (const payload of bad) assert.equal(decodeMove(payload), null, JSON.stringify(payload));
  // JSON has no NaN or Infinity literals, but an overflowing number parses to Infinity.
  assert.equal(decodeMove(decodePacket('{"a":"Move","p0":[1,1e999,3]}').payloads[0]), null);
  assert.equal(decodeMove(decodePacket('{"a":"Move","p0":[1,2,-1e999]}').payloads[0]), null);
  assert.equal(decodeMove([1, NaN, 3]), null);
});

test('a World packet decodes to the world size', () => {
  const packet = decodePacket('{"a":"World","p0":16000,"p1":12000}');
  assert.equal(packet.action, Action.WORLD);
  assert.deepEqual(decodeWorld(...packet.payloads), { width: 16000, height: 12000 });
  assert.deepEqual(decodeWorld(64, WORLD_SIZE_MAX), { width: 64, height: WORLD_SIZE_MAX });
});

test('a malformed World payload decodes to null', () => {
  const bad = [
    [], [1344], ['1344', 832], [1344, null], [0, 832], [1344, -1], [NaN, 832], [Infinity, 832],
    [WORLD_SIZE_MAX + 1, 832], [[1344], 832], [{ w: 1344 }, 832],
  ];
  for (const payloads of bad) assert.equal(decodeWorld(...payloads), null, JSON.stringify(payloads));
  assert.equal(decodeWorld(...decodePacket('{"a":"World","p0":1e999,"p1":832}').payloads), null);
});
