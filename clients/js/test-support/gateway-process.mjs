// Starts a real presence-gateway for the client tests, on free loopback ports, and stops it by pid.
//
// The binary comes from PRESENCE_GATEWAY_BIN (default .build/debug/presence-gateway, relative to the
// repository root). PRESENCE_SERVER_CMD runs another server that speaks the same protocol instead: a
// shell command in which {port} is replaced by the port to listen on; tests that need gateway-only
// configuration are then skipped by their callers.
//
// This file lives outside test/ because `node --test` runs every file under a test/ folder as a test.

import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

const STARTUP_TIMEOUT_MS = 20000;
const STOP_TIMEOUT_MS = 5000;

/** Returns the `ws` package's WebSocket class, from NODE_PATH or from Debian's node-ws location. */
export function loadWebSocket() {
  const require = createRequire(import.meta.url);
  for (const candidate of ['ws', '/usr/share/nodejs/ws']) {
    try {
      return require(candidate);
    } catch {
      // Try the next location.
    }
  }
  throw new Error('the ws package is missing: install Debian node-ws and run with NODE_PATH=/usr/share/nodejs');
}

/** Returns a TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** True when the tests run against the gateway, which supports every configuration key below. */
export const usesGateway = !process.env.PRESENCE_SERVER_CMD;

/**
 * A gateway process on fixed ports, which can be stopped and started again on the same ports (to test
 * reconnects). `presence` contains extra `[presence]` settings such as `{ max_users_per_document: 1 }`.
 */
export class GatewayProcess {
  #child = null;
  #exited = null;
  #output = '';
  #directory;

  constructor({ port, adminPort, presence = {}, server = {} }) {
    this.port = port;
    this.adminPort = adminPort;
    this.url = `ws://127.0.0.1:${port}/v1/ws`;
    this.httpUrl = `http://127.0.0.1:${port}`;
    this.#directory = mkdtempSync(path.join(os.tmpdir(), 'presence-client-test-'));
    this.configPath = path.join(this.#directory, 'gateway.toml');
    writeFileSync(this.configPath, gatewayConfig({ port, adminPort, presence, server }));
  }

  static async start(options = {}) {
    const gateway = new GatewayProcess({ port: await freePort(), adminPort: await freePort(), ...options });
    await gateway.start();
    return gateway;
  }

  get pid() {
    return this.#child ? this.#child.pid : null;
  }

  /** Output of the process so far, for failure messages. */
  get output() {
    return this.#output;
  }

  async start() {
    if (this.#child) throw new Error(`gateway already running with pid ${this.#child.pid}`);
    const command = process.env.PRESENCE_SERVER_CMD;
    let child;
    if (command) {
      child = spawn('/bin/sh', ['-c', `exec ${command.replaceAll('{port}', String(this.port))}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    } else {
      const binary = path.resolve(repositoryRoot, process.env.PRESENCE_GATEWAY_BIN ?? '.build/debug/presence-gateway');
      if (!existsSync(binary)) {
        throw new Error(`gateway binary not found at ${binary}: build it with \`swift build --product presence-gateway\` or set PRESENCE_GATEWAY_BIN`);
      }
      child = spawn(binary, ['--config', this.configPath], { cwd: repositoryRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    }
    this.#child = child;
    const keep = (chunk) => {
      this.#output = (this.#output + chunk.toString()).slice(-20000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    this.#exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    let exitedEarly = null;
    this.#exited.then((status) => {
      exitedEarly = status;
    });
    while (Date.now() < deadline) {
      if (exitedEarly) {
        this.#child = null;
        throw new Error(`gateway exited during start-up (${JSON.stringify(exitedEarly)}):\n${this.#output}`);
      }
      if (await canConnect(this.port)) return;
      await sleep(50);
    }
    await this.stop();
    throw new Error(`gateway did not listen on port ${this.port} within ${STARTUP_TIMEOUT_MS} ms:\n${this.#output}`);
  }

  /** Stops the process by pid: SIGTERM (or `signal`), then SIGKILL if it has not exited in time. */
  async stop(signal = 'SIGTERM') {
    const child = this.#child;
    if (!child) return;
    this.#child = null;
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(child.pid, signal);
      const timedOut = Symbol('timeout');
      const result = await Promise.race([this.#exited, sleep(STOP_TIMEOUT_MS).then(() => timedOut)]);
      if (result === timedOut) {
        process.kill(child.pid, 'SIGKILL');
        await this.#exited;
      }
    }
  }

  /** Stops the process and removes its configuration. */
  async dispose() {
    await this.stop();
    rmSync(this.#directory, { recursive: true, force: true });
  }
}

function tomlValue(value) {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function gatewayConfig({ port, adminPort, presence, server }) {
  const lines = ['[server]', `listen = "127.0.0.1:${port}"`];
  for (const [key, value] of Object.entries(server)) lines.push(`${key} = ${tomlValue(value)}`);
  lines.push('', '[admin]', `listen = "127.0.0.1:${adminPort}"`);
  if (Object.keys(presence).length > 0) {
    lines.push('', '[presence]');
    for (const [key, value] of Object.entries(presence)) lines.push(`${key} = ${tomlValue(value)}`);
  }
  return `${lines.join('\n')}\n`;
}
