// The page: wires the DOM, the WebSocket, the session and the renderer together.
// Game logic lives in session.js / motion.js / model.js (unit tested); drawing in render.js.

import { GameSession, State } from './session.js';
import { gameSocketUrl, negotiatedProtocol, OFFERED_SUBPROTOCOLS } from './protocol.js';
import { Renderer } from './render.js';
import { cameraOrigin, screenToWorld, WORLD_WIDTH, WORLD_HEIGHT } from './camera.js';
import { avatarSprite, AVATARS, SPRITE_WIDTH, SPRITE_HEIGHT } from './sprites.js';
import {
  Bubbles,
  clearResume,
  loadResume,
  logoutPacket,
  pingPacket,
  reconnectDelay,
  RECONNECT_ATTEMPTS,
  resumeRetryable,
  RESUME_DENIED,
  Roster,
  saveResume,
} from './v2.js';
import { drawOverlay } from './overlay.js';

const $ = (id) => document.getElementById(id);

// A Register or Login the server has not answered in this long is reported, not waited on forever.
const REQUEST_TIMEOUT_MS = 15000;
// Older chat lines are dropped: the log is for the conversation, not an archive.
const CHAT_LOG_MAX_LINES = 200;
// While a finger or the mouse is held down and dragged, the target follows at most this often.
const DRAG_TARGET_INTERVAL_MS = 100;
// A cmmo.v2 Ping this often gives the latency figure; 0.5 of the server's 40 messages a second.
const PING_INTERVAL_MS = 2000;
// Chat lines kept for a reload (sessionStorage: this tab only, gone when it closes).
const CHAT_HISTORY_KEY = 'cmmo.chat';
const CHAT_HISTORY_MAX = 50;
// How many reconnect attempts before the Reconnect button: ?reconnect-attempts=N (0 to 20) for
// tests that cannot wait a minute; the default is about a minute of attempts.
const RECONNECT_MAX = (() => {
  const n = Number(new URLSearchParams(location.search).get('reconnect-attempts'));
  return Number.isInteger(n) && n > 0 && n <= 20 ? n : RECONNECT_ATTEMPTS;
})();

const ui = {
  app: $('app'),
  canvas: $('world'),
  loginScreen: $('login-screen'),
  loginForm: $('login-form'),
  subtitle: $('login-subtitle'),
  username: $('username'),
  password: $('password'),
  picker: $('avatar-picker'),
  preview: $('avatar-preview'),
  avatarName: $('avatar-name'),
  avatarStrip: $('avatar-strip'),
  message: $('login-message'),
  loginButtons: document.querySelector('.buttons:not(.register-buttons)'),
  registerButtons: document.querySelector('.register-buttons'),
  hud: $('hud'),
  hudName: $('hud-name'),
  hudOnline: $('hud-online'),
  chat: $('chat'),
  chatLog: $('chat-log'),
  chatForm: $('chat-form'),
  chatInput: $('chat-input'),
  overlay: $('connection-overlay'),
  overlayTitle: $('connection-title'),
  overlayMessage: $('connection-message'),
  reconnect: $('reconnect-button'),
  corner: $('corner'),
  latency: $('latency'),
  playersButton: $('players-button'),
  playersPanel: $('players-panel'),
  playersList: $('players-list'),
  playersMore: $('players-more'),
  logout: $('logout-button'),
  banner: $('reconnect-banner'),
  chatToggle: $('chat-toggle'),
};

let socket = null;
let everOpened = false; // whether the current socket reached OPEN (for the right error text)
let protocol = null; // what the open socket speaks: 'cmmo.v2' | 'legacy'; null while none is open
let pendingAction = null; // what to send once the socket opens
let requestTimer = null;
let credentials = null; // the last login that worked, in memory only: Reconnect logs in again with it
let reconnecting = false;
let screen = 'login'; // 'login' | 'world'
let mode = 'login'; // the login form: 'login' | 'register'
let avatar = 0;
let origin = { x: 0, y: 0 };
let dragging = false;
let lastDragTarget = 0;
// cmmo.v2 (v2.js): who is around, chat bubbles, the latency figure, the automatic reconnect.
const roster = new Roster();
const bubbles = new Bubbles();
let latencyMs = null;
let lastRequest = null; // 'login' | 'register' | 'resume': what the pending Ok/Deny answers
// The automatic reconnect: attempts so far, the wait for the next, how many it made before it
// last gave up (for the message beside the Reconnect button).
const retry = { attempt: 0, timer: null, gaveUpAfter: 0 };
let chatHistory = [];
let overlay = { bubbles: [], arrows: [] }; // what the last frame drew over the world

const session = new GameSession((text) => {
  if (!socket || socket.readyState !== WebSocket.OPEN) return false;
  socket.send(text);
  return true;
});
const renderer = new Renderer(ui.canvas);

// ---- Connection -------------------------------------------------------------------------------

// Opens a new connection. A browser fails a handshake that offered subprotocols when the server
// answers with none (WHATWG fetch, "establish a WebSocket connection"; RFC 6455 would allow it),
// so a server older than cmmo.v2 cannot be reached with the offer: when a socket that offered
// cmmo.v2 closes before it opened, one plain handshake follows at once. (A server that is down
// fails both; the browser cannot tell the two failures apart.)
function connect({ offerV2 = true } = {}) {
  if (socket) {
    const old = socket;
    old.onopen = old.onmessage = old.onclose = old.onerror = null;
    old.close();
  }
  session.reset();
  everOpened = false;
  setProtocol(null);
  const ws = offerV2 ? new WebSocket(gameSocketUrl(location), OFFERED_SUBPROTOCOLS) : new WebSocket(gameSocketUrl(location));
  socket = ws;
  ws.onopen = () => {
    if (socket !== ws) return;
    everOpened = true;
    setProtocol(negotiatedProtocol(ws.protocol));
    sendPing();
    const action = pendingAction;
    pendingAction = null;
    if (action) action();
  };
  ws.binaryType = 'arraybuffer'; // cmmo.v2's Moves frames
  ws.onmessage = (event) => {
    if (socket !== ws) return;
    if (typeof event.data === 'string') handleEvents(session.handleMessage(event.data, performance.now()));
    else if (event.data instanceof ArrayBuffer) handleEvents(session.handleBinary(event.data, performance.now()));
  };
  ws.onclose = () => {
    if (socket !== ws) return;
    socket = null;
    setProtocol(null);
    if (offerV2 && !everOpened) {
      connect({ offerV2: false }); // keeps pendingAction: the Login or Register goes out on the retry
      return;
    }
    connectionLost();
  };
}

// Shown as data-protocol on #app for the browser tests and for a look in the inspector.
function setProtocol(next) {
  protocol = next;
  if (next === null) {
    latencyMs = null;
    ui.latency.textContent = '';
    roster.reset();
  }
  if (next === null) delete ui.app.dataset.protocol;
  else ui.app.dataset.protocol = next;
}

function connectionLost() {
  const waiting = requestTimer !== null || pendingAction !== null;
  clearRequestTimer();
  pendingAction = null;
  setBusy(false);
  const host = location.host;
  // In the world, or coming back with a stored token: try again by ourselves, with backoff, and
  // show the Reconnect button only when that gives up.
  if ((screen === 'world' || lastRequest === 'resume') && !reconnecting && scheduleReconnect()) return;
  // On the login screen with nothing asked, a dropped idle connection is not news: the next
  // Login or Register connects again.
  if (screen === 'login' && !reconnecting && !waiting && everOpened) return;
  if (screen === 'world' || reconnecting) {
    const tries = retry.gaveUpAfter;
    retry.gaveUpAfter = 0;
    showOverlay('Connection lost', reconnecting
      ? `Still cannot reach the server at ${host}. Check your connection and try again.`
      : tries > 0
        ? `Could not reconnect to the server at ${host} (${tries} ${tries === 1 ? 'try' : 'tries'}). Your position is saved.`
        : `The connection to the server at ${host} was closed. Your position is saved.`);
  } else {
    showOverlay('Not connected', everOpened
      ? `The server at ${host} closed the connection.`
      : `Cannot reach the server at ${host}. Is it running?`);
  }
  ui.reconnect.disabled = false;
  reconnecting = false;
}

// Runs `action` (which sends a request) now if the socket is open, else once it opens.
function whenConnected(action) {
  if (socket && socket.readyState === WebSocket.OPEN) {
    action();
    return;
  }
  pendingAction = action;
  if (!socket) connect();
}

function startRequestTimer() {
  clearRequestTimer();
  requestTimer = setTimeout(() => {
    requestTimer = null;
    setBusy(false);
    if (socket) {
      const old = socket;
      socket = null;
      setProtocol(null);
      old.onopen = old.onmessage = old.onclose = old.onerror = null;
      old.close();
    }
    showOverlay('No answer', `The server at ${location.host} did not answer. Try again.`);
    ui.reconnect.disabled = false;
    reconnecting = false;
  }, REQUEST_TIMEOUT_MS);
}

function clearRequestTimer() {
  if (requestTimer !== null) clearTimeout(requestTimer);
  requestTimer = null;
}

function showOverlay(title, message) {
  ui.overlayTitle.textContent = title;
  ui.overlayMessage.textContent = message;
  ui.overlay.hidden = false;
  ui.reconnect.focus();
}

ui.reconnect.addEventListener('click', () => {
  ui.reconnect.disabled = true;
  if (screen === 'world' && canComeBack()) {
    reconnecting = true;
    retry.attempt = 0;
    ui.overlayTitle.textContent = 'Reconnecting…';
    ui.overlayMessage.textContent = `Connecting to ${location.host}`;
    pendingAction = () => {
      if (sendComeback()) startRequestTimer();
    };
    connect();
  } else {
    ui.overlay.hidden = true;
    ui.reconnect.disabled = false;
    showMessage('');
    connect();
    ui.username.focus();
  }
});

// ---- Server events ----------------------------------------------------------------------------

function handleEvents(events) {
  for (const event of events) {
    switch (event.type) {
      case 'registered': {
        showMessage('Account created. Logging in…', 'info');
        const username = ui.username.value;
        const password = ui.password.value;
        lastRequest = 'login';
        if (session.login(username, password)) startRequestTimer();
        else setBusy(false);
        break;
      }
      case 'logged-in': {
        clearRequestTimer();
        const back = reconnecting || retry.attempt > 0 || lastRequest === 'resume';
        if (lastRequest === 'login' && !back) credentials = { username: ui.username.value, password: ui.password.value };
        if (screen === 'world' && back) addSystemLine('Reconnected.');
        else if (lastRequest === 'resume') restoreChatHistory();
        reconnecting = false;
        lastRequest = null;
        stopRetrying();
        ui.overlay.hidden = true;
        ui.reconnect.disabled = false;
        enterWorld();
        break;
      }
      case 'denied':
        clearRequestTimer();
        // Coming back (a token, or the password after a lost connection): some denials are
        // worth another try in a moment; an invalid token asks for the password.
        if ((lastRequest === 'resume' || retry.attempt > 0) && onResumeDenied(event.reason)) break;
        lastRequest = null;
        stopRetrying();
        setBusy(false);
        if (reconnecting || screen === 'world') {
          reconnecting = false;
          ui.overlay.hidden = true;
          ui.reconnect.disabled = false;
          leaveWorld();
        }
        showMessage(event.reason);
        break;
      case 'own-actor':
        ui.hudName.textContent = event.name;
        addSystemLine(
          window.matchMedia('(pointer: coarse)').matches
            ? `Welcome, ${event.name}! Tap the ground to walk.`
            : `Welcome, ${event.name}! Click to walk; press Enter to chat.`,
        );
        break;
      case 'actor-left':
        // cmmo.v2 says who left the world (Left); a Disconnect there may only mean out of view.
        if (!roster.known) addSystemLine(`${event.name || 'Someone'} has disconnected.`);
        break;
      case 'chat':
        addChatLine(event.name, event.message, false);
        bubbles.add(event.name, event.message, performance.now());
        break;
      default:
        handleV2Event(event);
        break;
    }
  }
}

// ---- Login screen -----------------------------------------------------------------------------

function showMessage(text, kind = 'error') {
  ui.message.textContent = text;
  ui.message.classList.toggle('info', kind === 'info');
}

function setBusy(busy) {
  for (const b of ui.loginForm.querySelectorAll('button')) b.disabled = busy;
}

function setMode(next) {
  mode = next;
  const register = mode === 'register';
  ui.picker.hidden = !register;
  ui.loginButtons.hidden = register;
  ui.registerButtons.hidden = !register;
  ui.subtitle.textContent = register ? 'Pick an avatar and register' : 'Log in to enter the world';
  ui.password.autocomplete = register ? 'new-password' : 'current-password';
  showMessage('');
}

ui.loginForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const username = ui.username.value.trim();
  const password = ui.password.value;
  ui.username.value = username;
  showMessage(mode === 'register' ? 'Creating account…' : 'Logging in…', 'info');
  setBusy(true);
  lastRequest = mode === 'register' ? 'register' : 'login';
  whenConnected(() => {
    const sent = mode === 'register' ? session.register(username, password, avatar) : session.login(username, password);
    if (sent) startRequestTimer();
    else setBusy(false);
  });
});

$('register-button').addEventListener('click', () => {
  setMode('register');
  ui.username.focus();
});
$('cancel-register-button').addEventListener('click', () => setMode('login'));

function setAvatar(next) {
  avatar = (next + AVATARS.length) % AVATARS.length;
  ui.avatarName.textContent = `${AVATARS[avatar].name} (${avatar + 1} of ${AVATARS.length})`;
  for (const b of ui.avatarStrip.children) b.setAttribute('aria-checked', String(Number(b.dataset.avatar) === avatar));
  ui.preview.dataset.avatar = String(avatar);
}

$('avatar-prev').addEventListener('click', () => setAvatar(avatar - 1));
$('avatar-next').addEventListener('click', () => setAvatar(avatar + 1));

function buildAvatarStrip() {
  AVATARS.forEach((av, i) => {
    const button = document.createElement('button');
    button.type = 'button';
    button.dataset.avatar = String(i);
    button.setAttribute('role', 'radio');
    button.setAttribute('aria-label', av.name);
    button.title = av.name;
    const c = document.createElement('canvas');
    c.width = SPRITE_WIDTH;
    c.height = SPRITE_HEIGHT;
    c.getContext('2d').drawImage(avatarSprite(i, 'down', 0), 0, 0);
    button.append(c);
    button.addEventListener('click', () => setAvatar(i));
    ui.avatarStrip.append(button);
  });
}

function drawPreview(now) {
  if (ui.picker.hidden) return;
  const ctx = ui.preview.getContext('2d');
  const directions = ['down', 'left', 'up', 'right'];
  const direction = directions[Math.floor(now / 1600) % directions.length];
  const frame = Math.floor(now / 160) % 4;
  ctx.clearRect(0, 0, ui.preview.width, ui.preview.height);
  ctx.imageSmoothingEnabled = false;
  const scale = 1.5;
  const w = SPRITE_WIDTH * scale;
  const h = SPRITE_HEIGHT * scale;
  ctx.fillStyle = 'rgba(0, 0, 0, 0.25)';
  ctx.beginPath();
  ctx.ellipse(ui.preview.width / 2, ui.preview.height - 14, 26, 8, 0, 0, Math.PI * 2);
  ctx.fill();
  ctx.drawImage(avatarSprite(avatar, direction, frame), (ui.preview.width - w) / 2, ui.preview.height - h - 2, w, h);
}

// ---- World ------------------------------------------------------------------------------------

function enterWorld() {
  screen = 'world';
  setBusy(false);
  showMessage('');
  ui.password.value = '';
  ui.loginScreen.hidden = true;
  ui.hud.hidden = false;
  ui.chat.hidden = false;
  ui.corner.hidden = false;
  // A phone held upright starts with the chat on one line: the world is what it came for.
  if (!chatToggled) setChatCollapsed(window.matchMedia('(max-width: 600px) and (orientation: portrait)').matches);
  ui.canvas.focus?.();
}

function leaveWorld() {
  screen = 'login';
  ui.loginScreen.hidden = false;
  ui.hud.hidden = true;
  ui.chat.hidden = true;
  ui.corner.hidden = true;
  ui.playersPanel.hidden = true;
  ui.playersButton.setAttribute('aria-expanded', 'false');
  hideBanner();
  setMode('login');
  if (credentials) ui.username.value = credentials.username;
  ui.password.focus();
}

function addLine(build, className, record) {
  if (record) {
    chatHistory.push(record);
    if (chatHistory.length > CHAT_HISTORY_MAX) chatHistory.shift();
    try {
      sessionStorage.setItem(CHAT_HISTORY_KEY, JSON.stringify(chatHistory));
    } catch {
      // no storage: a reload starts an empty log
    }
  }
  const log = ui.chatLog;
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 24;
  const li = document.createElement('li');
  if (className) li.className = className;
  build(li);
  log.append(li);
  while (log.children.length > CHAT_LOG_MAX_LINES) log.firstElementChild.remove();
  if (atBottom) log.scrollTop = log.scrollHeight;
}

// Names and messages from other players are text: textContent, never HTML.
function addChatLine(name, message, own) {
  addLine((li) => {
    const who = document.createElement('span');
    who.className = 'name';
    who.textContent = name;
    li.append(who, document.createTextNode(`: ${message}`));
  }, own ? 'own' : '', { name, message, own });
}

function addSystemLine(text) {
  addLine((li) => {
    li.textContent = text;
  }, 'system', { system: text });
}

ui.chatForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const line = session.sendChat(ui.chatInput.value, performance.now());
  if (line?.error) {
    addSystemLine(line.error); // the text stays in the input, to send again
  } else if (line) {
    addChatLine(line.name, line.message, true);
    bubbles.add(line.name, line.message, performance.now());
    ui.chatInput.value = '';
  } else if (ui.chatInput.value.trim() === '') {
    ui.chatInput.blur(); // Enter on an empty input leaves the chat
  }
});

ui.chatInput.addEventListener('keydown', (event) => {
  if (event.key === 'Escape') {
    event.preventDefault();
    ui.chatInput.blur();
  }
});

document.addEventListener('keydown', (event) => {
  if (screen !== 'world' || !ui.overlay.hidden) return;
  if (event.key === 'Enter' && document.activeElement !== ui.chatInput) {
    event.preventDefault();
    ui.chatInput.focus();
  }
});

// Clicks and taps on the canvas walk; the chat and HUD are separate elements on top of it.
function walkTo(event, now) {
  const rect = ui.canvas.getBoundingClientRect();
  const p = screenToWorld(event.clientX - rect.left, event.clientY - rect.top, origin, session.world);
  if (session.sendTarget(p.x, p.y)) {
    renderer.markClick(p.x, p.y, now);
    lastDragTarget = now;
  }
}

ui.canvas.addEventListener('pointerdown', (event) => {
  if (screen !== 'world' || (event.pointerType === 'mouse' && event.button !== 0)) return;
  event.preventDefault();
  if (document.activeElement === ui.chatInput) ui.chatInput.blur(); // hides a phone's keyboard
  dragging = true;
  ui.canvas.setPointerCapture?.(event.pointerId);
  walkTo(event, performance.now());
});
ui.canvas.addEventListener('pointermove', (event) => {
  const now = performance.now();
  if (dragging && now - lastDragTarget >= DRAG_TARGET_INTERVAL_MS) walkTo(event, now);
});
for (const type of ['pointerup', 'pointercancel', 'lostpointercapture']) {
  ui.canvas.addEventListener(type, () => {
    dragging = false;
  });
}
ui.canvas.addEventListener('contextmenu', (event) => event.preventDefault());

// ---- cmmo.v2: coming back, who is around, latency, logging out (v2.js) -------------------------

// Whether the page can log in again by itself: a stored resume token, or the password of this
// page's last login still in memory (a legacy server, or before a token arrived).
function canComeBack() {
  return !!loadResume(localStorage, Date.now()) || !!credentials?.password;
}

// Sends what logs this player in again on the open socket: Resume with the stored token on a
// cmmo.v2 connection, else Login with the password kept in memory. false when neither is there.
function sendComeback() {
  const stored = protocol === 'cmmo.v2' ? loadResume(localStorage, Date.now()) : null;
  if (stored && (!credentials || stored.username === credentials.username)) {
    lastRequest = 'resume';
    return session.resume(stored.username, stored.token);
  }
  if (credentials?.password) {
    lastRequest = 'login';
    return session.login(credentials.username, credentials.password);
  }
  return false;
}

// Schedules the next automatic attempt (backoff with jitter, v2.js). Returns false when there is
// nothing to come back with or the attempts are used up: the caller then shows the Reconnect
// button.
function scheduleReconnect() {
  if (retry.timer !== null) return true;
  if (retry.attempt >= RECONNECT_MAX || !canComeBack()) {
    retry.gaveUpAfter = retry.attempt;
    retry.attempt = 0;
    hideBanner();
    return false;
  }
  const delay = reconnectDelay(retry.attempt);
  retry.attempt += 1;
  const of = `attempt ${retry.attempt} of ${RECONNECT_MAX}`;
  showBanner(`Connection lost. Reconnecting in ${Math.max(1, Math.round(delay / 1000))} s… (${of})`);
  retry.timer = setTimeout(() => {
    retry.timer = null;
    showBanner(`Reconnecting… (${of})`);
    if (socket && socket.readyState === WebSocket.OPEN) {
      if (sendComeback()) startRequestTimer();
      return;
    }
    pendingAction = () => {
      if (sendComeback()) startRequestTimer();
      else connectionLost();
    };
    connect();
  }, delay);
  return true;
}

function stopRetrying() {
  if (retry.timer !== null) clearTimeout(retry.timer);
  retry.timer = null;
  retry.attempt = 0;
  hideBanner();
}

function showBanner(text) {
  ui.banner.textContent = text;
  ui.banner.hidden = false;
}

function hideBanner() {
  ui.banner.hidden = true;
  ui.banner.textContent = '';
}

// A Deny of a Resume. Returns true when it was handled here (a retry is scheduled).
function onResumeDenied(reason) {
  if (resumeRetryable(reason) && scheduleReconnect()) return true;
  if (reason === RESUME_DENIED) {
    // Expired, revoked (logged out elsewhere, password reset, ban) or unknown: ask for the password.
    const stored = loadResume(localStorage, Date.now());
    clearResume(localStorage);
    if (credentials?.password && socket && socket.readyState === WebSocket.OPEN) {
      lastRequest = 'login';
      if (session.login(credentials.username, credentials.password)) {
        startRequestTimer();
        return true;
      }
    }
    const name = stored?.username ?? credentials?.username ?? ui.username.value;
    stopRetrying();
    lastRequest = null;
    setBusy(false);
    reconnecting = false;
    ui.overlay.hidden = true;
    ui.reconnect.disabled = false;
    if (screen === 'world') leaveWorld();
    setMode('login');
    ui.username.value = name;
    showMessage('Your session has ended. Log in again.');
    ui.password.focus();
    return true;
  }
  return false;
}

function handleV2Event(event) {
  switch (event.type) {
    case 'token': {
      const username = session.ownName || credentials?.username;
      if (!username) break;
      saveResume(localStorage, username, event.token, event.ttl, Date.now());
      // The token logs this page back in from now on: the password need not stay in memory.
      if (credentials) credentials = { username: credentials.username, password: null };
      break;
    }
    case 'players':
      roster.apply(event);
      renderPlayers();
      break;
    case 'joined':
      roster.apply(event);
      renderPlayers();
      if (event.name !== session.ownName) addSystemLine(`${event.name} joined.`);
      break;
    case 'left':
      roster.apply(event);
      renderPlayers();
      addSystemLine(`${event.name} left.`);
      break;
    case 'pong':
      latencyMs = Math.round(event.rtt);
      ui.latency.textContent = `${latencyMs} ms`;
      ui.latency.classList.toggle('slow', latencyMs >= 150 && latencyMs < 400);
      ui.latency.classList.toggle('bad', latencyMs >= 400);
      break;
  }
}

function renderPlayers() {
  const own = session.ownName;
  const names = roster.sorted();
  ui.playersList.replaceChildren(
    ...names.map((name) => {
      const li = document.createElement('li');
      li.textContent = name; // names are [A-Za-z0-9_-], and text all the same
      if (name === own) li.className = 'me';
      return li;
    }),
  );
  const more = roster.count - names.length;
  ui.playersMore.textContent = more > 0 ? `and ${more} more` : '';
}

ui.playersButton.addEventListener('click', () => {
  const open = ui.playersPanel.hidden;
  if (open) renderPlayers();
  ui.playersPanel.hidden = !open;
  ui.playersButton.setAttribute('aria-expanded', String(open));
});

function sendPing() {
  if (protocol === 'cmmo.v2' && socket && socket.readyState === WebSocket.OPEN) socket.send(pingPacket(performance.now()));
  if (protocol !== 'cmmo.v2') ui.latency.textContent = '';
}

// Log out: the server revokes the token (a packet sent just before the close is still handled),
// this page forgets it and the password, and shows the login form.
ui.logout.addEventListener('click', () => {
  const ws = socket;
  if (ws && ws.readyState === WebSocket.OPEN && protocol === 'cmmo.v2') ws.send(logoutPacket());
  clearResume(localStorage);
  credentials = null;
  stopRetrying();
  clearRequestTimer();
  if (ws) {
    socket = null;
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    ws.close(1000);
  }
  setProtocol(null);
  chatHistory = [];
  try {
    sessionStorage.removeItem(CHAT_HISTORY_KEY);
  } catch {
    // nothing stored
  }
  ui.chatLog.replaceChildren();
  leaveWorld();
  ui.username.value = '';
  showMessage('Logged out.', 'info');
  connect();
  ui.username.focus();
});

// ---- the chat on one line ----

let chatToggled = false; // the player chose: keep their choice

function setChatCollapsed(collapsed) {
  ui.chat.classList.toggle('collapsed', collapsed);
  ui.chatToggle.setAttribute('aria-expanded', String(!collapsed));
  ui.chatToggle.setAttribute('aria-label', collapsed ? 'Expand the chat' : 'Collapse the chat');
  ui.chatToggle.textContent = collapsed ? '\u25B4' : '\u25BE';
  ui.chatLog.scrollTop = ui.chatLog.scrollHeight;
}

ui.chatToggle.addEventListener('click', () => {
  chatToggled = true;
  setChatCollapsed(!ui.chat.classList.contains('collapsed'));
});

// The part of the screen the arrows to off-screen players keep to: below the HUD, above the chat.
function freeArea() {
  const top = Math.max(ui.hud.getBoundingClientRect().bottom, ui.corner.getBoundingClientRect().bottom) + 18;
  const bottom = ui.chat.getBoundingClientRect().top - 18;
  return { left: 18, top, right: renderer.width - 18, bottom: Math.max(top + 40, bottom) };
}

// ---- a reload ----

function restoreChatHistory() {
  if (ui.chatLog.children.length > 0) return;
  let lines = [];
  try {
    lines = JSON.parse(sessionStorage.getItem(CHAT_HISTORY_KEY)) ?? [];
  } catch {
    lines = [];
  }
  chatHistory = [];
  for (const line of Array.isArray(lines) ? lines.slice(-CHAT_HISTORY_MAX) : []) {
    if (typeof line?.system === 'string') addSystemLine(line.system);
    else if (typeof line?.name === 'string' && typeof line?.message === 'string') addChatLine(line.name, line.message, !!line.own);
  }
}

// A stored token: log straight back in (a reload, or a visit within its lifetime).
function resumeAtStart() {
  const stored = loadResume(localStorage, Date.now());
  if (!stored) return false;
  ui.username.value = stored.username;
  showMessage(`Welcome back, ${stored.username}…`, 'info');
  setBusy(true);
  lastRequest = 'resume';
  whenConnected(() => {
    if (protocol === 'cmmo.v2' && session.resume(stored.username, stored.token)) {
      startRequestTimer();
    } else {
      lastRequest = null;
      setBusy(false);
      showMessage('');
    }
  });
  return true;
}

// ---- Layout and the frame loop ----------------------------------------------------------------

// The app box follows the visual viewport, so a phone's on-screen keyboard pushes the chat input up
// instead of covering it.
function fitViewport() {
  const vv = window.visualViewport;
  const height = vv ? vv.height : window.innerHeight;
  document.documentElement.style.setProperty('--app-height', `${Math.round(height)}px`);
  ui.app.style.top = vv ? `${Math.round(vv.offsetTop)}px` : '0px';
  const w = ui.canvas.clientWidth;
  const h = ui.canvas.clientHeight;
  if (w !== renderer.width || h !== renderer.height || window.devicePixelRatio !== renderer.dpr) {
    renderer.resize(w, h, window.devicePixelRatio || 1);
  }
}
window.addEventListener('resize', fitViewport);
window.visualViewport?.addEventListener('resize', fitViewport);
window.visualViewport?.addEventListener('scroll', fitViewport);

function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}

function frame(now) {
  fitViewport();
  if (screen === 'world') {
    const views = session.actorsAt(now);
    const own = views.find((v) => v.own);
    const { world } = session;
    origin = cameraOrigin(renderer.width, renderer.height, own ?? { x: world.width / 2, y: world.height / 2 }, world);
    renderer.draw(views, origin, now, world);
    overlay = drawOverlay(ui.canvas.getContext('2d'), renderer, views, origin, bubbles, freeArea(), now);
    const online = roster.known ? roster.count : session.store.size;
    // Only when it changed: a DOM write every frame would make the next layout read (freeArea)
    // lay the page out again every frame.
    setText(ui.hudOnline, `${online} online`);
    setText(ui.playersButton, session.state === State.PLAY ? `${online} online` : 'offline');
  } else {
    // The login screen's backdrop: the default map, whatever server comes next.
    origin = cameraOrigin(renderer.width, renderer.height, { x: WORLD_WIDTH / 2 + Math.sin(now / 9000) * 200, y: WORLD_HEIGHT / 2 });
    renderer.draw([], origin, now);
    drawPreview(now);
  }
  requestAnimationFrame(frame);
}

// A read-only view of the client's state for the browser tests and for debugging in the console.
window.cmmo = Object.freeze({
  snapshot() {
    const now = performance.now();
    return {
      screen,
      state: session.state,
      connected: !!socket && socket.readyState === WebSocket.OPEN,
      protocol,
      ownId: session.ownId,
      ownName: session.ownName,
      camera: { ...origin },
      world: { ...session.world },
      players: { known: roster.known, count: roster.count, names: roster.sorted() },
      latencyMs,
      reconnect: { attempt: retry.attempt, waiting: retry.timer !== null, banner: ui.banner.hidden ? '' : ui.banner.textContent },
      chatCollapsed: ui.chat.classList.contains('collapsed'),
      bubbles: [...overlay.bubbles],
      arrows: [...overlay.arrows],
      resumable: loadResume(localStorage, Date.now())?.username ?? null,
      actors: [...session.store.actors.keys()].map((id) => {
        const actor = session.store.get(id);
        const motion = session.motion.get(id);
        const drawn = motion ? (motion.view ? motion.view() : motion.sample(now)) : null;
        const server = motion ? (motion.latest ? motion.latest() : { x: motion.serverX, y: motion.serverY }) : null;
        return {
          id,
          name: actor.instanced_entity?.entity?.name ?? '',
          avatar: actor.avatar_id,
          own: id === session.ownId,
          x: drawn?.x,
          y: drawn?.y,
          serverX: server?.x,
          serverY: server?.y,
          walking: id === session.ownId ? motion?.target != null : undefined,
        };
      }),
    };
  },
});

buildAvatarStrip();
setAvatar(0);
setMode('login');
fitViewport();
connect();
requestAnimationFrame(frame);
setInterval(sendPing, PING_INTERVAL_MS);
if (!resumeAtStart()) ui.username.focus();
