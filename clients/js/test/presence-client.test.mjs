// PresenceClient against a real gateway process on loopback, with Debian's `ws` as the WebSocket.
// Run: NODE_PATH=/usr/share/nodejs node --test clients/js/test/

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { PresenceClient } from '../presence-client.js';
import { GatewayProcess, loadWebSocket, sleep, usesGateway } from '../test-support/gateway-process.mjs';

const WebSocket = loadWebSocket();
const NAMES = { ada: 'Ada Lovelace', grace: 'Grace Hopper', linus: 'Linus Torvalds' };
const EVENT_TYPES = ['join', 'leave', 'update', 'cursor', 'typing', 'activity', 'viewport', 'focus', 'status'];

/** Returns a WebSocket class that records every message the client sends and every frame it receives. */
function recordingWebSocket() {
  const sent = [];
  const received = [];
  class RecordingWebSocket extends WebSocket {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (event) => received.push(JSON.parse(event.data)));
    }

    send(data, ...rest) {
      sent.push(JSON.parse(data));
      return super.send(data, ...rest);
    }
  }
  return { RecordingWebSocket, sent, received };
}

function newClient(gateway, userId, options = {}) {
  return new PresenceClient({
    url: gateway.url,
    WebSocket,
    user: { id: userId, name: NAMES[userId] },
    workspaceId: 'w1',
    pageLifecycle: false,
    reconnect: { initialDelayMs: 50, maxDelayMs: 400 },
    ...options,
  });
}

/** Polls `check` every 10 ms until it returns a truthy value, which it returns. */
async function waitFor(check, description, timeoutMs = 3000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${description}`);
    await sleep(10);
  }
}

function recordEvents(doc) {
  const events = [];
  for (const type of EVENT_TYPES) doc.on(type, (event) => events.push({ type, ...event }));
  return events;
}

let documentCounter = 0;
function uniqueDocument(name) {
  documentCounter += 1;
  return `${name}-${process.pid}-${documentCounter}`;
}

describe('PresenceClient', () => {
  let gateway;
  const clients = [];
  const track = (client) => {
    clients.push(client);
    return client;
  };

  before(async () => {
    gateway = await GatewayProcess.start();
  });

  after(async () => {
    for (const client of clients) client.close();
    await gateway?.dispose();
  });

  it('join resolves with the snapshot', async () => {
    const ada = track(newClient(gateway, 'ada'));
    const documentId = uniqueDocument('join');
    const statuses = [];
    ada.on('status', (event) => statuses.push(event.status));

    const doc = ada.join(documentId);
    assert.equal(doc.status, 'joining');
    const joined = await doc.ready;

    assert.equal(joined, doc);
    assert.equal(doc.status, 'joined');
    assert.equal(doc.selfId, 'ada');
    assert.equal(doc.self.name, 'Ada Lovelace');
    assert.equal(doc.self.document_id, documentId);
    assert.match(doc.self.color, /^hsl\(\d{1,3}, 70%, 50%\)$/);
    assert.deepEqual(Array.from(doc.users.keys()), ['ada']);
    assert.equal(doc.self.state.online, true);
    assert.deepEqual(statuses, ['connecting', 'open']);
    assert.equal(ada.join(documentId), doc, 'joining the same document twice returns the same handle');
  });

  it('join events reach users already present', async () => {
    const documentId = uniqueDocument('events');
    const ada = track(newClient(gateway, 'ada'));
    const adaDoc = await ada.join(documentId).ready;
    const adaEvents = recordEvents(adaDoc);

    const grace = track(newClient(gateway, 'grace'));
    const graceDoc = grace.join(documentId);
    const graceEvents = recordEvents(graceDoc);
    await graceDoc.ready;

    await waitFor(() => adaDoc.users.has('grace'), 'Ada to see Grace join');
    const joins = adaEvents.filter((event) => event.type === 'join');
    assert.equal(joins.length, 1);
    assert.equal(joins[0].user.user_id, 'grace');
    assert.equal(joins[0].user.name, 'Grace Hopper');

    const graceJoins = graceEvents.filter((event) => event.type === 'join').map((event) => event.user.user_id);
    assert.deepEqual(graceJoins.sort(), ['ada', 'grace'], 'the snapshot is reported as joins');
    assert.deepEqual(graceDoc.otherUsers().map((user) => user.user_id), ['ada']);
  });

  it('presence changes reach the other user', async (t) => {
    const documentId = uniqueDocument('presence');
    const ada = track(newClient(gateway, 'ada'));
    const grace = track(newClient(gateway, 'grace'));
    const adaDoc = await ada.join(documentId).ready;
    const graceDoc = await grace.join(documentId).ready;
    await waitFor(() => adaDoc.users.has('grace'), 'Ada to see Grace');
    const events = recordEvents(adaDoc);

    const anchor = { line: 1, column: 2, offset: 12 };
    const head = { line: 3, column: 4, offset: 40 };
    graceDoc.moveCursor(head, { anchor, head });
    const cursorEvent = await waitFor(() => events.find((event) => event.type === 'cursor'), 'a cursor event');
    assert.equal(cursorEvent.user.user_id, 'grace');
    assert.deepEqual(cursorEvent.user.cursor, head);
    assert.deepEqual(cursorEvent.user.selection, { anchor, head, is_backward: false });
    assert.equal(cursorEvent.previous.cursor, null);
    assert.ok(events.some((event) => event.type === 'update' && event.user.cursor), 'a cursor change is also an update');

    graceDoc.keystroke();
    await waitFor(() => adaDoc.users.get('grace').state.typing === true, 'Grace to be typing');
    // The gateway stops typing after its debounce (500 ms by default) without another keystroke.
    await waitFor(() => adaDoc.users.get('grace').state.typing === false, 'Grace to stop typing', 3000);
    const typingChanges = events.filter((event) => event.type === 'typing').map((event) => event.user.state.typing);
    assert.deepEqual(typingChanges, [true, false]);

    graceDoc.setTyping(true);
    await waitFor(() => adaDoc.users.get('grace').state.typing === true, 'explicit typing to start');
    graceDoc.setTyping(false);
    await waitFor(() => adaDoc.users.get('grace').state.typing === false, 'explicit typing to stop');

    if (!usesGateway) {
      t.diagnostic('viewport and focus are skipped: PRESENCE_SERVER_CMD names a server without them');
      return;
    }
    const viewport = { top_line: 10, bottom_line: 50, scroll_percentage: 25.5 };
    graceDoc.setViewport(viewport);
    await waitFor(() => events.find((event) => event.type === 'viewport'), 'a viewport event');
    assert.deepEqual(adaDoc.users.get('grace').state.viewport, viewport);

    graceDoc.setFocus(false);
    await waitFor(() => events.find((event) => event.type === 'focus'), 'a focus event');
    assert.equal(adaDoc.users.get('grace').state.focused, false);
  });

  it('throttle delivers the last position', async () => {
    const documentId = uniqueDocument('throttle');
    const ada = track(newClient(gateway, 'ada'));
    const recording = recordingWebSocket();
    const grace = track(newClient(gateway, 'grace', { WebSocket: recording.RecordingWebSocket }));
    const adaDoc = await ada.join(documentId).ready;
    const graceDoc = await grace.join(documentId).ready;
    await waitFor(() => adaDoc.users.has('grace'), 'Ada to see Grace');

    // 200 moves in 400 ms: a 50 ms throttle allows about 9 messages, and the final one must arrive.
    const moves = 200;
    for (let index = 0; index < moves; index++) {
      graceDoc.moveCursor({ line: index, column: index % 80, offset: index * 81 });
      if (index % 10 === 9) await sleep(20);
    }
    const last = { line: moves - 1, column: (moves - 1) % 80, offset: (moves - 1) * 81 };
    await waitFor(() => adaDoc.users.get('grace').cursor?.line === last.line, 'the last position to arrive');
    assert.deepEqual(adaDoc.users.get('grace').cursor, last);

    const cursorMessages = recording.sent.filter((message) => message.type === 'cursor');
    assert.ok(cursorMessages.length >= 2, `expected at least a leading and a trailing message, sent ${cursorMessages.length}`);
    assert.ok(cursorMessages.length <= 12, `expected at most 12 cursor messages for ${moves} moves, sent ${cursorMessages.length}`);
    assert.deepEqual(cursorMessages.at(-1).cursor, last);
  });

  it('batched frames are applied in order', { skip: !usesGateway && 'needs batch_ms support' }, async () => {
    const documentId = uniqueDocument('batch');
    const recording = recordingWebSocket();
    const ada = track(newClient(gateway, 'ada', { WebSocket: recording.RecordingWebSocket, batchMs: 100 }));
    const grace = track(newClient(gateway, 'grace', { batchMs: 0 }));
    const linus = track(newClient(gateway, 'linus', { batchMs: 0 }));
    const adaDoc = await ada.join(documentId).ready;
    const graceDoc = await grace.join(documentId).ready;
    const linusDoc = await linus.join(documentId).ready;
    await waitFor(() => adaDoc.users.size === 3, 'Ada to see three users');

    for (let step = 0; step < 10; step++) {
      graceDoc.moveCursor({ line: step, column: 1, offset: step * 10 + 1 });
      linusDoc.moveCursor({ line: step, column: 2, offset: step * 10 + 2 });
      await sleep(15);
    }
    graceDoc.keystroke();
    await waitFor(
      () => adaDoc.users.get('grace').cursor?.line === 9 && adaDoc.users.get('linus').cursor?.line === 9,
      'both final positions',
    );
    await waitFor(() => adaDoc.users.get('grace').state.typing, 'Grace typing');

    const batches = recording.received.filter((envelope) => envelope.event_type === 'batch');
    assert.ok(batches.length > 0, 'the gateway sent batch frames for batch_ms=100');
    assert.ok(batches.every((envelope) => envelope.document_id === documentId && Array.isArray(envelope.payload)));
    assert.deepEqual(adaDoc.users.get('grace').cursor, { line: 9, column: 1, offset: 91 });
    assert.deepEqual(adaDoc.users.get('linus').cursor, { line: 9, column: 2, offset: 92 });
  });

  it('binary frames are decoded', { skip: !usesGateway && 'needs gateway configuration' }, async () => {
    const binary = await GatewayProcess.start({ server: { binary_frames: true } });
    const ada = newClient(binary, 'ada');
    const grace = newClient(binary, 'grace');
    try {
      const documentId = uniqueDocument('binary');
      const adaDoc = await ada.join(documentId).ready;
      const graceDoc = await grace.join(documentId).ready;
      await waitFor(() => adaDoc.users.has('grace'), 'Ada to see Grace over binary frames');
      graceDoc.moveCursor({ line: 2, column: 5, offset: 30 });
      await waitFor(() => adaDoc.users.get('grace').cursor?.offset === 30, 'the cursor over binary frames');
    } finally {
      ada.close();
      grace.close();
      await binary.dispose();
    }
  });

  it('moveCursor rejects invalid positions', async () => {
    const ada = track(newClient(gateway, 'ada'));
    const doc = await ada.join(uniqueDocument('invalid')).ready;
    assert.throws(() => doc.moveCursor({ line: 1, column: Number.NaN, offset: 0 }), /cursor\.column must be an integer .* got NaN/);
    assert.throws(() => doc.moveCursor({ line: -1, column: 0, offset: 0 }), /cursor\.line must be an integer/);
    assert.throws(() => doc.moveCursor(null), /cursor must be an object/);
    assert.throws(
      () => doc.setViewport({ top_line: 0, bottom_line: 1, scroll_percentage: Infinity }),
      /viewport\.scroll_percentage must be a finite number, got Infinity/,
    );
    assert.throws(() => doc.setTyping('yes'), /isTyping must be a boolean/);
  });

  it('two tabs of one user count once', async () => {
    const documentId = uniqueDocument('tabs');
    const ada = track(newClient(gateway, 'ada'));
    const adaDoc = await ada.join(documentId).ready;
    const events = recordEvents(adaDoc);
    const firstTab = track(newClient(gateway, 'grace'));
    const secondTab = track(newClient(gateway, 'grace'));
    await firstTab.join(documentId).ready;
    await secondTab.join(documentId).ready;
    await waitFor(() => adaDoc.users.has('grace'), 'Ada to see Grace');

    secondTab.close();
    await sleep(300);
    assert.ok(adaDoc.users.has('grace'), 'Grace stays present while one tab is open');
    assert.equal(events.filter((event) => event.type === 'join').length, 1);
    assert.equal(events.filter((event) => event.type === 'leave').length, 0);
  });

  it('leave and close remove the user', async () => {
    const documentId = uniqueDocument('leave');
    const ada = track(newClient(gateway, 'ada'));
    const grace = track(newClient(gateway, 'grace'));
    const linus = track(newClient(gateway, 'linus'));
    const adaDoc = await ada.join(documentId).ready;
    const graceDoc = await grace.join(documentId).ready;
    await linus.join(documentId).ready;
    await waitFor(() => adaDoc.users.size === 3, 'Ada to see three users');
    const events = recordEvents(adaDoc);
    const graceStatuses = [];
    graceDoc.on('status', (event) => graceStatuses.push(event.status));

    const leftAt = Date.now();
    graceDoc.leave();
    assert.equal(graceDoc.status, 'left');
    assert.deepEqual(graceStatuses, ['left']);
    assert.equal(grace.documents.size, 0);
    await waitFor(() => !adaDoc.users.has('grace'), 'Grace to leave', 1000);
    assert.ok(Date.now() - leftAt < 1000);
    const leave = events.find((event) => event.type === 'leave');
    assert.equal(leave.user.user_id, 'grace');

    linus.close();
    assert.equal(linus.status, 'closed');
    await waitFor(() => !adaDoc.users.has('linus'), 'Linus to leave after closing', 1000);
    assert.deepEqual(Array.from(adaDoc.users.keys()), ['ada']);
  });

  it('full document rejects the join', { skip: !usesGateway && 'needs gateway configuration' }, async () => {
    const small = await GatewayProcess.start({ presence: { max_users_per_document: 1 } });
    const ada = newClient(small, 'ada');
    const grace = newClient(small, 'grace');
    try {
      const documentId = uniqueDocument('capacity');
      await ada.join(documentId).ready;
      const graceDoc = grace.join(documentId);
      const errors = [];
      graceDoc.on('error', (error) => errors.push(error));

      await assert.rejects(graceDoc.ready, (error) => {
        assert.equal(error.name, 'PresenceError');
        assert.equal(error.code, 'DocumentAtCapacity');
        assert.match(error.message, /\b1\b/);
        return true;
      });
      assert.equal(graceDoc.status, 'failed');
      assert.equal(errors.length, 1);
      assert.equal(grace.documents.size, 0);
      assert.equal(grace.status, 'open', 'the connection stays open after an error');
    } finally {
      ada.close();
      grace.close();
      await small.dispose();
    }
  });

  it('gateway restart leaves no ghost and no duplicate', async () => {
    const restarting = await GatewayProcess.start();
    const ada = newClient(restarting, 'ada');
    const grace = newClient(restarting, 'grace');
    const linus = newClient(restarting, 'linus');
    try {
      const documentId = uniqueDocument('restart');
      const adaDoc = await ada.join(documentId).ready;
      const graceDoc = await grace.join(documentId).ready;
      await linus.join(documentId).ready;
      await waitFor(() => adaDoc.users.size === 3 && graceDoc.users.size === 3, 'three users on both sides');
      const graceCursor = { line: 7, column: 3, offset: 90 };
      graceDoc.moveCursor(graceCursor);
      await waitFor(() => adaDoc.users.get('grace').cursor, 'Grace cursor before the restart');
      const events = recordEvents(adaDoc);
      const statuses = [];
      ada.on('status', (event) => statuses.push(event.status));

      // A crash sends no UserLeft, so only the snapshot after the rejoin can tell Ada who went away.
      await restarting.stop('SIGKILL');
      await waitFor(() => adaDoc.status === 'rejoining', 'Ada to notice the drop');
      assert.equal(adaDoc.users.size, 3, 'users stay as last seen while away');
      linus.close();
      await restarting.start();

      await waitFor(
        () => adaDoc.status === 'joined' && adaDoc.users.size === 2 && adaDoc.users.get('grace')?.cursor,
        'Ada to rejoin and see Grace with her cursor',
        10000,
      );
      await waitFor(() => graceDoc.status === 'joined' && graceDoc.users.size === 2, 'Grace to rejoin', 10000);
      assert.deepEqual(Array.from(adaDoc.users.keys()).sort(), ['ada', 'grace']);
      assert.deepEqual(adaDoc.users.get('grace').cursor, graceCursor, 'the cursor is sent again after a rejoin');
      assert.ok(statuses.includes('reconnecting'));
      assert.equal(ada.status, 'open');

      // Counting joins and leaves from the moment all three were present: each present user must net
      // to zero (no duplicate) and Linus to one leave (no ghost).
      const balance = new Map();
      for (const event of events) {
        if (event.type !== 'join' && event.type !== 'leave') continue;
        const delta = event.type === 'join' ? 1 : -1;
        balance.set(event.user.user_id, (balance.get(event.user.user_id) ?? 0) + delta);
      }
      assert.equal(balance.get('linus'), -1);
      assert.equal(balance.get('grace') ?? 0, 0);
      assert.equal(balance.get('ada') ?? 0, 0);
    } finally {
      ada.close();
      grace.close();
      linus.close();
      await restarting.dispose();
    }
  });
});
