// presence-client.js: the browser and Node client of presence-gateway.
//
// One ES module with no dependencies and no build step, kept in one file so that a page can copy it or
// load it from the gateway at /client/presence-client.js as it is. In a browser it uses the global
// WebSocket; in Node 20 pass a WebSocket implementation such as the `ws` package
// (`new PresenceClient({ WebSocket })`). The DOM helpers at the end (CursorRenderer, TypingIndicator,
// TextareaAdapter) touch the document only when constructed, so importing the module in Node is safe.
//
// Wire protocol: one JSON object per WebSocket message, described in docs/protocol.md. Positions are
// 0-based lines and columns, counted in UTF-16 code units as JavaScript strings count them.

// MARK: - Defaults

/** Client defaults. The throttles match the gateway's defaults so that the client never sends faster than
 *  the gateway forwards. All durations are in milliseconds. */
export const DEFAULT_OPTIONS = Object.freeze({
  /** At most one cursor message per interval; the latest position is sent at the end of the interval. */
  cursorThrottleMs: 50,
  /** At most one viewport message per interval, trailing edge included. */
  viewportThrottleMs: 100,
  /** At most one keystroke message per interval. It must stay well below the gateway's typing debounce
   *  (500 ms by default), or a steady typist would flicker between typing and not typing. */
  keystrokeThrottleMs: 100,
  /** Batching interval requested from the gateway with `batch_ms` on the upgrade URL; 0 turns it off.
   *  16 ms is one frame at 60 Hz, so batching adds no delay a person can see. */
  batchMs: 16,
  /** Interval between application-level pings. Browsers do not expose WebSocket pings, so this ping is
   *  the only way a page notices a connection that died without a close, such as after a laptop slept. */
  heartbeatIntervalMs: 10000,
  /** A connection from which nothing arrived for this long is dropped and reconnected. */
  heartbeatTimeoutMs: 25000,
  /** Reconnect backoff: the n-th retry waits min(maxDelayMs, initialDelayMs * multiplier^n), reduced by a
   *  random fraction of up to `jitter` so that clients dropped together do not return together. */
  reconnect: Object.freeze({ initialDelayMs: 500, maxDelayMs: 15000, multiplier: 2, jitter: 0.5 }),
});

/** Workspace sent with a join when neither the join nor the client names one; the gateway requires one. */
const DEFAULT_WORKSPACE_ID = 'default';

const SOCKET_OPEN = 1;
// Browsers let a page close with 1000 or 3000-4999 only, so 1001 (going away) is not available here.
const NORMAL_CLOSURE = 1000;
/** Close code the client sends when it drops a connection that went silent (from the private range). */
const HEARTBEAT_TIMEOUT_CLOSE = 4000;

// MARK: - Errors

/** An error reported by the gateway (`code` is one of the protocol's error codes) or found by the client
 *  (`InvalidServerMessage`, `Closed`). */
export class PresenceError extends Error {
  constructor(code, message, { documentId = null, ref = null } = {}) {
    super(message);
    this.name = 'PresenceError';
    this.code = code;
    this.documentId = documentId;
    this.ref = ref;
  }
}

// MARK: - Small utilities

const now = () => (globalThis.performance ? globalThis.performance.now() : Date.now());

/** Calls a listener so that an exception in application code neither breaks the client's state nor
 *  disappears: it is rethrown from a fresh task, where the browser or Node reports it. */
function callListener(listener, event) {
  try {
    listener(event);
  } catch (error) {
    setTimeout(() => {
      throw error;
    }, 0);
  }
}

/** A minimal typed event emitter. `on` returns a function that removes the listener. */
class Emitter {
  #listeners = new Map();

  on(type, listener) {
    if (typeof listener !== 'function') {
      throw new TypeError(`listener for "${type}" must be a function, got ${typeof listener}`);
    }
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, (set = new Set()));
    set.add(listener);
    return () => this.off(type, listener);
  }

  off(type, listener) {
    this.#listeners.get(type)?.delete(listener);
  }

  emit(type, event) {
    const set = this.#listeners.get(type);
    if (!set) return;
    for (const listener of Array.from(set)) callListener(listener, event);
  }
}

/**
 * Sends at most one message per interval, and always the latest one: a message pushed during the
 * interval replaces the pending one and goes out when the interval ends (the trailing edge).
 */
class TrailingThrottle {
  #intervalMs;
  #send;
  #lastSentAt = -Infinity;
  #pending = null;
  #timer = null;

  constructor(intervalMs, send) {
    this.#intervalMs = intervalMs;
    this.#send = send;
  }

  push(message) {
    this.#pending = message;
    if (this.#timer !== null) return;
    const wait = this.#lastSentAt + this.#intervalMs - now();
    if (wait <= 0) {
      this.flush();
    } else {
      this.#timer = setTimeout(() => this.flush(), wait);
    }
  }

  /** Sends the pending message now, if there is one. */
  flush() {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#pending === null) return;
    const message = this.#pending;
    this.#pending = null;
    this.#lastSentAt = now();
    this.#send(message);
  }

  /** Records a message sent around the throttle, so the next push still keeps the interval. */
  markSent() {
    this.#lastSentAt = now();
  }

  cancel() {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#pending = null;
  }
}

function checkCount(value, name) {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new TypeError(`${name} must be an integer from 0 to 4294967295, got ${String(value)}`);
  }
}

function checkPosition(position, name) {
  if (position === null || typeof position !== 'object') {
    throw new TypeError(`${name} must be an object {line, column, offset}, got ${String(position)}`);
  }
  checkCount(position.line, `${name}.line`);
  checkCount(position.column, `${name}.column`);
  checkCount(position.offset, `${name}.offset`);
  return { line: position.line, column: position.column, offset: position.offset };
}

function checkSelection(selection) {
  if (selection === null || selection === undefined) return null;
  const anchor = checkPosition(selection.anchor, 'selection.anchor');
  const head = checkPosition(selection.head, 'selection.head');
  const isBackward = selection.is_backward ?? head.offset < anchor.offset;
  if (typeof isBackward !== 'boolean') {
    throw new TypeError(`selection.is_backward must be a boolean, got ${String(isBackward)}`);
  }
  return { anchor, head, is_backward: isBackward };
}

function checkViewport(viewport) {
  if (viewport === null || typeof viewport !== 'object') {
    throw new TypeError(`viewport must be an object {top_line, bottom_line, scroll_percentage}, got ${String(viewport)}`);
  }
  checkCount(viewport.top_line, 'viewport.top_line');
  checkCount(viewport.bottom_line, 'viewport.bottom_line');
  if (viewport.bottom_line < viewport.top_line) {
    throw new TypeError(`viewport.bottom_line (${viewport.bottom_line}) must not be less than viewport.top_line (${viewport.top_line})`);
  }
  const percentage = viewport.scroll_percentage;
  if (typeof percentage !== 'number' || !Number.isFinite(percentage)) {
    throw new TypeError(`viewport.scroll_percentage must be a finite number, got ${String(percentage)}`);
  }
  return { top_line: viewport.top_line, bottom_line: viewport.bottom_line, scroll_percentage: percentage };
}

/** Fields of a presence whose change is worth an `update` event; timestamps change on every event. */
function presenceDiffers(a, b) {
  const visible = (user) =>
    JSON.stringify([user.name, user.avatar_url, user.color, user.state, user.cursor, user.selection]);
  return visible(a) !== visible(b);
}

// Symbols for the methods that the client calls on its documents; they stay out of the public API.
const kOpened = Symbol('opened');
const kLost = Symbol('lost');
const kReceive = Symbol('receive');
const kJoinFailed = Symbol('joinFailed');
const kSuspend = Symbol('suspend');
const kError = Symbol('error');

// MARK: - PresenceClient

/**
 * One WebSocket connection to the gateway, shared by every document the page joins. It reconnects with
 * capped exponential backoff and jitter after a drop, rejoins every document, and reports its status:
 * `idle` before `connect`, then `connecting`, `open`, `reconnecting`, and `closed` after `close`.
 *
 * Events: `status` ({status, attempt, delayMs, code, reason}) and `error` (a PresenceError).
 */
export class PresenceClient {
  #options;
  #WebSocket;
  #events = new Emitter();
  #documents = new Map();
  #status = 'idle';
  #socket = null;
  #generation = 0;
  #attempt = 0;
  #reconnectTimer = null;
  #heartbeatTimer = null;
  #lastReceivedAt = 0;
  #nextRef = 1;
  #openWaiters = [];
  #watchesPage = false;
  #pageListeners = [];

  /**
   * @param {object} options See presence-client.d.ts (`PresenceClientOptions`). `url` is required.
   */
  constructor(options) {
    if (!options || typeof options.url !== 'string' || options.url === '') {
      throw new TypeError('PresenceClient needs options.url, the gateway WebSocket URL such as ws://127.0.0.1:8080/v1/ws');
    }
    const WebSocketImpl = options.WebSocket ?? globalThis.WebSocket;
    if (typeof WebSocketImpl !== 'function') {
      throw new TypeError('no WebSocket implementation: pass options.WebSocket (in Node 20, the `ws` package)');
    }
    this.#WebSocket = WebSocketImpl;
    this.#options = {
      ...DEFAULT_OPTIONS,
      ...options,
      reconnect: options.reconnect === false ? false : { ...DEFAULT_OPTIONS.reconnect, ...(options.reconnect ?? {}) },
      user: options.user ?? {},
    };
    this.#watchesPage = options.pageLifecycle ?? (typeof document !== 'undefined' && typeof window !== 'undefined');
  }

  /** Connection status: `idle`, `connecting`, `open`, `reconnecting` or `closed`. */
  get status() {
    return this.#status;
  }

  /** The joined documents by id. */
  get documents() {
    return new Map(this.#documents);
  }

  /** Adds a listener for `status` or `error`; returns a function that removes it. */
  on(type, listener) {
    return this.#events.on(type, listener);
  }

  off(type, listener) {
    this.#events.off(type, listener);
  }

  /**
   * Opens the connection if it is not open or opening. The promise resolves once the socket is open; it
   * does not reject on failed attempts, which are retried, but rejects if `close` is called first.
   */
  connect() {
    if (this.#status === 'open') return Promise.resolve();
    const opened = new Promise((resolve, reject) => this.#openWaiters.push({ resolve, reject }));
    if (this.#watchesPage && this.#pageListeners.length === 0) this.#watchPageLifecycle();
    if (this.#status === 'idle' || this.#status === 'closed') {
      this.#attempt = 0;
      this.#startAttempt();
    }
    return opened;
  }

  /**
   * Joins a document and returns its handle at once, so that listeners can be added before the snapshot
   * arrives. `handle.ready` resolves with the handle after the snapshot. Joining a document twice
   * returns the same handle. Connects if needed.
   * @param {string} documentId
   * @param {{workspaceId?: string}} [options]
   */
  join(documentId, options = {}) {
    if (typeof documentId !== 'string' || documentId === '') {
      throw new TypeError(`documentId must be a non-empty string, got ${String(documentId)}`);
    }
    const existing = this.#documents.get(documentId);
    if (existing) return existing;

    const workspaceId = options.workspaceId ?? this.#options.workspaceId ?? DEFAULT_WORKSPACE_ID;
    const channel = {
      send: (message) => this.#send(message),
      isOpen: () => this.#status === 'open',
      nextRef: () => this.#nextRef++,
      joinFields: () => this.#joinFields(workspaceId),
      options: this.#options,
      forget: (handle) => {
        if (this.#documents.get(documentId) === handle) this.#documents.delete(documentId);
      },
    };
    const handle = new PresenceDocument(documentId, channel);
    this.#documents.set(documentId, handle);
    // A page opened in a background tab starts unfocused; the state is sent after the snapshot.
    if (this.#watchesPage && document.visibilityState === 'hidden') handle.setFocus(false);
    if (this.#status === 'open') {
      handle[kOpened]();
    } else if (this.#status === 'idle' || this.#status === 'closed') {
      this.connect().catch(() => {});
    }
    return handle;
  }

  /** Closes the connection: no reconnect, and every document ends in status `left`. A later `join` or
   *  `connect` opens a new connection. */
  close() {
    this.#stop(NORMAL_CLOSURE, 'client closed');
    for (const handle of Array.from(this.#documents.values())) handle[kLost](true);
    this.#documents.clear();
    for (const remove of this.#pageListeners) remove();
    this.#pageListeners = [];
  }

  // MARK: Connection

  #stop(code, reason) {
    this.#generation++;
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = null;
    this.#stopHeartbeat();
    const socket = this.#socket;
    this.#socket = null;
    if (socket) {
      detachSocket(socket);
      try {
        socket.close(code, reason);
      } catch {
        // A socket still connecting may refuse a close code in some implementations; it is discarded anyway.
      }
    }
    const waiters = this.#openWaiters;
    this.#openWaiters = [];
    for (const waiter of waiters) waiter.reject(new PresenceError('Closed', `connection closed: ${reason}`));
    this.#setStatus('closed', { code, reason });
  }

  #joinFields(workspaceId) {
    const user = this.#options.user;
    const fields = { workspace_id: workspaceId };
    if (user.id !== undefined) fields.user_id = user.id;
    if (user.name !== undefined) fields.name = user.name;
    if (user.avatarUrl !== undefined) fields.avatar_url = user.avatarUrl;
    return fields;
  }

  async #connectionUrl() {
    const url = new URL(this.#options.url);
    if (this.#options.batchMs > 0) url.searchParams.set('batch_ms', String(this.#options.batchMs));
    const token = typeof this.#options.token === 'function' ? await this.#options.token() : this.#options.token;
    if (token) url.searchParams.set('token', token);
    return url.toString();
  }

  async #startAttempt() {
    const generation = ++this.#generation;
    this.#setStatus(this.#attempt === 0 ? 'connecting' : 'reconnecting', { attempt: this.#attempt });
    let socket;
    try {
      const url = await this.#connectionUrl();
      if (generation !== this.#generation) return;
      socket = new this.#WebSocket(url);
    } catch (error) {
      if (generation !== this.#generation) return;
      this.#events.emit('error', new PresenceError('Closed', `could not open a connection: ${error.message}`));
      this.#scheduleReconnect(0, String(error.message));
      return;
    }
    this.#socket = socket;
    socket.binaryType = 'arraybuffer';
    socket.onopen = () => this.#handleOpen(socket);
    socket.onmessage = (event) => this.#handleMessage(socket, event.data);
    socket.onclose = (event) => this.#handleDrop(socket, event.code, event.reason);
    // An error is always followed by a close event, which does the work.
    socket.onerror = () => {};
  }

  #handleOpen(socket) {
    if (socket !== this.#socket) return;
    this.#lastReceivedAt = now();
    this.#setStatus('open', { attempt: this.#attempt });
    // The pong to this ping shows the gateway serves this connection, which resets the backoff (see #handleMessage).
    this.#send({ type: 'ping' });
    this.#startHeartbeat();
    const waiters = this.#openWaiters;
    this.#openWaiters = [];
    for (const waiter of waiters) waiter.resolve();
    for (const handle of this.#documents.values()) handle[kOpened]();
  }

  /** Forgets a socket that closed or went silent, and schedules the next attempt. */
  #handleDrop(socket, code, reason) {
    if (socket !== this.#socket) return;
    detachSocket(socket);
    this.#socket = null;
    this.#stopHeartbeat();
    for (const handle of this.#documents.values()) handle[kLost](false);
    this.#scheduleReconnect(code, reason);
  }

  #scheduleReconnect(code, reason) {
    const policy = this.#options.reconnect;
    if (!policy) {
      this.#stop(code || NORMAL_CLOSURE, reason || 'connection lost and reconnect is off');
      for (const handle of Array.from(this.#documents.values())) handle[kLost](true);
      this.#documents.clear();
      return;
    }
    const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** this.#attempt);
    const delayMs = Math.round(base * (1 - policy.jitter * Math.random()));
    this.#attempt++;
    this.#setStatus('reconnecting', { attempt: this.#attempt, delayMs, code, reason }, true);
    const generation = ++this.#generation;
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      if (generation === this.#generation) this.#startAttempt();
    }, delayMs);
  }

  #startHeartbeat() {
    this.#stopHeartbeat();
    this.#heartbeatTimer = setInterval(() => {
      if (now() - this.#lastReceivedAt > this.#options.heartbeatTimeoutMs) {
        const socket = this.#socket;
        if (!socket) return;
        // Waiting for the close handshake of a dead connection can take minutes, so drop it at once.
        this.#handleDrop(socket, HEARTBEAT_TIMEOUT_CLOSE, 'heartbeat timed out');
        try {
          socket.close(HEARTBEAT_TIMEOUT_CLOSE, 'heartbeat timed out');
        } catch {
          // Already closing: nothing more to do with it.
        }
        return;
      }
      this.#send({ type: 'ping' });
    }, this.#options.heartbeatIntervalMs);
  }

  #stopHeartbeat() {
    if (this.#heartbeatTimer !== null) clearInterval(this.#heartbeatTimer);
    this.#heartbeatTimer = null;
  }

  /** Updates the status and emits it; a repeated status is emitted only when `force` is set, as each
   *  scheduled retry is. */
  #setStatus(status, details = {}, force = false) {
    if (this.#status === status && !force) return;
    this.#status = status;
    this.#events.emit('status', { status, attempt: this.#attempt, ...details });
  }

  #send(message) {
    const socket = this.#socket;
    if (!socket || socket.readyState !== SOCKET_OPEN) return false;
    socket.send(JSON.stringify(message));
    return true;
  }

  // MARK: Receiving

  #handleMessage(socket, data) {
    if (socket !== this.#socket) return;
    this.#lastReceivedAt = now();
    let envelope;
    try {
      const text = typeof data === 'string' ? data : new TextDecoder().decode(data);
      envelope = JSON.parse(text);
    } catch (error) {
      this.#reportInvalid(`message is not JSON (${error.message})`);
      return;
    }
    if (envelope === null || typeof envelope !== 'object' || typeof envelope.event_type !== 'string') {
      this.#reportInvalid('message has no event_type');
      return;
    }
    // Any well-formed message shows the gateway is serving this connection, so the backoff restarts.
    this.#attempt = 0;

    if (envelope.event_type === 'pong') return;
    if (envelope.event_type === 'error') {
      this.#handleError(envelope);
      return;
    }
    const handle = this.#documents.get(envelope.document_id);
    // Events of a document left a moment ago may still be on the way; they are dropped.
    if (handle) handle[kReceive](envelope);
  }

  /** Routes an error to the document whose join it rejects, else to the document it names, and always
   *  emits it on the client. */
  #handleError(envelope) {
    const payload = envelope.payload ?? {};
    const error = new PresenceError(payload.code ?? 'Internal', payload.message ?? 'error without a message', {
      documentId: envelope.document_id ?? null,
      ref: payload.ref ?? null,
    });
    const failedJoin = Array.from(this.#documents.values()).find((handle) => handle[kJoinFailed](error));
    if (failedJoin) {
      this.#documents.delete(failedJoin.id);
    } else if (error.documentId !== null) {
      this.#documents.get(error.documentId)?.[kError](error);
    }
    this.#events.emit('error', error);
  }

  #reportInvalid(message) {
    this.#events.emit('error', new PresenceError('InvalidServerMessage', `invalid message from the gateway: ${message}`));
  }

  // MARK: Page lifecycle

  #watchPageLifecycle() {
    const listen = (target, type, listener) => {
      target.addEventListener(type, listener);
      this.#pageListeners.push(() => target.removeEventListener(type, listener));
    };
    listen(document, 'visibilitychange', () => {
      const visible = document.visibilityState === 'visible';
      for (const handle of this.#documents.values()) handle.setFocus(visible);
    });
    // A page on its way out leaves at once, so the others do not see it linger until a timeout. A page
    // kept in the back-forward cache comes back through `pageshow` and rejoins.
    listen(window, 'pagehide', () => {
      if (this.#status === 'closed' || this.#status === 'idle') return;
      for (const handle of this.#documents.values()) handle[kSuspend]();
      this.#suspendConnection();
    });
    listen(window, 'pageshow', (event) => {
      if (event.persisted && this.#status === 'closed' && this.#documents.size > 0) this.connect().catch(() => {});
    });
  }

  #suspendConnection() {
    this.#stop(NORMAL_CLOSURE, 'page hidden');
    for (const handle of this.#documents.values()) handle[kLost](false);
  }
}

function detachSocket(socket) {
  socket.onopen = null;
  socket.onmessage = null;
  socket.onclose = null;
  socket.onerror = () => {};
}

// MARK: - PresenceDocument

/**
 * One joined document: its users, its events, and the methods that send this user's presence in it.
 * Created by `PresenceClient.join`.
 *
 * Status: `joining`, `joined`, `rejoining` (connection lost, users kept as last seen), `left` or `failed`.
 * Events: `join`, `leave`, `update`, `cursor`, `typing`, `activity`, `viewport`, `focus` (each
 * {user, previous}), `status` ({status, error}), `error` (a PresenceError about this document).
 */
export class PresenceDocument {
  #channel;
  #events = new Emitter();
  #status = 'joining';
  #users = new Map();
  #self = null;
  #joinRef = null;
  #resolveReady;
  #rejectReady;
  #cursorThrottle;
  #viewportThrottle;
  #keystrokeThrottle;
  /** This user's latest cursor, viewport and focus, sent again after a rejoin. */
  #local = { cursor: null, selection: null, viewport: null, focused: true, typing: false };

  /** @internal Use PresenceClient.join. */
  constructor(id, channel) {
    this.id = id;
    this.#channel = channel;
    this.ready = new Promise((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    // An application that never awaits `ready` must not get an unhandled rejection for a failed join.
    this.ready.catch(() => {});
    const options = channel.options;
    this.#cursorThrottle = new TrailingThrottle(options.cursorThrottleMs, (message) => channel.send(message));
    this.#viewportThrottle = new TrailingThrottle(options.viewportThrottleMs, (message) => channel.send(message));
    this.#keystrokeThrottle = new TrailingThrottle(options.keystrokeThrottleMs, (message) => channel.send(message));
  }

  /** `joining`, `joined`, `rejoining`, `left` or `failed`. */
  get status() {
    return this.#status;
  }

  /** Everyone present, this user included, by user id. */
  get users() {
    return new Map(this.#users);
  }

  /** This user's presence as the gateway returned it in the last snapshot. */
  get self() {
    return this.#self;
  }

  get selfId() {
    return this.#self ? this.#self.user_id : null;
  }

  /** Everyone present except this user. */
  otherUsers() {
    const selfId = this.selfId;
    return Array.from(this.#users.values()).filter((user) => user.user_id !== selfId);
  }

  on(type, listener) {
    return this.#events.on(type, listener);
  }

  off(type, listener) {
    this.#events.off(type, listener);
  }

  // MARK: Sending

  /**
   * Sends this user's cursor and selection, throttled to one message per `cursorThrottleMs`; the latest
   * position always goes out at the end of the interval.
   * @param {{line:number, column:number, offset:number}} cursor
   * @param {{anchor:object, head:object, is_backward?:boolean}|null} [selection]
   */
  moveCursor(cursor, selection = null) {
    const checkedCursor = checkPosition(cursor, 'cursor');
    const checkedSelection = checkSelection(selection);
    this.#local.cursor = checkedCursor;
    this.#local.selection = checkedSelection;
    if (!this.#isLive()) return;
    this.#cursorThrottle.push({ type: 'cursor', document_id: this.id, cursor: checkedCursor, selection: checkedSelection });
  }

  /** Reports a keystroke: the gateway marks the user typing and clears it after its debounce without
   *  another keystroke. Throttled to one message per `keystrokeThrottleMs`. */
  keystroke() {
    if (!this.#isLive()) return;
    this.#keystrokeThrottle.push({ type: 'typing', document_id: this.id });
  }

  /** Sets the typing state explicitly, for editors that know when typing starts and stops. */
  setTyping(isTyping) {
    if (typeof isTyping !== 'boolean') throw new TypeError(`isTyping must be a boolean, got ${String(isTyping)}`);
    // A keystroke still waiting in the throttle would restart typing after an explicit stop.
    this.#keystrokeThrottle.cancel();
    this.#local.typing = isTyping;
    if (!this.#isLive()) return;
    this.#channel.send({ type: 'typing', document_id: this.id, is_typing: isTyping });
  }

  /** Sends the visible range, throttled to one message per `viewportThrottleMs`.
   *  `scroll_percentage` runs from 0 (top) to 100 (bottom). */
  setViewport(viewport) {
    const checked = checkViewport(viewport);
    this.#local.viewport = checked;
    if (!this.#isLive()) return;
    this.#viewportThrottle.push({ type: 'viewport', document_id: this.id, viewport: checked });
  }

  /** Sends whether this user's page or editor has focus; repeated values are not sent again. */
  setFocus(focused) {
    if (typeof focused !== 'boolean') throw new TypeError(`focused must be a boolean, got ${String(focused)}`);
    if (this.#local.focused === focused) return;
    this.#local.focused = focused;
    if (!this.#isLive()) return;
    this.#channel.send({ type: 'focus', document_id: this.id, focused });
  }

  /** Leaves the document at once. The handle ends in status `left` and sends nothing more. */
  leave() {
    if (this.#status === 'left' || this.#status === 'failed') return;
    this.#flushThrottles();
    this.#channel.send({ type: 'leave', document_id: this.id });
    this.#channel.forget(this);
    this.#finish('left', new PresenceError('Closed', `left document "${this.id}" before its snapshot arrived`, { documentId: this.id }));
  }

  #isLive() {
    return this.#status === 'joined' && this.#channel.isOpen();
  }

  #cancelThrottles() {
    this.#cursorThrottle.cancel();
    this.#viewportThrottle.cancel();
    this.#keystrokeThrottle.cancel();
  }

  #flushThrottles() {
    this.#cursorThrottle.flush();
    this.#viewportThrottle.flush();
  }

  #finish(status, readyError) {
    this.#cancelThrottles();
    this.#rejectReady(readyError);
    this.#setStatus(status, readyError && status === 'failed' ? readyError : null);
  }

  #setStatus(status, error = null) {
    if (this.#status === status) return;
    this.#status = status;
    this.#events.emit('status', { status, error });
  }

  /** Sends the local state that the gateway lost with the previous connection. */
  #restoreLocalState() {
    const local = this.#local;
    if (local.cursor) {
      this.#channel.send({ type: 'cursor', document_id: this.id, cursor: local.cursor, selection: local.selection });
      this.#cursorThrottle.markSent();
    }
    if (local.viewport) {
      this.#channel.send({ type: 'viewport', document_id: this.id, viewport: local.viewport });
      this.#viewportThrottle.markSent();
    }
    if (!local.focused) this.#channel.send({ type: 'focus', document_id: this.id, focused: false });
  }

  // MARK: Called by PresenceClient

  [kOpened]() {
    if (this.#status === 'left' || this.#status === 'failed') return;
    this.#joinRef = this.#channel.nextRef();
    this.#channel.send({ type: 'join', document_id: this.id, ...this.#channel.joinFields(), ref: this.#joinRef });
  }

  /** The connection dropped (`final` false: a rejoin follows) or the client closed (`final` true). */
  [kLost](final) {
    this.#cancelThrottles();
    this.#joinRef = null;
    if (final) {
      this.#finish('left', new PresenceError('Closed', `connection closed before document "${this.id}" was joined`, { documentId: this.id }));
    } else if (this.#status === 'joined') {
      this.#setStatus('rejoining');
    }
  }

  /** The page is being hidden for good or put in the back-forward cache: leave before the socket closes. */
  [kSuspend]() {
    if (this.#status !== 'joined') return;
    this.#flushThrottles();
    this.#channel.send({ type: 'leave', document_id: this.id });
  }

  /** Returns true if `error` rejects this document's pending join, which then fails. */
  [kJoinFailed](error) {
    const answersJoin =
      this.#joinRef !== null &&
      (error.ref === this.#joinRef || (error.ref === null && error.documentId === this.id && this.#status !== 'joined'));
    if (!answersJoin) return false;
    this.#joinRef = null;
    this.#channel.forget(this);
    for (const user of Array.from(this.#users.values())) this.#removeUser(user.user_id);
    this.#finish('failed', error);
    this.#events.emit('error', error);
    return true;
  }

  [kError](error) {
    if (this.#status === 'left' || this.#status === 'failed') return;
    this.#events.emit('error', error);
  }

  [kReceive](envelope) {
    if (this.#status === 'left' || this.#status === 'failed') return;
    switch (envelope.event_type) {
      case 'snapshot':
        this.#applySnapshot(envelope.payload);
        break;
      case 'presence':
        this.#applyEvent(envelope.payload, envelope.timestamp);
        break;
      case 'batch':
        if (Array.isArray(envelope.payload)) {
          for (const event of envelope.payload) this.#applyEvent(event, envelope.timestamp);
        }
        break;
      default:
        // Event types added to the protocol later are ignored, so an older client keeps working.
        break;
    }
  }

  // MARK: Applying the gateway's state

  /**
   * Replaces the users with the snapshot's, emitting the joins, leaves and updates that turn the old list
   * into the new one. After a reconnect this reports exactly what changed while away, so a user who left
   * meanwhile disappears and no user appears twice.
   */
  #applySnapshot(payload) {
    if (!payload || !Array.isArray(payload.users)) return;
    this.#self = payload.self ?? null;
    this.#joinRef = null;
    const incoming = new Map();
    for (const user of payload.users) {
      if (user && typeof user.user_id === 'string') incoming.set(user.user_id, user);
    }
    for (const userId of Array.from(this.#users.keys())) {
      if (!incoming.has(userId)) this.#removeUser(userId);
    }
    for (const [userId, user] of incoming) {
      const previous = this.#users.get(userId);
      this.#users.set(userId, user);
      if (!previous) {
        this.#events.emit('join', { user, previous: null });
      } else if (presenceDiffers(previous, user)) {
        this.#emitChanges(user, previous);
      }
    }
    const first = this.#status === 'joining';
    this.#setStatus('joined');
    this.#restoreLocalState();
    if (first) this.#resolveReady(this);
  }

  #removeUser(userId) {
    const user = this.#users.get(userId);
    if (!user) return;
    this.#users.delete(userId);
    this.#events.emit('leave', { user, previous: user });
  }

  #applyEvent(event, timestamp) {
    if (event === null || typeof event !== 'object') return;
    const [variant] = Object.keys(event);
    const body = event[variant];
    switch (variant) {
      case 'UserJoined': {
        if (!body || typeof body.user_id !== 'string') return;
        const previous = this.#users.get(body.user_id);
        this.#users.set(body.user_id, body);
        if (!previous) {
          this.#events.emit('join', { user: body, previous: null });
        } else if (presenceDiffers(previous, body)) {
          this.#emitChanges(body, previous);
        }
        return;
      }
      case 'UserLeft':
        this.#removeUser(typeof body === 'string' ? body : body?.user_id);
        return;
      case 'CursorMoved':
        this.#changeUser(body, timestamp, (user) => {
          user.cursor = body.cursor ?? null;
          user.selection = body.selection ?? null;
          user.last_cursor_update = timestamp ?? user.last_cursor_update;
        });
        return;
      case 'TypingChanged':
        this.#changeUser(body, timestamp, (user) => {
          user.state.typing = body.is_typing === true;
        });
        return;
      case 'ViewportChanged':
        this.#changeUser(body, timestamp, (user) => {
          user.state.viewport = body.viewport ?? null;
        });
        return;
      case 'ActivityChanged':
        this.#changeUser(body, timestamp, (user) => {
          user.state.activity = body.activity;
        });
        return;
      case 'UserIdle':
        this.#changeUser(body, null, (user) => {
          user.state.activity = 'Idle';
        });
        return;
      case 'FocusChanged':
        this.#changeUser(body, null, (user) => {
          user.state.focused = body.focused === true;
        });
        return;
      default:
        // Event variants added to the protocol later are ignored.
        return;
    }
  }

  /** Applies `mutate` to a copy of the user named in `body`, stores it and emits what changed. Listeners
   *  may keep the previous object: it is never modified. */
  #changeUser(body, timestamp, mutate) {
    if (!body || typeof body.user_id !== 'string') return;
    const previous = this.#users.get(body.user_id);
    if (!previous) return;
    const user = { ...previous, state: { ...previous.state } };
    mutate(user);
    if (typeof timestamp === 'number') user.last_active_at = timestamp;
    this.#users.set(user.user_id, user);
    if (presenceDiffers(previous, user)) this.#emitChanges(user, previous);
  }

  #emitChanges(user, previous) {
    const event = { user, previous };
    const changed = (pick) => JSON.stringify(pick(user)) !== JSON.stringify(pick(previous));
    if (changed((u) => [u.cursor, u.selection])) this.#events.emit('cursor', event);
    if (changed((u) => u.state.typing)) this.#events.emit('typing', event);
    if (changed((u) => u.state.activity)) this.#events.emit('activity', event);
    if (changed((u) => u.state.viewport)) this.#events.emit('viewport', event);
    if (changed((u) => u.state.focused)) this.#events.emit('focus', event);
    this.#events.emit('update', event);
  }
}

// MARK: - Display helpers (no DOM needed)

/**
 * Returns the typing indicator's text for the names of the users typing: "" for none,
 * "Ada is typing...", "Ada and Grace are typing...", or "3 people are typing...".
 * @param {string[]} names
 */
export function describeTyping(names) {
  if (names.length === 0) return '';
  if (names.length === 1) return `${names[0]} is typing...`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing...`;
  return `${names.length} people are typing...`;
}

/**
 * Converts a user's presence into the CursorRenderer's input, or null if the user has no cursor.
 * The selection is returned in document order whichever way it was made.
 */
export function cursorDisplayFromPresence(user) {
  if (!user || !user.cursor) return null;
  let selection;
  if (user.selection) {
    const { anchor, head } = user.selection;
    const [start, end] = head.offset < anchor.offset ? [head, anchor] : [anchor, head];
    if (start.offset !== end.offset) {
      selection = {
        startLine: start.line,
        startColumn: start.column,
        startOffset: start.offset,
        endLine: end.line,
        endColumn: end.column,
        endOffset: end.offset,
      };
    }
  }
  return {
    userId: user.user_id,
    name: user.name,
    color: user.color,
    position: { line: user.cursor.line, column: user.cursor.column, offset: user.cursor.offset },
    selection,
    isTyping: user.state?.typing === true,
    lastActive: user.last_active_at,
  };
}

// MARK: - DOM helpers

const DEFAULT_STYLE_ID = 'presence-client-default-styles';

// Defaults wrapped in :where() have no specificity, so any rule of the page overrides them.
const DEFAULT_STYLES = `
:where(.remote-cursor) { position: absolute; width: 2px; pointer-events: none; z-index: 2; }
:where(.remote-cursor .cursor-label) {
  position: absolute; left: -1px; bottom: 100%; display: none; padding: 1px 4px; border-radius: 3px 3px 3px 0;
  color: #fff; font: 600 11px/1.3 system-ui, sans-serif; white-space: nowrap;
}
:where(.remote-cursor.remote-cursor--label-below .cursor-label) { bottom: auto; top: 100%; border-radius: 0 3px 3px 3px; }
:where(.remote-cursor.remote-cursor--label-visible .cursor-label) { display: block; }
:where(.remote-selection) { position: absolute; inset: 0; pointer-events: none; z-index: 1; }
:where(.remote-selection-rect) { position: absolute; opacity: 0.25; }
:where(.presence-overlay) { position: absolute; pointer-events: none; overflow: hidden; }
`;

function installDefaultStyles(doc) {
  if (doc.getElementById(DEFAULT_STYLE_ID)) return;
  const style = doc.createElement('style');
  style.id = DEFAULT_STYLE_ID;
  style.textContent = DEFAULT_STYLES;
  doc.head.prepend(style);
}

/**
 * Draws remote users' carets, name labels and selections over an editor, each in the user's colour. The
 * name label shows while the user types and for `labelAfterMoveMs` after the caret moves.
 *
 * `editor` is an adapter: `container` (a positioned element that contains the overlay), `getCoordinates`
 * ({line, column} to {x, y, height} in pixels relative to the container, or null when not visible), and
 * optionally `getSelectionRects` and `onLayoutChange`. TextareaAdapter is one; docs/client.md shows
 * others.
 */
export class CursorRenderer {
  #editor;
  #cursors = new Map();
  #labelAfterMoveMs;
  #stopLayoutListener = null;

  constructor(editor, { labelAfterMoveMs = 1500 } = {}) {
    if (!editor || !editor.container || typeof editor.getCoordinates !== 'function') {
      throw new TypeError('CursorRenderer needs an editor adapter with `container` and `getCoordinates(position)`');
    }
    this.#editor = editor;
    this.#labelAfterMoveMs = labelAfterMoveMs;
    installDefaultStyles(editor.container.ownerDocument);
    if (typeof editor.onLayoutChange === 'function') {
      this.#stopLayoutListener = editor.onLayoutChange(() => this.refresh());
    }
  }

  /** Shows or moves a user's caret. `data` is a CursorDisplay; see cursorDisplayFromPresence. */
  updateCursor(data) {
    let cursor = this.#cursors.get(data.userId);
    if (!cursor) {
      cursor = this.#createCursorElement(data);
      this.#cursors.set(data.userId, cursor);
    }
    const previous = cursor.data;
    cursor.data = data;
    cursor.element.style.backgroundColor = data.color;
    cursor.label.style.backgroundColor = data.color;
    cursor.label.textContent = data.name;
    cursor.element.classList.toggle('remote-cursor--typing', data.isTyping);

    const moved =
      !previous || previous.position.line !== data.position.line || previous.position.column !== data.position.column;
    if (moved && this.#labelAfterMoveMs > 0) {
      clearTimeout(cursor.labelTimer);
      cursor.recentlyMoved = true;
      cursor.labelTimer = setTimeout(() => {
        cursor.recentlyMoved = false;
        this.#updateLabel(cursor);
      }, this.#labelAfterMoveMs);
    }
    this.#place(cursor);
    this.#updateLabel(cursor);
  }

  removeCursor(userId) {
    const cursor = this.#cursors.get(userId);
    if (!cursor) return;
    clearTimeout(cursor.labelTimer);
    cursor.element.remove();
    cursor.selectionLayer.remove();
    this.#cursors.delete(userId);
  }

  /** Removes every caret. */
  clear() {
    for (const userId of Array.from(this.#cursors.keys())) this.removeCursor(userId);
  }

  /** Positions every caret again, after the editor scrolled, resized or changed its text. Called by the
   *  adapter's `onLayoutChange` when it has one. */
  refresh() {
    for (const cursor of this.#cursors.values()) this.#place(cursor);
  }

  /** Removes every caret and stops listening to the editor. */
  destroy() {
    this.clear();
    this.#stopLayoutListener?.();
    this.#stopLayoutListener = null;
  }

  /**
   * Keeps the carets in step with a document: every other user's cursor, selection and typing state.
   * Returns a function that stops it.
   * @param {PresenceDocument} doc
   * @param {{includeSelf?: boolean}} [options] `includeSelf` also draws this user's carets from other tabs.
   */
  attach(doc, { includeSelf = false } = {}) {
    const show = (user) => {
      if (!includeSelf && user.user_id === doc.selfId) return;
      const display = cursorDisplayFromPresence(user);
      if (display) {
        this.updateCursor(display);
      } else {
        this.removeCursor(user.user_id);
      }
    };
    for (const user of doc.users.values()) show(user);
    const stops = [
      doc.on('join', (event) => show(event.user)),
      doc.on('update', (event) => show(event.user)),
      doc.on('leave', (event) => this.removeCursor(event.user.user_id)),
      doc.on('status', (event) => {
        if (event.status === 'left' || event.status === 'failed') this.clear();
      }),
    ];
    return () => stops.forEach((stop) => stop());
  }

  #createCursorElement(data) {
    const doc = this.#editor.container.ownerDocument;
    const selectionLayer = doc.createElement('div');
    selectionLayer.className = 'remote-selection';
    selectionLayer.dataset.userId = data.userId;

    const element = doc.createElement('div');
    element.className = 'remote-cursor';
    element.dataset.userId = data.userId;
    const label = doc.createElement('span');
    label.className = 'cursor-label';
    element.appendChild(label);

    this.#editor.container.appendChild(selectionLayer);
    this.#editor.container.appendChild(element);
    return { element, label, selectionLayer, data: null, labelTimer: null, recentlyMoved: false };
  }

  #place(cursor) {
    const { position, selection, color } = cursor.data;
    const coords = this.#editor.getCoordinates(position);
    const style = cursor.element.style;
    cursor.element.dataset.line = String(position.line);
    cursor.element.dataset.column = String(position.column);
    if (!coords) {
      style.display = 'none';
    } else {
      style.display = '';
      style.left = `${coords.x}px`;
      style.top = `${coords.y}px`;
      style.height = `${coords.height}px`;
      // A label above the first visible line would be cut off by the editor's edge.
      cursor.element.classList.toggle('remote-cursor--label-below', coords.y < coords.height);
    }

    cursor.selectionLayer.replaceChildren();
    if (!selection) return;
    const start = { line: selection.startLine, column: selection.startColumn, offset: selection.startOffset };
    const end = { line: selection.endLine, column: selection.endColumn, offset: selection.endOffset };
    const rects = this.#selectionRects(start, end);
    const doc = cursor.selectionLayer.ownerDocument;
    for (const rect of rects) {
      const box = doc.createElement('div');
      box.className = 'remote-selection-rect';
      box.style.backgroundColor = color;
      box.style.left = `${rect.x}px`;
      box.style.top = `${rect.y}px`;
      box.style.width = `${Math.max(rect.width, 0)}px`;
      box.style.height = `${rect.height}px`;
      cursor.selectionLayer.appendChild(box);
    }
  }

  #selectionRects(start, end) {
    if (typeof this.#editor.getSelectionRects === 'function') return this.#editor.getSelectionRects(start, end);
    // Without the adapter's help only a selection within one visual line can be drawn.
    const from = this.#editor.getCoordinates(start);
    const to = this.#editor.getCoordinates(end);
    if (!from || !to || from.y !== to.y) return [];
    return [{ x: from.x, y: from.y, width: to.x - from.x, height: from.height }];
  }

  #updateLabel(cursor) {
    const visible = cursor.data.isTyping || cursor.recentlyMoved;
    cursor.element.classList.toggle('remote-cursor--label-visible', visible);
  }
}

/**
 * Shows who is typing in a container element: "Ada is typing...", "Ada and Grace are typing...",
 * "3 people are typing...". The container gets the class `hidden` while no one types.
 */
export class TypingIndicator {
  #container;
  #typingUsers = new Map();

  constructor(container) {
    if (!container || typeof container.textContent !== 'string') {
      throw new TypeError('TypingIndicator needs a container element');
    }
    this.#container = container;
    this.#render();
  }

  /** The text shown now. */
  get text() {
    return describeTyping(Array.from(this.#typingUsers.values(), (entry) => entry.name));
  }

  updateTyping(userId, userName, isTyping) {
    if (isTyping) {
      const entry = this.#typingUsers.get(userId);
      this.#typingUsers.set(userId, { name: userName, startedAt: entry ? entry.startedAt : Date.now() });
    } else {
      this.#typingUsers.delete(userId);
    }
    this.#render();
  }

  clear() {
    this.#typingUsers.clear();
    this.#render();
  }

  /**
   * Keeps the indicator in step with a document's other users; returns a function that stops it.
   * @param {PresenceDocument} doc
   * @param {{includeSelf?: boolean}} [options]
   */
  attach(doc, { includeSelf = false } = {}) {
    const show = (user) => {
      if (!includeSelf && user.user_id === doc.selfId) return;
      this.updateTyping(user.user_id, user.name, user.state?.typing === true);
    };
    for (const user of doc.users.values()) show(user);
    const stops = [
      doc.on('join', (event) => show(event.user)),
      doc.on('update', (event) => show(event.user)),
      doc.on('leave', (event) => this.updateTyping(event.user.user_id, event.user.name, false)),
      doc.on('status', (event) => {
        if (event.status === 'left' || event.status === 'failed') this.clear();
      }),
    ];
    return () => stops.forEach((stop) => stop());
  }

  #render() {
    const text = this.text;
    this.#container.textContent = text;
    this.#container.classList.toggle('hidden', text === '');
  }
}

// Computed styles that decide where text wraps and how wide each glyph is.
const MIRRORED_PROPERTIES = [
  'fontFamily', 'fontSize', 'fontStyle', 'fontWeight', 'fontVariant', 'fontStretch', 'fontFeatureSettings',
  'letterSpacing', 'wordSpacing', 'lineHeight', 'textTransform', 'textIndent', 'tabSize', 'textRendering',
  'whiteSpace', 'wordBreak', 'overflowWrap', 'paddingTop', 'paddingRight', 'paddingBottom', 'paddingLeft',
  'direction',
];

/**
 * The editor adapter for a plain `<textarea>`: maps lines and columns to pixels by laying the text out in
 * a hidden copy of the textarea with the same font, width and wrapping, and reads this user's selection
 * and viewport. It puts an overlay element for the carets over the textarea, and makes the textarea's
 * parent a positioned element if it was not.
 */
export class TextareaAdapter {
  #mirror;
  #resizeObserver = null;

  /** @param {HTMLTextAreaElement} textarea */
  constructor(textarea) {
    if (!textarea || textarea.tagName !== 'TEXTAREA') {
      throw new TypeError(`TextareaAdapter needs a <textarea> element, got ${textarea ? textarea.tagName : String(textarea)}`);
    }
    this.textarea = textarea;
    const doc = textarea.ownerDocument;
    const view = doc.defaultView;
    const parent = textarea.parentElement;
    if (view.getComputedStyle(parent).position === 'static') parent.style.position = 'relative';

    this.container = doc.createElement('div');
    this.container.className = 'presence-overlay';
    this.container.style.position = 'absolute';
    this.container.style.pointerEvents = 'none';
    this.container.style.overflow = 'hidden';
    textarea.insertAdjacentElement('afterend', this.container);

    this.#mirror = doc.createElement('div');
    this.#mirror.setAttribute('aria-hidden', 'true');
    doc.body.appendChild(this.#mirror);
    this.#placeOverlay();
  }

  /** Returns the caret's top-left corner and height in pixels relative to `container`, or null when
   *  the line is scrolled out of view. Positions past the end of a line or of the text are clamped. */
  getCoordinates(position) {
    this.#placeOverlay();
    const box = this.#measure(this.offsetAt(position));
    const x = box.left - this.textarea.scrollLeft;
    const y = box.top - this.textarea.scrollTop;
    if (y + box.height < 0 || y > this.textarea.clientHeight) return null;
    return { x, y, height: box.height };
  }

  /** Returns the rectangles that cover the text from `start` to `end`, relative to `container`: one for a
   *  selection within one visual line, else the rest of the first line, the lines between, and the start
   *  of the last line. */
  getSelectionRects(start, end) {
    let from = this.offsetAt(start);
    let to = this.offsetAt(end);
    if (to < from) [from, to] = [to, from];
    if (from === to) return [];
    const a = this.#measure(from);
    const b = this.#measure(to);
    const style = this.textarea.ownerDocument.defaultView.getComputedStyle(this.textarea);
    const scrollLeft = this.textarea.scrollLeft;
    const scrollTop = this.textarea.scrollTop;
    const left = parseFloat(style.paddingLeft) - scrollLeft;
    const right = this.textarea.clientWidth - parseFloat(style.paddingRight) - scrollLeft;
    const ax = a.left - scrollLeft;
    const ay = a.top - scrollTop;
    const bx = b.left - scrollLeft;
    const by = b.top - scrollTop;
    if (a.top === b.top) return [{ x: ax, y: ay, width: bx - ax, height: a.height }];
    const rects = [{ x: ax, y: ay, width: right - ax, height: a.height }];
    if (by > ay + a.height) rects.push({ x: left, y: ay + a.height, width: right - left, height: by - ay - a.height });
    rects.push({ x: left, y: by, width: bx - left, height: b.height });
    return rects;
  }

  /** Returns the string offset of a line and column, clamped to the text. */
  offsetAt({ line, column }) {
    const text = this.textarea.value;
    let start = 0;
    for (let current = 0; current < line; current++) {
      const newline = text.indexOf('\n', start);
      if (newline === -1) return text.length;
      start = newline + 1;
    }
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    return Math.min(start + Math.max(column, 0), end);
  }

  /** Returns the line, column and offset of a string offset. */
  positionAt(offset) {
    const text = this.textarea.value;
    const clamped = Math.max(0, Math.min(offset, text.length));
    const before = text.slice(0, clamped);
    const lineStart = before.lastIndexOf('\n') + 1;
    let line = 0;
    for (let index = before.indexOf('\n'); index !== -1; index = before.indexOf('\n', index + 1)) line++;
    return { line, column: clamped - lineStart, offset: clamped };
  }

  /** Returns this user's cursor (the selection's moving end) and selection, or a null selection when
   *  nothing is selected. */
  readSelection() {
    const { selectionStart, selectionEnd, selectionDirection } = this.textarea;
    const isBackward = selectionDirection === 'backward';
    const anchorOffset = isBackward ? selectionEnd : selectionStart;
    const headOffset = isBackward ? selectionStart : selectionEnd;
    const cursor = this.positionAt(headOffset);
    if (selectionStart === selectionEnd) return { cursor, selection: null };
    return { cursor, selection: { anchor: this.positionAt(anchorOffset), head: cursor, is_backward: isBackward } };
  }

  /** Returns the visible line range and the scroll position from 0 to 100.
   *  NOTE: lines are counted as visual rows of one line height, which equals text lines only while no
   *  line wraps. */
  readViewport() {
    const textarea = this.textarea;
    const style = textarea.ownerDocument.defaultView.getComputedStyle(textarea);
    const lineHeight = parseFloat(style.lineHeight) || parseFloat(style.fontSize) * 1.2;
    const lastLine = this.positionAt(textarea.value.length).line;
    const topLine = Math.min(lastLine, Math.floor(textarea.scrollTop / lineHeight));
    const bottomLine = Math.min(lastLine, Math.floor((textarea.scrollTop + textarea.clientHeight) / lineHeight));
    const scrollable = textarea.scrollHeight - textarea.clientHeight;
    const percentage = scrollable > 0 ? Math.min(100, (textarea.scrollTop / scrollable) * 100) : 0;
    return { top_line: topLine, bottom_line: bottomLine, scroll_percentage: percentage };
  }

  /** Calls `callback` after the textarea scrolls, resizes or changes its text; returns a function that
   *  stops it. */
  onLayoutChange(callback) {
    const textarea = this.textarea;
    const view = textarea.ownerDocument.defaultView;
    const handler = () => {
      this.#placeOverlay();
      callback();
    };
    textarea.addEventListener('scroll', handler);
    textarea.addEventListener('input', handler);
    view.addEventListener('resize', handler);
    const observer = typeof view.ResizeObserver === 'function' ? new view.ResizeObserver(handler) : null;
    observer?.observe(textarea);
    return () => {
      textarea.removeEventListener('scroll', handler);
      textarea.removeEventListener('input', handler);
      view.removeEventListener('resize', handler);
      observer?.disconnect();
    };
  }

  /** Removes the overlay and the hidden copy. */
  destroy() {
    this.container.remove();
    this.#mirror.remove();
  }

  /** Keeps the overlay exactly over the textarea's padding box, inside its border. */
  #placeOverlay() {
    const textarea = this.textarea;
    const style = this.container.style;
    style.left = `${textarea.offsetLeft + textarea.clientLeft}px`;
    style.top = `${textarea.offsetTop + textarea.clientTop}px`;
    style.width = `${textarea.clientWidth}px`;
    style.height = `${textarea.clientHeight}px`;
  }

  /** Lays the text out in the hidden copy and returns the box of the character at `offset`, relative to
   *  the textarea's padding box before scrolling. */
  #measure(offset) {
    const textarea = this.textarea;
    const doc = textarea.ownerDocument;
    const computed = doc.defaultView.getComputedStyle(textarea);
    const mirror = this.#mirror;
    const style = mirror.style;
    for (const property of MIRRORED_PROPERTIES) style[property] = computed[property];
    style.position = 'absolute';
    style.visibility = 'hidden';
    style.top = '0';
    style.left = '-10000px';
    style.overflow = 'hidden';
    style.border = '0';
    style.boxSizing = 'content-box';
    const paddingX = parseFloat(computed.paddingLeft) + parseFloat(computed.paddingRight);
    style.width = `${Math.max(textarea.clientWidth - paddingX, 0)}px`;

    // The character at the offset goes in a span, so the text wraps exactly as in the textarea. At a
    // line end or the end of the text a zero-width space takes its place, because a break
    // after it changes nothing.
    const text = textarea.value;
    const next = text.charAt(offset);
    const marker = doc.createElement('span');
    let rest = text.slice(offset);
    if (next === '' || next === '\n') {
      marker.textContent = '\u200b';
    } else {
      const width = next.codePointAt(0) > 0xffff ? 2 : 1;
      marker.textContent = text.slice(offset, offset + width);
      rest = text.slice(offset + width);
    }
    mirror.replaceChildren(doc.createTextNode(text.slice(0, offset)), marker, doc.createTextNode(rest));

    // The span covers the font's glyph height, centred in the line, while a caret spans the whole line
    // height. With line-height `normal` the two are the same.
    const lineHeight = parseFloat(computed.lineHeight);
    if (!Number.isFinite(lineHeight)) {
      return { left: marker.offsetLeft, top: marker.offsetTop, height: marker.offsetHeight };
    }
    const top = marker.offsetTop + (marker.offsetHeight - lineHeight) / 2;
    return { left: marker.offsetLeft, top, height: lineHeight };
  }
}
