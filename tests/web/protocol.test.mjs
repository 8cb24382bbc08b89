import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Action, encodePacket, decodePacket, registerPacket, loginPacket, chatPacket, targetPacket, gameSocketUrl,
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
