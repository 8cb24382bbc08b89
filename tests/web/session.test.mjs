import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GameSession, State, CHAT_MAX_CHARS, CHAT_BURST, CHAT_TOO_FAST } from '../../web/js/session.js';
import { WORLD_WIDTH, WORLD_HEIGHT } from '../../web/js/camera.js';

function fullActor(id, name, avatar, x, y) {
  return {
    id, user: id + 100, avatar_id: avatar, model_type: 'Actor',
    instanced_entity: { id: id + 10, x, y, model_type: 'InstancedEntity', entity: { id: id + 20, name, model_type: 'Entity' } },
  };
}
const delta = (actor) => JSON.stringify({ a: 'ModelDelta', p0: actor });
const move = (id, x, y) => delta({ id, model_type: 'Actor', instanced_entity: { id: id + 10, model_type: 'InstancedEntity', x, y } });
// The same movement in cmmo.v2's encoding.
const compactMove = (id, x, y) => JSON.stringify({ a: 'Move', p0: [id, x, y] });

function loggedIn() {
  const sent = [];
  const s = new GameSession((text) => (sent.push(JSON.parse(text)), true));
  s.login('alice', 'pw');
  s.handleMessage('{"a":"Ok"}', 0);
  s.handleMessage(delta(fullActor(5, 'alice', 2, 100, 100)), 0);
  return { s, sent };
}

test('register then Ok reports registered and stays in LOGIN', () => {
  const sent = [];
  const s = new GameSession((t) => (sent.push(JSON.parse(t)), true));
  assert.equal(s.register('alice', 'pw', 3), true);
  assert.deepEqual(sent, [{ a: 'Register', p0: 'alice', p1: 'pw', p2: 3 }]);
  assert.deepEqual(s.handleMessage('{"a":"Ok"}', 0), [{ type: 'registered' }]);
  assert.equal(s.state, State.LOGIN);
});

test('a Deny reports its reason and keeps LOGIN', () => {
  const s = new GameSession(() => true);
  s.login('alice', 'wrong');
  assert.deepEqual(s.handleMessage('{"a":"Deny","p0":"Username or password incorrect"}', 0), [
    { type: 'denied', reason: 'Username or password incorrect' },
  ]);
  assert.equal(s.state, State.LOGIN);
});

test('nothing is sent and no request is pending while the socket is closed', () => {
  const s = new GameSession(() => false);
  assert.equal(s.login('a', 'b'), false);
  assert.equal(s.pending, null);
  assert.deepEqual(s.handleMessage('{"a":"Ok"}', 0), []);
});

test('the first ModelDelta after Ok is the own actor', () => {
  const s = new GameSession(() => true);
  s.login('alice', 'pw');
  assert.deepEqual(s.handleMessage('{"a":"Ok"}', 0), [{ type: 'logged-in' }]);
  assert.equal(s.state, State.PLAY);
  assert.deepEqual(s.handleMessage(delta(fullActor(5, 'alice', 2, 0, 0)), 0), [{ type: 'own-actor', id: 5, name: 'alice' }]);
  assert.deepEqual(s.handleMessage(delta(fullActor(6, 'bob', 4, 50, 60)), 0), [{ type: 'actor-joined', id: 6, name: 'bob' }]);
  assert.equal(s.ownId, 5);
  assert.equal(s.ownName, 'alice');
  const views = s.actorsAt(0);
  assert.deepEqual(views.map((v) => [v.name, v.avatar, v.own]), [['bob', 4, false], ['alice', 2, true]]);
});

test('ModelDelta before login is ignored', () => {
  const s = new GameSession(() => true);
  assert.deepEqual(s.handleMessage(delta(fullActor(5, 'x', 0, 0, 0)), 0), []);
  assert.equal(s.store.size, 0);
});

test('a click walks the own player at once and sends Target', () => {
  const { s, sent } = loggedIn();
  s.actorsAt(0);
  assert.equal(s.sendTarget(300, 100), true);
  assert.deepEqual(sent.at(-1), { a: 'Target', p0: 300, p1: 100 });
  const own = s.actorsAt(100).find((v) => v.own);
  assert.ok(Math.abs(own.x - 107) < 1e-9, `x=${own.x}`);
  assert.equal(own.y, 100);
});

test('server deltas move others smoothly and keep the own prediction', () => {
  const { s } = loggedIn();
  s.handleMessage(delta(fullActor(6, 'bob', 1, 0, 0)), 1000);
  for (let i = 1; i <= 4; i++) s.handleMessage(move(6, 3.5 * i, 0), 1000 + 50 * i);
  const bob = s.actorsAt(1000 + 150 + 100).find((v) => v.name === 'bob');
  assert.ok(Math.abs(bob.x - 10.5) < 1e-9, `bob.x=${bob.x}`);
  assert.ok(bob.vx > 60);
});

test('an own server position beyond 200 px snaps the own player (rubber band)', () => {
  const { s } = loggedIn();
  s.actorsAt(0);
  s.handleMessage(move(5, 400, 100), 10);
  const own = s.actorsAt(20).find((v) => v.own);
  assert.deepEqual([own.x, own.y], [400, 100]);
});

test('Disconnect removes the actor and names it for the leave line', () => {
  const { s } = loggedIn();
  s.handleMessage(delta(fullActor(6, 'bob', 1, 0, 0)), 0);
  assert.deepEqual(s.handleMessage('{"a":"Disconnect","p0":6}', 0), [{ type: 'actor-left', id: 6, name: 'bob' }]);
  assert.equal(s.store.get(6), undefined);
  assert.deepEqual(s.handleMessage('{"a":"Disconnect","p0":6}', 0), []);
  assert.equal(s.actorsAt(0).length, 1);
});

test('chat from others is reported, own chat is sent and returned for local display', () => {
  const { s, sent } = loggedIn();
  assert.deepEqual(s.handleMessage('{"a":"Chat","p0":"bob","p1":"<b>hi</b>"}', 0), [{ type: 'chat', name: 'bob', message: '<b>hi</b>' }]);
  assert.deepEqual(s.sendChat('  hello bob  ', 0), { name: 'alice', message: 'hello bob' });
  assert.deepEqual(sent.at(-1), { a: 'Chat', p0: 'alice', p1: 'hello bob' });
  assert.equal(s.sendChat('   ', 0), null);
  assert.equal(s.sendChat('\u0007', 0), null);
});

test('own chat is cut to the server limit in code points', () => {
  const { s } = loggedIn();
  const line = s.sendChat('😀'.repeat(300), 0);
  assert.equal(Array.from(line.message).length, CHAT_MAX_CHARS);
});

test('reset returns to a fresh LOGIN state for a new connection', () => {
  const { s } = loggedIn();
  s.reset();
  assert.equal(s.state, State.LOGIN);
  assert.equal(s.ownId, null);
  assert.equal(s.store.size, 0);
  assert.equal(s.sendTarget(1, 1), false);
});

test('garbage from the server is ignored', () => {
  const { s } = loggedIn();
  for (const text of ['nope', '{"a":"ModelDelta","p0":5}', '{"a":"Disconnect","p0":"x"}', '{"a":"Chat","p0":"x"}', '{"a":"Weird"}']) {
    assert.deepEqual(s.handleMessage(text, 0), []);
  }
  assert.equal(s.store.size, 1);
});

test('own chat keeps to the server rate (2 a second, bursts of 10) and says so when over it', () => {
  const { s, sent } = loggedIn();
  const before = sent.length;
  for (let i = 0; i < CHAT_BURST; i++) assert.equal(s.sendChat(`line ${i}`, 1000).message, `line ${i}`);
  assert.deepEqual(s.sendChat('one too many', 1000), { error: CHAT_TOO_FAST });
  assert.equal(sent.length, before + CHAT_BURST, 'the refused line was not sent');
  assert.deepEqual(s.sendChat('still too soon', 1400), { error: CHAT_TOO_FAST });
  assert.equal(s.sendChat('after half a second', 1500).message, 'after half a second');
});

test('chat_full_width_brackets_are_shown_as_plain_brackets', async () => {
  const { plainBrackets } = await import('../../web/js/session.js');
  assert.equal(plainBrackets('hi \uFF3Bb\uFF3Dbold\uFF3B/b\uFF3D'), 'hi [b]bold[/b]');
  assert.equal(plainBrackets('no brackets'), 'no brackets');
});

test('a Move moves a known other actor smoothly, like a movement ModelDelta', () => {
  const { s } = loggedIn();
  s.handleMessage(delta(fullActor(6, 'bob', 1, 0, 0)), 1000);
  for (let i = 1; i <= 4; i++) assert.deepEqual(s.handleMessage(compactMove(6, 3.5 * i, 0), 1000 + 50 * i), []);
  const bob = s.actorsAt(1000 + 150 + 100).find((v) => v.name === 'bob');
  assert.ok(Math.abs(bob.x - 10.5) < 1e-9, `bob.x=${bob.x}`);
  assert.ok(bob.vx > 60);
  assert.deepEqual(s.motion.get(6).latest(), { x: 14, y: 0 });
  assert.equal(s.store.get(6).instanced_entity.entity.name, 'bob', 'the rest of the model is kept');
});

test('Moves and movement ModelDeltas give the same model and the same drawn positions', () => {
  const legacy = loggedIn().s;
  const compact = loggedIn().s;
  for (const s of [legacy, compact]) {
    s.handleMessage(delta(fullActor(6, 'bob', 1, 50, 50)), 0);
    s.actorsAt(0);
    s.sendTarget(300, 100);
  }
  // bob walks, the own player is corrected by the server, then snapped by the rubber band
  const steps = [[6, 53.5, 50], [5, 103.5, 100], [6, 57, 50.25], [5, 107, 100], [6, 60.5, 51], [5, 600, 300], [6, 64, 52]];
  steps.forEach(([id, x, y], i) => {
    const now = 50 * (i + 1);
    legacy.handleMessage(move(id, x, y), now);
    compact.handleMessage(compactMove(id, x, y), now);
    assert.deepEqual(compact.actorsAt(now + 10), legacy.actorsAt(now + 10), `after step ${i}`);
  });
  for (const now of [400, 450, 500, 1000]) assert.deepEqual(compact.actorsAt(now), legacy.actorsAt(now), `at ${now}`);
  assert.deepEqual(compact.store.get(5), legacy.store.get(5));
  assert.deepEqual(compact.store.get(6), legacy.store.get(6));
  assert.equal(compact.motion.get(5).snaps, 1, 'the rubber band fired for the Move too');
});

test('a Move of the own actor beyond 200 px snaps the own player (rubber band)', () => {
  const { s } = loggedIn();
  s.actorsAt(0);
  s.handleMessage(compactMove(5, 400, 100), 10);
  const own = s.actorsAt(20).find((v) => v.own);
  assert.deepEqual([own.x, own.y], [400, 100]);
});

test('a Move for an actor without a full model is ignored', () => {
  const { s } = loggedIn();
  assert.deepEqual(s.handleMessage(compactMove(6, 10, 10), 0), []);
  assert.equal(s.store.get(6), undefined);
  assert.equal(s.motion.get(6), undefined);
  assert.equal(s.store.size, 1);
  // its full model, when it comes, still introduces it
  assert.deepEqual(s.handleMessage(delta(fullActor(6, 'bob', 1, 20, 30)), 0), [{ type: 'actor-joined', id: 6, name: 'bob' }]);
  assert.deepEqual(s.motion.get(6).latest(), { x: 20, y: 30 });
});

test('a Move before the own full model is ignored and does not become the own actor', () => {
  const s = new GameSession(() => true);
  s.login('alice', 'pw');
  s.handleMessage('{"a":"Ok"}', 0);
  assert.deepEqual(s.handleMessage(compactMove(5, 10, 10), 0), []);
  assert.equal(s.ownId, null);
  assert.deepEqual(s.handleMessage(delta(fullActor(5, 'alice', 2, 100, 100)), 0), [{ type: 'own-actor', id: 5, name: 'alice' }]);
});

test('a Move before login is ignored', () => {
  const s = new GameSession(() => true);
  assert.deepEqual(s.handleMessage(compactMove(5, 10, 10), 0), []);
  assert.equal(s.store.size, 0);
});

test('malformed Moves are ignored and change nothing', () => {
  const { s } = loggedIn();
  s.handleMessage(delta(fullActor(6, 'bob', 1, 50, 60)), 0);
  const before = structuredClone([...s.store.actors]);
  const bad = [
    '{"a":"Move"}', '{"a":"Move","p0":null}', '{"a":"Move","p0":6}', '{"a":"Move","p0":{"id":6,"x":1,"y":2}}',
    '{"a":"Move","p0":[6,1]}', '{"a":"Move","p0":[6,1,2,3]}', '{"a":"Move","p0":["6",1,2]}', '{"a":"Move","p0":[6,"1",2]}',
    '{"a":"Move","p0":[6,1,null]}', '{"a":"Move","p0":[6.5,1,2]}', '{"a":"Move","p0":[6,1e999,2]}', '{"a":"Move","p0":[6,[1],2]}',
    '{"a":"Move","p1":[6,1,2]}',
  ];
  for (const text of bad) assert.deepEqual(s.handleMessage(text, 10), [], text);
  assert.deepEqual([...s.store.actors], before);
  assert.deepEqual(s.motion.get(6).latest(), { x: 50, y: 60 });
  assert.equal(s.motion.get(6).snapshots.length, 1, 'no server position was pushed');
});

test('legacy movement ModelDeltas are still applied, also mixed with Moves', () => {
  const { s } = loggedIn();
  s.handleMessage(delta(fullActor(6, 'bob', 1, 0, 0)), 0);
  s.handleMessage(move(6, 3.5, 0), 50);
  assert.deepEqual(s.motion.get(6).latest(), { x: 3.5, y: 0 });
  s.handleMessage(compactMove(6, 7, 0), 100);
  s.handleMessage(move(6, 10.5, 0), 150);
  assert.deepEqual(s.motion.get(6).latest(), { x: 10.5, y: 0 });
  assert.equal(s.store.get(6).instanced_entity.x, 10.5);
  assert.equal(s.motion.get(6).snapshots.length, 4);
});

const worldPacket = (w, h) => JSON.stringify({ a: 'World', p0: w, p1: h });

test('the world is the default map until a World packet gives its size', () => {
  const { s } = loggedIn();
  assert.deepEqual(s.world, { width: WORLD_WIDTH, height: WORLD_HEIGHT });
  assert.deepEqual(s.handleMessage(worldPacket(16000, 12000), 0), [{ type: 'world', width: 16000, height: 12000 }]);
  assert.deepEqual(s.world, { width: 16000, height: 12000 });
  // A malformed one changes nothing; a new connection starts from the default again.
  assert.deepEqual(s.handleMessage(worldPacket(-1, 5), 0), []);
  assert.deepEqual(s.world, { width: 16000, height: 12000 });
  s.reset();
  assert.deepEqual(s.world, { width: WORLD_WIDTH, height: WORLD_HEIGHT });
});

test('a World packet before login is ignored', () => {
  const s = new GameSession(() => true);
  assert.deepEqual(s.handleMessage(worldPacket(16000, 16000), 0), []);
  assert.deepEqual(s.world, { width: WORLD_WIDTH, height: WORLD_HEIGHT });
});

test('a World packet right after the own model leaves the own actor as it was', () => {
  const { s } = loggedIn();
  s.handleMessage(worldPacket(16000, 16000), 0);
  assert.equal(s.ownId, 5);
  assert.equal(s.ownName, 'alice');
  assert.equal(s.store.size, 1);
});

// A cmmo.v2 Moves frame of kind 1: [id, x, y] records as little-endian u32, x and y in hundredths.
function movesFrame(moves) {
  const buffer = new ArrayBuffer(1 + 12 * moves.length);
  const view = new DataView(buffer);
  view.setUint8(0, 1);
  moves.forEach(([id, x, y], i) => {
    view.setUint32(1 + 12 * i, id, true);
    view.setUint32(5 + 12 * i, Math.round(x * 100), true);
    view.setUint32(9 + 12 * i, Math.round(y * 100), true);
  });
  return buffer;
}

// The same as kind 2, scale s: [id, x, y] records as u32 id and u16 x, y in 2^-s px.
function shortMovesFrame(moves, scale) {
  const buffer = new ArrayBuffer(2 + 8 * moves.length);
  const view = new DataView(buffer);
  view.setUint8(0, 2);
  view.setUint8(1, scale);
  moves.forEach(([id, x, y], i) => {
    view.setUint32(2 + 8 * i, id, true);
    view.setUint16(6 + 8 * i, Math.round(x * (1 << scale)), true);
    view.setUint16(8 + 8 * i, Math.round(y * (1 << scale)), true);
  });
  return buffer;
}

test('a Moves frame of kind 2 means what the same frame of kind 1 means', () => {
  const short = loggedIn().s;
  const long = loggedIn().s;
  for (const s of [short, long]) s.handleMessage(delta(fullActor(6, 'bob', 1, 0, 0)), 1000);
  for (let i = 1; i <= 4; i++) {
    const now = 1000 + 50 * i;
    assert.deepEqual(short.handleBinary(shortMovesFrame([[6, 3.5 * i, 1343.75]], 5), now), []);
    long.handleBinary(movesFrame([[6, 3.5 * i, 1343.75]]), now);
  }
  assert.deepEqual(short.actorsAt(1300), long.actorsAt(1300));
  assert.deepEqual(short.motion.get(6).latest(), { x: 14, y: 1343.75 });
});

test('a Moves frame applies each record as the Move it means', () => {
  const framed = loggedIn().s;
  const single = loggedIn().s;
  for (const s of [framed, single]) {
    s.handleMessage(delta(fullActor(6, 'bob', 1, 0, 0)), 1000);
    s.handleMessage(delta(fullActor(7, 'carol', 2, 100, 100)), 1000);
  }
  for (let i = 1; i <= 4; i++) {
    const now = 1000 + 50 * i;
    assert.deepEqual(framed.handleBinary(movesFrame([[6, 3.5 * i, 0], [7, 100, 100 + 3.5 * i]]), now), []);
    single.handleMessage(compactMove(6, 3.5 * i, 0), now);
    single.handleMessage(compactMove(7, 100, 100 + 3.5 * i), now);
  }
  assert.deepEqual(framed.actorsAt(1300), single.actorsAt(1300));
  assert.deepEqual(framed.store.get(7), single.store.get(7));
});

test('a binary message that is not a whole Moves frame is ignored', () => {
  const { s } = loggedIn();
  s.handleMessage(delta(fullActor(6, 'bob', 1, 0, 0)), 1000);
  const bad = new Uint8Array([1, 6, 0, 0, 0, 1]).buffer; // a record cut short
  assert.deepEqual(s.handleBinary(bad, 1050), []);
  const other = new Uint8Array([3]).buffer; // an unknown kind
  assert.deepEqual(s.handleBinary(other, 1050), []);
  const noScale = new Uint8Array([2]).buffer; // kind 2 without its scale byte
  assert.deepEqual(s.handleBinary(noScale, 1050), []);
  const badScale = new Uint8Array([2, 7, 6, 0, 0, 0, 1, 0, 1, 0]).buffer; // scale above 6
  assert.deepEqual(s.handleBinary(badScale, 1050), []);
  const cut = new Uint8Array([2, 5, 6, 0, 0, 0, 1, 0, 1]).buffer; // a record cut short
  assert.deepEqual(s.handleBinary(cut, 1050), []);
  assert.deepEqual(s.motion.get(6).latest(), { x: 0, y: 0 });
});
