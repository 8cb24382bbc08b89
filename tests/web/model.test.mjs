import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeModel, ActorStore, actorName, actorPosition, actorAvatar } from '../../web/js/model.js';

const ALICE = {
  id: 1, user: 1, avatar_id: 2, model_type: 'Actor',
  instanced_entity: { id: 1, x: 0.0, y: 0.0, model_type: 'InstancedEntity', entity: { id: 1, name: 'alice', model_type: 'Entity' } },
};

test('mergeModel merges nested dicts and replaces other values', () => {
  const model = structuredClone(ALICE);
  mergeModel(model, { id: 1, model_type: 'Actor', instanced_entity: { id: 1, model_type: 'InstancedEntity', x: 3.5, y: 1.75 } });
  assert.equal(model.instanced_entity.x, 3.5);
  assert.equal(model.instanced_entity.y, 1.75);
  assert.equal(model.instanced_entity.entity.name, 'alice');
  assert.equal(model.avatar_id, 2);
});

test('mergeModel copies: later changes to the delta do not reach the model', () => {
  const delta = { id: 1, instanced_entity: { x: 1 }, list: [1, 2] };
  const model = mergeModel({}, delta);
  delta.instanced_entity.x = 99;
  delta.list.push(3);
  assert.equal(model.instanced_entity.x, 1);
  assert.deepEqual(model.list, [1, 2]);
});

test('mergeModel ignores __proto__ keys from JSON', () => {
  const model = mergeModel({}, JSON.parse('{"__proto__":{"polluted":true},"id":1}'));
  assert.equal(model.id, 1);
  assert.equal({}.polluted, undefined);
  assert.equal(model.polluted, undefined);
});

test('accessors read name, position and avatar', () => {
  assert.equal(actorName(ALICE), 'alice');
  assert.deepEqual(actorPosition(ALICE), { x: 0, y: 0 });
  assert.equal(actorAvatar(ALICE), 2);
});

test('accessors are safe on partial or wrong models', () => {
  assert.equal(actorName({}), '');
  assert.equal(actorName(undefined), '');
  assert.equal(actorPosition({ instanced_entity: { x: 1 } }), null);
  assert.equal(actorPosition({ instanced_entity: { x: 1, y: 'a' } }), null);
  assert.equal(actorPosition({ instanced_entity: { x: NaN, y: 1 } }), null);
  assert.equal(actorAvatar({ avatar_id: 9 }), 0);
  assert.equal(actorAvatar({ avatar_id: '3' }), 0);
  assert.equal(actorAvatar({ avatar_id: 5 }), 5);
});

test('ActorStore creates on the first delta and updates on later ones', () => {
  const store = new ActorStore();
  const first = store.apply(structuredClone(ALICE));
  assert.equal(first.created, true);
  assert.equal(first.id, 1);
  const second = store.apply({ id: 1, model_type: 'Actor', instanced_entity: { id: 1, model_type: 'InstancedEntity', x: 10, y: 20 } });
  assert.equal(second.created, false);
  assert.equal(second.moved, true);
  assert.deepEqual(actorPosition(store.get(1)), { x: 10, y: 20 });
  assert.equal(actorName(store.get(1)), 'alice');
  assert.equal(store.size, 1);
});

test('ActorStore keys actors by the top-level id, not the nested ids', () => {
  const store = new ActorStore();
  store.apply({ ...structuredClone(ALICE), id: 7 });
  assert.ok(store.get(7));
  assert.equal(store.get(1), undefined);
});

test('ActorStore rejects payloads that are not actors', () => {
  const store = new ActorStore();
  for (const bad of [null, 'x', [], {}, { id: 'a' }, { id: 1.5 }, { id: 2, model_type: 'Entity' }]) {
    assert.equal(store.apply(bad), null, JSON.stringify(bad));
  }
  assert.equal(store.size, 0);
});

test('ActorStore.remove returns the model for the leave line', () => {
  const store = new ActorStore();
  store.apply(structuredClone(ALICE));
  assert.equal(actorName(store.remove(1)), 'alice');
  assert.equal(store.remove(1), undefined);
  assert.equal(store.size, 0);
});

test('ActorStore.move sets the position of a known actor as a movement delta would', () => {
  const viaMove = new ActorStore();
  const viaDelta = new ActorStore();
  viaMove.apply(structuredClone(ALICE));
  viaDelta.apply(structuredClone(ALICE));
  const result = viaMove.move(1, 12.25, 40);
  viaDelta.apply({ id: 1, model_type: 'Actor', instanced_entity: { id: 1, model_type: 'InstancedEntity', x: 12.25, y: 40 } });
  assert.deepEqual(result, { id: 1, actor: viaMove.get(1), created: false, moved: true });
  assert.deepEqual(viaMove.get(1), viaDelta.get(1));
  assert.equal(actorName(viaMove.get(1)), 'alice');
});

test('ActorStore.move of an unknown actor does nothing and returns null', () => {
  const store = new ActorStore();
  store.apply(structuredClone(ALICE));
  assert.equal(store.move(2, 5, 5), null);
  assert.equal(store.get(2), undefined);
  assert.equal(store.size, 1);
  assert.deepEqual(actorPosition(store.get(1)), { x: 0, y: 0 });
});
