// The client's copy of the server's models (docs/PROTOCOL.md, section 4), built from ModelDelta
// packets. A delta is a partial dict: nested dicts merge key by key, anything else replaces.

// Avatars the client can draw: 0..5, as offered at registration.
export const AVATAR_COUNT = 6;

function isPlainObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

// Merges `delta` into `target` recursively (dicts merge, other values replace) and returns target.
// Values are copied, so later changes to the delta do not reach the model.
export function mergeModel(target, delta) {
  for (const [key, value] of Object.entries(delta)) {
    if (key === '__proto__') continue; // JSON.parse makes it an own key; never let it reach a prototype
    if (isPlainObject(value)) {
      if (!isPlainObject(target[key])) target[key] = {};
      mergeModel(target[key], value);
    } else {
      target[key] = Array.isArray(value) ? structuredClone(value) : value;
    }
  }
  return target;
}

// The display name of an actor model, or '' while it is not known yet.
export function actorName(actor) {
  const name = actor?.instanced_entity?.entity?.name;
  return typeof name === 'string' ? name : '';
}

// The position of an actor model as {x, y}, or null unless both are finite numbers.
export function actorPosition(actor) {
  const ie = actor?.instanced_entity;
  if (!isPlainObject(ie)) return null;
  const { x, y } = ie;
  if (typeof x !== 'number' || typeof y !== 'number' || !Number.isFinite(x) || !Number.isFinite(y)) return null;
  return { x, y };
}

// The avatar to draw: the model's avatar_id when it is one the client has, else 0.
export function actorAvatar(actor) {
  const id = actor?.avatar_id;
  return Number.isInteger(id) && id >= 0 && id < AVATAR_COUNT ? id : 0;
}

// Every actor the client knows, keyed by the top-level actor id.
export class ActorStore {
  constructor() {
    this.actors = new Map();
  }

  // Applies one ModelDelta payload. Returns {id, actor, created, moved} or null when the payload
  // is not an actor dict with an integer id. `moved` is true when the delta carried x or y.
  apply(delta) {
    if (!isPlainObject(delta) || !Number.isInteger(delta.id)) return null;
    if (delta.model_type !== undefined && delta.model_type !== 'Actor') return null;
    const id = delta.id;
    let actor = this.actors.get(id);
    const created = actor === undefined;
    if (created) {
      actor = {};
      this.actors.set(id, actor);
    }
    mergeModel(actor, delta);
    const ie = delta.instanced_entity;
    const moved = isPlainObject(ie) && ('x' in ie || 'y' in ie);
    return { id, actor, created, moved };
  }

  // Applies one cmmo.v2 Move: the known actor `id` is now at (x, y), exactly what a movement
  // ModelDelta merges. Returns the same shape as apply() ({id, actor, created: false, moved: true}),
  // or null when the actor is not known (no full model yet): a Move never creates an actor.
  move(id, x, y) {
    const actor = this.actors.get(id);
    if (actor === undefined) return null;
    mergeModel(actor, { instanced_entity: { x, y } });
    return { id, actor, created: false, moved: true };
  }

  get(id) {
    return this.actors.get(id);
  }

  // Removes an actor; returns its model, or undefined when it was not known.
  remove(id) {
    const actor = this.actors.get(id);
    this.actors.delete(id);
    return actor;
  }

  clear() {
    this.actors.clear();
  }

  get size() {
    return this.actors.size;
  }
}
