// One player's session: the LOGIN -> PLAY state machine of the protocol, the actors it knows and
// how each one moves on screen. No DOM and no socket: `send` is injected, messages come in through
// handleMessage(), and what the page must show comes back as a list of events.

import { Action, decodePacket, decodeMove, decodeMoves, decodeWorld, loginPacket, registerPacket, chatPacket, targetPacket } from './protocol.js';
import { ActorStore, actorName, actorPosition, actorAvatar } from './model.js';
import { Predictor, Interpolator } from './motion.js';
import { DEFAULT_WORLD } from './camera.js';
import { resumePacket, v2Events } from './v2.js';

// The server cuts chat to 256 code points (docs/PROTOCOL.md, Chat); cut here too, so the line the
// sender sees is the line the others get.
export const CHAT_MAX_CHARS = 256;

// The server drops chat lines beyond 2 a second with bursts of 10 (docs/PROTOCOL.md, Limits).
// The sender prints its own line locally, so the client keeps the same budget: a line it
// could not deliver is never shown as said.
export const CHAT_RATE_PER_SECOND = 2;
export const CHAT_BURST = 10;
// The server relays `[` and `]` as full-width brackets so the Godot client's BBCode chat log
// cannot be injected (docs/PROTOCOL.md, Chat). This page shows chat as plain text, so it turns
// them back: fonts without CJK glyphs would otherwise draw empty boxes.
export function plainBrackets(text) {
  return text.replace(/\uFF3B/g, '[').replace(/\uFF3D/g, ']');
}

export const CHAT_TOO_FAST = 'You are chatting too fast; wait a moment.';

export const State = Object.freeze({ LOGIN: 'login', PLAY: 'play' });

export class GameSession {
  // send(text): writes one packet; returns false when it could not (socket not open).
  constructor(send) {
    this.send = send;
    this.reset();
  }

  // Back to a fresh LOGIN state (a new connection).
  reset() {
    this.state = State.LOGIN;
    this.pending = null; // 'register' | 'login' while waiting for Ok/Deny
    this.awaitingOwnActor = false;
    this.ownId = null;
    this.store = new ActorStore();
    this.motion = new Map(); // actor id -> Predictor (own) or Interpolator (others)
    this.chatTokens = CHAT_BURST;
    this.chatRefilled = null;
    // The world's size ({width, height}): the default map until a cmmo.v2 server says otherwise.
    this.world = DEFAULT_WORLD;
  }

  register(username, password, avatarId) {
    if (this.state !== State.LOGIN) return false;
    if (!this.send(registerPacket(username, password, avatarId))) return false;
    this.pending = 'register';
    return true;
  }

  login(username, password) {
    if (this.state !== State.LOGIN) return false;
    if (!this.send(loginPacket(username, password))) return false;
    this.pending = 'login';
    return true;
  }

  // cmmo.v2: logs in with a resume token instead of the password (answered like a Login).
  resume(username, token) {
    if (this.state !== State.LOGIN) return false;
    if (!this.send(resumePacket(username, token))) return false;
    this.pending = 'resume';
    return true;
  }

  get ownActor() {
    return this.ownId === null ? undefined : this.store.get(this.ownId);
  }

  get ownName() {
    return actorName(this.ownActor);
  }

  // Sends a chat message at `now` (ms). Returns the line to print locally ({name, message}; the
  // server does not echo it back), {error} when it is over the chat rate, or null when there was
  // nothing to send.
  sendChat(text, now) {
    if (this.state !== State.PLAY) return null;
    const message = Array.from(String(text).replace(/[\u0000-\u001f\u007f-\u009f]/g, '').trim())
      .slice(0, CHAT_MAX_CHARS)
      .join('');
    if (message === '') return null;
    if (this.chatRefilled !== null) {
      const refill = ((now - this.chatRefilled) / 1000) * CHAT_RATE_PER_SECOND;
      this.chatTokens = Math.min(CHAT_BURST, this.chatTokens + Math.max(0, refill));
    }
    this.chatRefilled = now;
    if (this.chatTokens < 1) return { error: CHAT_TOO_FAST };
    if (!this.send(chatPacket(this.ownName, message))) return null;
    this.chatTokens -= 1;
    return { name: this.ownName, message };
  }

  // A click or tap on the world point (x, y): the own player starts walking there at once.
  sendTarget(x, y) {
    if (this.state !== State.PLAY || !Number.isFinite(x) || !Number.isFinite(y)) return false;
    if (!this.send(targetPacket(x, y))) return false;
    const own = this.motion.get(this.ownId);
    if (own) own.setTarget(x, y);
    return true;
  }

  // Handles one message from the server, received at `now` (ms). Returns the events for the page:
  //   {type:'registered'} {type:'logged-in'} {type:'denied', reason}
  //   {type:'own-actor', id, name} {type:'actor-joined', id, name} {type:'actor-left', id, name}
  //   {type:'chat', name, message} {type:'world', width, height}
  //   and cmmo.v2's (v2.js): {type:'token'|'players'|'joined'|'left'|'pong', ...}
  handleMessage(text, now) {
    const packet = decodePacket(text);
    if (!packet) return [];
    const [p0, p1] = packet.payloads;
    switch (packet.action) {
      case Action.OK:
        return this.onOk();
      case Action.DENY: {
        if (this.pending === null) return [];
        this.pending = null;
        return [{ type: 'denied', reason: typeof p0 === 'string' ? p0 : 'Denied' }];
      }
      case Action.MODEL_DELTA:
        return this.state === State.PLAY ? this.onModelDelta(p0, now) : [];
      case Action.MOVE: {
        // cmmo.v2's movement delta. Accepted on any connection: a legacy server never sends it.
        const move = this.state === State.PLAY ? decodeMove(p0) : null;
        return move ? this.onActorMerged(this.store.move(move.id, move.x, move.y), now) : [];
      }
      case Action.WORLD: {
        // cmmo.v2's world size. Accepted on any connection like Move: a legacy server never sends it.
        const world = this.state === State.PLAY ? decodeWorld(p0, p1) : null;
        if (!world) return [];
        this.world = Object.freeze(world);
        return [{ type: 'world', ...world }];
      }
      case Action.DISCONNECT: {
        if (this.state !== State.PLAY || !Number.isInteger(p0) || p0 === this.ownId) return [];
        const actor = this.store.remove(p0);
        this.motion.delete(p0);
        return actor ? [{ type: 'actor-left', id: p0, name: actorName(actor) }] : [];
      }
      case Action.CHAT:
        if (this.state !== State.PLAY || typeof p1 !== 'string') return [];
        return [{ type: 'chat', name: typeof p0 === 'string' ? p0 : '?', message: plainBrackets(p1) }];
      default:
        // cmmo.v2's sessions: tokens, who is around, Pong (v2.js). A legacy server sends none.
        return v2Events(packet, now);
    }
  }

  // Handles one binary message (cmmo.v2's Moves frame: a tick's movement), received at `now` (ms).
  // Each move is what a Move packet means. Returns the events for the page, as handleMessage.
  handleBinary(buffer, now) {
    const moves = this.state === State.PLAY ? decodeMoves(buffer) : null;
    if (!moves) return [];
    const events = [];
    for (const move of moves) events.push(...this.onActorMerged(this.store.move(move.id, move.x, move.y), now));
    return events;
  }

  onOk() {
    const request = this.pending;
    this.pending = null;
    if (request === 'register') return [{ type: 'registered' }];
    if (request === 'login' || request === 'resume') {
      this.state = State.PLAY;
      this.awaitingOwnActor = true;
      return [{ type: 'logged-in' }];
    }
    return [];
  }

  onModelDelta(delta, now) {
    return this.onActorMerged(this.store.apply(delta), now);
  }

  // What follows a merge into the store (a ModelDelta or a Move, so both drive prediction,
  // interpolation and the rubber band alike): events for new actors, and the motion update.
  onActorMerged(result, now) {
    if (!result) return [];
    const events = [];
    const { id, actor, created } = result;
    if (created && this.awaitingOwnActor) {
      // The server guarantees the first ModelDelta after Ok is the player's own actor.
      this.awaitingOwnActor = false;
      this.ownId = id;
      events.push({ type: 'own-actor', id, name: actorName(actor) });
    } else if (created) {
      events.push({ type: 'actor-joined', id, name: actorName(actor) });
    }
    const position = actorPosition(actor);
    if (position) {
      const motion = this.motion.get(id);
      if (!motion) {
        this.motion.set(
          id,
          id === this.ownId ? new Predictor(position.x, position.y, now) : new Interpolator(position.x, position.y, now),
        );
      } else if (result.moved) {
        if (motion instanceof Predictor) motion.onServerPosition(position.x, position.y, now);
        else motion.push(position.x, position.y, now);
      }
    }
    return events;
  }

  // Where every actor is drawn at `now`, the own player last (on top). Steps the prediction.
  // Returns [{id, name, avatar, x, y, vx, vy, own}].
  actorsAt(now) {
    const views = [];
    let ownView = null;
    for (const [id, actor] of this.store.actors) {
      const motion = this.motion.get(id);
      if (!motion) continue;
      const own = id === this.ownId;
      const p = own ? motion.step(now) : motion.sample(now);
      const view = { id, name: actorName(actor), avatar: actorAvatar(actor), x: p.x, y: p.y, vx: p.vx, vy: p.vy, own };
      if (own) ownView = view;
      else views.push(view);
    }
    views.sort((a, b) => a.y - b.y); // lower on screen is nearer: drawn later
    if (ownView) views.push(ownView);
    return views;
  }
}
