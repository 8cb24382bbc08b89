// The movement encoding against the real server: the page offers the cmmo.v2 subprotocol and the
// server accepts it, so movement arrives as compact Move packets; a client that offers nothing
// (as the tutorial's Godot client) gets legacy movement ModelDeltas. Both kinds of client share
// one world and each sees the other walk. And against a server that ignores the offer (an older
// cmmo, played here by a proxy that strips it), the page falls back to a plain handshake.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { BASE_URL, launchBrowser, openGame, uniqueName, registerAndEnter, snapshot } from './helpers.mjs';

let browser;
let compact; // a page as served: offers cmmo.v2
let legacy; // the same page with a WebSocket that offers no subprotocol
const COMPACT = uniqueName('v2');
const LEGACY = uniqueName('legacy');

// Counts what the page receives on its WebSockets: packets by action, and movement ModelDeltas
// (an actor's position without its entity, which only a full model carries).
function countReceived(page) {
  page.received = { byAction: {}, movementDeltas: 0 };
  page.on('websocket', (ws) => {
    ws.on('framereceived', ({ payload }) => {
      if (typeof payload !== 'string') {
        // cmmo.v2's binary Moves frame: kind 1 (then 12-byte records) or kind 2 (a scale byte,
        // then 8-byte records), one record per move.
        const bytes = Buffer.from(payload);
        const [head, record] = bytes[0] === 1 ? [1, 12] : bytes[0] === 2 ? [2, 8] : [0, 0];
        if (head && bytes.length >= head && (bytes.length - head) % record === 0) {
          const counts = page.received;
          counts.movesFrames = (counts.movesFrames ?? 0) + 1;
          counts.byAction.Move = (counts.byAction.Move ?? 0) + (bytes.length - head) / record;
        }
        return;
      }
      let packet;
      try {
        packet = JSON.parse(payload);
      } catch {
        return;
      }
      const counts = page.received;
      counts.byAction[packet.a] = (counts.byAction[packet.a] ?? 0) + 1;
      const ie = packet.a === 'ModelDelta' ? packet.p0?.instanced_entity : undefined;
      if (ie && 'x' in ie && !('entity' in ie)) counts.movementDeltas++;
    });
  });
}

// A WebSocket that drops the subprotocols the page asks for: the handshake a legacy client makes.
function offerNoSubprotocol() {
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(url) {
      super(url);
    }
  };
}

before(async () => {
  browser = await launchBrowser();
  compact = await openGame(await browser.newContext({ viewport: { width: 1024, height: 600 } }), undefined, {
    setup: countReceived,
  });
  legacy = await openGame(await browser.newContext({ viewport: { width: 1024, height: 600 } }), undefined, {
    setup: async (page) => {
      await page.addInitScript(offerNoSubprotocol);
      countReceived(page);
    },
  });
});
after(async () => {
  await browser?.close();
});

// Clicks `dx, dy` px away from the own player on `walker` and waits until `watcher` draws it there.
async function walkAndWatch(walker, walkerName, watcher, dx, dy) {
  const s = await snapshot(walker);
  const own = s.actors.find((a) => a.own);
  const target = { x: Math.max(40, Math.min(own.x + dx, 1300)), y: Math.max(40, Math.min(own.y + dy, 800)) };
  await walker.mouse.click(target.x - s.camera.x, target.y - s.camera.y);
  await watcher.waitForFunction(
    ([name, x, y]) => {
      const a = window.cmmo.snapshot().actors.find((b) => b.name === name);
      return a && Math.hypot(a.x - x, a.y - y) < 1 && Math.hypot(a.serverX - x, a.serverY - y) < 1;
    },
    [walkerName, target.x, target.y],
    { timeout: 15000 },
  );
}

test('the page negotiates cmmo.v2 with the server', async () => {
  const s = await snapshot(compact);
  assert.equal(s.protocol, 'cmmo.v2');
  assert.equal(await compact.getAttribute('#app', 'data-protocol'), 'cmmo.v2');
});

test('a client that offers no subprotocol speaks the legacy protocol', async () => {
  assert.equal((await snapshot(legacy)).protocol, 'legacy');
  assert.equal(await legacy.getAttribute('#app', 'data-protocol'), 'legacy');
});

test('a cmmo.v2 player and a legacy player see each other walk', async () => {
  await registerAndEnter(compact, COMPACT, 'v2-pw', 3);
  await registerAndEnter(legacy, LEGACY, 'legacy-pw', 5);
  assert.equal((await waitForOther(compact, LEGACY)).avatar, 5);
  assert.equal((await waitForOther(legacy, COMPACT)).avatar, 3);
  await walkAndWatch(compact, COMPACT, legacy, 70, 40);
  await walkAndWatch(legacy, LEGACY, compact, -60, 50);
  assert.deepEqual(compact.errors, []);
  assert.deepEqual(legacy.errors, []);
});

test('movement reaches the cmmo.v2 page in binary Moves frames and the legacy page as ModelDeltas', () => {
  const v2 = compact.received;
  const old = legacy.received;
  assert.ok((v2.byAction.Move ?? 0) > 10, `the cmmo.v2 page got ${v2.byAction.Move ?? 0} moves`);
  assert.ok((v2.movesFrames ?? 0) > 0, 'the moves came in binary Moves frames');
  assert.equal(v2.movementDeltas, 0, 'the cmmo.v2 page got movement as ModelDeltas');
  assert.ok(old.movementDeltas > 10, `the legacy page got ${old.movementDeltas} movement ModelDeltas`);
  assert.equal(old.byAction.Move ?? 0, 0, 'the legacy page got Move packets');
});

// A TCP proxy to the server under test that removes Sec-WebSocket-Protocol from every request, so
// the server answers as one that does not know cmmo.v2. Records each WebSocket upgrade's offer
// (null when it had none) in `offers`. Requests have no bodies here: a head ends at the blank line.
function startOfferStrippingProxy(target) {
  const offers = [];
  const sockets = new Set();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    upstream.pipe(client);
    let pending = Buffer.alloc(0);
    const onRequestBytes = (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      for (let end; (end = pending.indexOf('\r\n\r\n')) >= 0; ) {
        const head = pending.subarray(0, end + 4).toString('latin1');
        pending = pending.subarray(end + 4);
        const offer = head.match(/^sec-websocket-protocol:\s*([^\r]*)\r\n/im);
        upstream.write(Buffer.from(head.replace(/^sec-websocket-protocol:[^\r]*\r\n/gim, ''), 'latin1'));
        if (/^upgrade:\s*websocket\s*$/im.test(head)) {
          offers.push(offer ? offer[1] : null);
          client.off('data', onRequestBytes); // WebSocket frames from here on: pass them through
          if (pending.length > 0) upstream.write(pending);
          client.pipe(upstream);
          return;
        }
      }
    };
    client.on('data', onRequestBytes);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        url: `http://127.0.0.1:${server.address().port}/`,
        offers,
        close: () => {
          for (const s of sockets) s.destroy();
          return new Promise((done) => server.close(done));
        },
      });
    });
  });
}

test('against a server that ignores the cmmo.v2 offer, the page falls back to a plain handshake and plays', async () => {
  const proxy = await startOfferStrippingProxy(new URL(BASE_URL));
  const context = await browser.newContext({ viewport: { width: 1024, height: 600 } });
  try {
    const page = await openGame(context, proxy.url, { setup: countReceived });
    assert.equal((await snapshot(page)).protocol, 'legacy');
    assert.deepEqual(proxy.offers, ['cmmo.v2', null], 'offered cmmo.v2 first, then nothing');
    const name = uniqueName('old');
    await registerAndEnter(page, name, 'old-pw', 1);
    await waitForOther(page, COMPACT);
    await walkAndWatch(compact, COMPACT, page, 40, -50);
    assert.equal(page.received.byAction.Move ?? 0, 0);
    assert.ok(page.received.movementDeltas > 5, `got ${page.received.movementDeltas} movement ModelDeltas`);
    assert.deepEqual(page.errors, []);
  } finally {
    await context.close();
    await proxy.close();
  }
});

async function waitForOther(page, name) {
  await page.waitForFunction((n) => window.cmmo.snapshot().actors.some((a) => a.name === n), name, { timeout: 15000 });
  return (await snapshot(page)).actors.find((a) => a.name === name);
}
