'use strict';
// Drives the gateway's echo endpoint with Node's `ws` client (Debian's node-ws).
//
// Usage: NODE_PATH=/usr/share/nodejs node ws_client_test.js BASE_URL [CA_FILE]
//
// BASE_URL is ws://127.0.0.1:PORT or wss://127.0.0.1:PORT; with wss, CA_FILE is the certificate
// that signed the gateway's. The gateway must run with echo_path = "/echo",
// max_message_bytes = 65536 and allowed_origins = ["https://app.test"].
//
// Prints one "PASS name" or "FAIL name: reason" line per case and exits 1 when any case failed.

const fs = require('fs');
const WebSocket = require('ws');

const MAX_MESSAGE_BYTES = 65536;
const CASE_TIMEOUT_MS = 20000;

const baseURL = process.argv[2];
const caFile = process.argv[3];
if (!baseURL) {
  console.error('usage: node ws_client_test.js ws://127.0.0.1:PORT [CA_FILE]');
  process.exit(2);
}
const tlsOptions = baseURL.startsWith('wss://') ? { ca: fs.readFileSync(caFile) } : {};
const transport = baseURL.startsWith('wss://') ? 'wss' : 'ws';

/** Opens a connection and resolves once it is open; rejects on a failed handshake. */
function open(path = '/echo', options = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(baseURL + path, { ...tlsOptions, maxPayload: 4 * MAX_MESSAGE_BYTES, ...options });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (request, response) => {
      reject(Object.assign(new Error(`handshake answered with status ${response.statusCode}`), { response }));
      request.destroy();
    });
    ws.once('error', reject);
  });
}

/** Resolves with the next message as { data, isBinary }. */
function nextMessage(ws) {
  return new Promise((resolve, reject) => {
    ws.once('message', (data, isBinary) => resolve({ data, isBinary }));
    ws.once('close', (code) => reject(new Error(`closed with ${code} while waiting for a message`)));
  });
}

/** Resolves with the close code and reason once the connection has closed. */
function closed(ws) {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

/** Expects the handshake on `path` to fail with `status`; returns the response. */
async function expectStatus(status, path, options) {
  try {
    const ws = await open(path, options);
    ws.terminate();
  } catch (error) {
    assert(error.response, `handshake failed without a response: ${error.message}`);
    assert(error.response.statusCode === status, `status ${error.response.statusCode}, expected ${status}`);
    return error.response;
  }
  throw new Error(`the handshake succeeded, expected status ${status}`);
}

const cases = {
  async echoTextSizes() {
    const ws = await open();
    for (const size of [0, 1, 125, 126, 1000]) {
      const message = 'x'.repeat(size);
      ws.send(message);
      const reply = await nextMessage(ws);
      assert(!reply.isBinary, `echo of ${size} characters came back binary`);
      assert(reply.data.toString() === message, `echo of ${size} characters differs`);
    }
    ws.close();
  },

  async echoBinarySizes() {
    const ws = await open();
    for (const size of [0, 125, 65535, MAX_MESSAGE_BYTES]) {
      const message = Buffer.alloc(size);
      for (let i = 0; i < size; i++) message[i] = (i * 7) & 0xff;
      ws.send(message);
      const reply = await nextMessage(ws);
      assert(reply.isBinary, `echo of ${size} bytes came back as text`);
      assert(Buffer.compare(reply.data, message) === 0, `echo of ${size} bytes differs`);
    }
    ws.close();
  },

  async echoFragmentedMessages() {
    const ws = await open();
    // `fin: false` sends a fragment; the message ends with the next send that has `fin: true`.
    ws.send('frag', { fin: false });
    ws.send('', { fin: false });
    ws.send('ment', { fin: false });
    ws.send('ed', { fin: true });
    const text = await nextMessage(ws);
    assert(text.data.toString() === 'fragmented', `reassembled text was ${text.data.toString()}`);

    const part = Buffer.alloc(30000, 1);
    ws.send(part, { binary: true, fin: false });
    ws.send(part, { binary: true, fin: true });
    const binary = await nextMessage(ws);
    assert(binary.isBinary, 'reassembled binary message came back as text');
    assert(binary.data.length === 60000, `reassembled binary of ${binary.data.length} bytes`);
    ws.close();
  },

  async pingGetsPong() {
    const ws = await open();
    const pong = new Promise((resolve) => ws.once('pong', resolve));
    ws.ping(Buffer.from('are you there'));
    const payload = await pong;
    assert(payload.toString() === 'are you there', `pong payload ${payload.toString()}`);
    ws.close();
  },

  async closeCleanly() {
    const ws = await open();
    const done = closed(ws);
    ws.close(1000, 'done');
    const { code } = await done;
    assert(code === 1000, `close code ${code}`);
    // ws sets _closeFrameReceived when the gateway's close frame arrived before the socket ended.
    assert(ws._closeFrameReceived, 'the gateway closed the socket without a close frame');
  },

  async gatewayClosesOversizedMessageWith1009() {
    const ws = await open();
    const done = closed(ws);
    ws.send(Buffer.alloc(MAX_MESSAGE_BYTES + 1));
    const { code } = await done;
    assert(code === 1009, `close code ${code}`);
  },

  async gatewayClosesInvalidUTF8With1007() {
    const ws = await open();
    const done = closed(ws);
    // ws validates what it sends only on receipt, so it sends these bytes as a text frame.
    ws.send(Buffer.from([0xce, 0xba, 0xed, 0xa0, 0x80]), { binary: false });
    const { code } = await done;
    assert(code === 1007, `close code ${code}`);
  },

  async otherVersionGets426() {
    const response = await expectStatus(426, '/echo', { protocolVersion: 8 });
    assert(response.headers['sec-websocket-version'] === '13',
      `Sec-WebSocket-Version ${response.headers['sec-websocket-version']}`);
  },

  async unknownPathGets404() {
    await expectStatus(404, '/no/such/path');
  },

  async disallowedOriginGets403() {
    await expectStatus(403, '/echo', { origin: 'https://evil.test' });
    const ws = await open('/echo', { origin: 'https://app.test' });
    ws.send('allowed');
    const reply = await nextMessage(ws);
    assert(reply.data.toString() === 'allowed', 'echo after an allowed origin differs');
    ws.close();
  },
};

function withTimeout(promise, name) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${CASE_TIMEOUT_MS} ms`)), CASE_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

(async () => {
  let failures = 0;
  for (const [name, run] of Object.entries(cases)) {
    const label = `node-ws ${transport} ${name}`;
    try {
      await withTimeout(run(), name);
      console.log(`PASS ${label}`);
    } catch (error) {
      failures += 1;
      console.log(`FAIL ${label}: ${error.message}`);
    }
  }
  process.exit(failures ? 1 : 0);
})();
