"""Shared pieces of the limits suite: the gateway process, signed tokens and a recording client.

Each gateway is the real binary (env PRESENCE_GATEWAY_BIN, default .build/debug/presence-gateway)
on free loopback ports with a temporary config, stopped by pid at the end of the run. Tokens are
made here: HS256 with Python's hmac, RS256 and ES256 with the `openssl` command line and keys it
generates into a temporary directory.
"""

import asyncio
import base64
import hashlib
import hmac
import http.client
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import uuid

from websockets.asyncio.client import connect as websocket_connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

REPOSITORY = pathlib.Path(__file__).resolve().parents[2]
GATEWAY_BINARY = (REPOSITORY / os.environ.get("PRESENCE_GATEWAY_BIN", ".build/debug/presence-gateway")).resolve()
STARTUP_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 10.0
DEFAULT_TIMEOUT_S = 3.0

HS256_SECRET = "limits-suite-secret-of-at-least-32-bytes"
ISSUER = "https://id.limits.test"
AUDIENCE = "presence"


# MARK: - Gateway processes

def free_port():
    """Return a TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise TypeError(f"cannot write {value!r} as a TOML value")


class Gateway:
    """One gateway process with `sections` (table name to keys) as its config."""

    def __init__(self, name, sections):
        self.name = name
        self.port = free_port()
        self.admin_port = free_port()
        self.sections = {table: dict(keys) for table, keys in sections.items()}
        self.sections.setdefault("server", {})["listen"] = f"127.0.0.1:{self.port}"
        self.sections["server"].setdefault("web_root", "")
        self.sections.setdefault("admin", {})["listen"] = f"127.0.0.1:{self.admin_port}"
        self.sections.setdefault("log", {}).setdefault("level", "warning")
        self.sections.setdefault("plugins", {})["enabled"] = False
        self.directory = pathlib.Path(tempfile.mkdtemp(prefix=f"presence-limits-{name}-"))
        self.process = None

    @property
    def ws_url(self):
        return f"ws://127.0.0.1:{self.port}/v1/ws"

    def start(self):
        if not GATEWAY_BINARY.exists():
            raise RuntimeError(f"gateway binary {GATEWAY_BINARY} not found; build it with "
                               "`swift build --product presence-gateway` or set PRESENCE_GATEWAY_BIN")
        lines = []
        for table, keys in self.sections.items():
            lines.append(f"[{table}]")
            lines.extend(f"{key} = {toml_value(value)}" for key, value in keys.items())
            lines.append("")
        config = self.directory / "config.toml"
        config.write_text("\n".join(lines))
        with open(self.directory / "stderr.log", "wb") as stderr:
            self.process = subprocess.Popen(
                [str(GATEWAY_BINARY), "--config", str(config)], cwd=self.directory,
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr)
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gateway {self.name} exited with {self.process.returncode} at start:\n{self.log()}")
            try:
                if self.admin_get("/healthz", timeout=0.5)[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"gateway {self.name} did not answer /healthz within {STARTUP_TIMEOUT_S} s:\n{self.log()}")

    def stop(self):
        """Send SIGTERM to this gateway's pid and wait, then SIGKILL it if it is still running."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT_S)
        self.process = None
        shutil.rmtree(self.directory, ignore_errors=True)

    def log(self):
        try:
            return (self.directory / "stderr.log").read_text(errors="replace")
        except OSError:
            return ""

    def admin_get(self, path, timeout=5.0):
        """GET `path` from the admin listener; returns (status, body text)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=timeout)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            return response.status, response.read().decode("utf-8", errors="replace")
        finally:
            connection.close()

    def metric(self, name):
        """Sum of every sample of metric `name` (with any labels) on /metrics, 0 when absent."""
        _, text = self.admin_get("/metrics")
        total = 0.0
        for line in text.splitlines():
            if line.startswith("#"):
                continue
            series, _, value = line.rpartition(" ")
            if series.split("{")[0].endswith(name):
                total += float(value)
        return total


class GatewayPool:
    """Gateways shared by the tests, one per config name, started on first use."""

    def __init__(self):
        self.running = {}

    def get(self, name, sections):
        if name not in self.running:
            self.running[name] = Gateway(name, sections).start()
        return self.running[name]

    def stop_all(self):
        for gateway in self.running.values():
            gateway.stop()
        self.running.clear()


POOL = GatewayPool()


# MARK: - Tokens

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def openssl(*arguments, data=None):
    result = subprocess.run(["openssl", *arguments], input=data, capture_output=True, timeout=30)
    if result.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(arguments)} failed: {result.stderr.decode(errors='replace')}")
    return result.stdout


def der_to_jose(der):
    """Convert a DER ECDSA-Sig-Value (SEQUENCE of INTEGER r, INTEGER s) to the 64-byte r||s of ES256."""
    if der[0] != 0x30:
        raise ValueError("expected a DER SEQUENCE")
    index = 2 if der[1] < 0x80 else 3
    parts = []
    for _ in range(2):
        if der[index] != 0x02:
            raise ValueError("expected a DER INTEGER")
        length = der[index + 1]
        value = der[index + 2:index + 2 + length].lstrip(b"\x00")
        parts.append(value.rjust(32, b"\x00"))
        index += 2 + length
    return parts[0] + parts[1]


class Keys:
    """RSA 2048 and P-256 key pairs made with the openssl command line, once per run."""

    def __init__(self):
        self.directory = pathlib.Path(tempfile.mkdtemp(prefix="presence-limits-keys-"))
        self.rsa_private = self.directory / "rsa.pem"
        self.rsa_public = self.directory / "rsa.pub.pem"
        self.ec_private = self.directory / "ec.pem"
        self.ec_public = self.directory / "ec.pub.pem"
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", str(self.rsa_private))
        openssl("pkey", "-in", str(self.rsa_private), "-pubout", "-out", str(self.rsa_public))
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(self.ec_private))
        openssl("pkey", "-in", str(self.ec_private), "-pubout", "-out", str(self.ec_public))

    def cleanup(self):
        shutil.rmtree(self.directory, ignore_errors=True)

    def sign(self, alg, signing_input, key=None):
        """Sign bytes as `alg` does: HS256 with `key` (bytes, default the suite's secret), RS256 and
        ES256 with the generated private keys. ES256 is returned as r||s unless alg is "ES256-DER"."""
        if alg == "HS256":
            return hmac.new(key or HS256_SECRET.encode(), signing_input, hashlib.sha256).digest()
        if alg == "RS256":
            return openssl("dgst", "-sha256", "-sign", str(self.rsa_private), data=signing_input)
        if alg in ("ES256", "ES256-DER"):
            der = openssl("dgst", "-sha256", "-sign", str(self.ec_private), data=signing_input)
            return der if alg == "ES256-DER" else der_to_jose(der)
        if alg == "none":
            return b""
        raise ValueError(f"unknown algorithm {alg}")

    def token(self, alg="HS256", header_alg=None, key=None, **claims):
        """A compact JWS whose claims are the defaults updated with `claims`; a claim set to None is removed.

        `header_alg` puts another `alg` in the header than the one used to sign."""
        now = int(time.time())
        body = {"sub": "u1", "name": "Ada", "workspace_id": "w1", "iss": ISSUER, "aud": AUDIENCE,
                "iat": now, "exp": now + 600}
        body.update(claims)
        body = {name: value for name, value in body.items() if value is not None}
        header = {"alg": header_alg or alg.replace("-DER", ""), "typ": "JWT"}
        signing_input = (b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(body).encode())).encode()
        return signing_input.decode() + "." + b64url(self.sign(alg, signing_input, key))


_keys = None


def keys():
    """The run's key pairs, made on first use."""
    global _keys
    if _keys is None:
        _keys = Keys()
    return _keys


def cleanup():
    POOL.stop_all()
    if _keys is not None:
        _keys.cleanup()


# MARK: - Clients

class Client:
    """A WebSocket client whose background task records every message and the close code."""

    def __init__(self, websocket, label):
        self.websocket = websocket
        self.label = label
        self.messages = []
        # Monotonic arrival time of each entry of `messages`, in seconds.
        self.arrivals = []
        self.position = 0
        self.close_code = None
        self.close_reason = None
        self.closed = asyncio.Event()
        self._arrived = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(cls, url, label, headers=None, local_host=None):
        extra = {"local_addr": (local_host, 0)} if local_host else {}
        websocket = await websocket_connect(url, open_timeout=5, close_timeout=2, max_size=None,
                                            additional_headers=headers, **extra)
        return cls(websocket, label)

    async def _read(self):
        try:
            async for frame in self.websocket:
                self.messages.append(json.loads(frame))
                self.arrivals.append(time.monotonic())
                self._arrived.set()
        except ConnectionClosed:
            pass
        finally:
            self.close_code = self.websocket.close_code
            self.close_reason = self.websocket.close_reason
            self.closed.set()
            self._arrived.set()

    async def send(self, message):
        await self.websocket.send(json.dumps(message) if isinstance(message, dict) else message)

    async def next_message(self, predicate, description="matching message", timeout=DEFAULT_TIMEOUT_S):
        """Return the first unconsumed message matching `predicate`, consuming up to it."""
        deadline = time.monotonic() + timeout
        while True:
            self._arrived.clear()
            for index in range(self.position, len(self.messages)):
                if predicate(self.messages[index]):
                    self.position = index + 1
                    return self.messages[index]
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.closed.is_set():
                raise AssertionError(f"{self.label}: no {description} within {timeout} s (closed with "
                                     f"{self.close_code}); received {self.messages[-8:]}")
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    async def join(self, document_id, user_id="u1", workspace_id="w1", name=None):
        """Send a join and return the reply: the snapshot or the error envelope."""
        await self.send({"type": "join", "document_id": document_id, "workspace_id": workspace_id,
                         "user_id": user_id, "name": name or f"Name of {user_id}", "avatar_url": None})
        return await self.next_message(
            lambda body: body.get("document_id") == document_id and body["event_type"] in ("snapshot", "error"),
            f"snapshot or error for {document_id}")

    async def next_error(self, timeout=DEFAULT_TIMEOUT_S):
        return await self.next_message(lambda body: body["event_type"] == "error", "error", timeout)

    async def next_event(self, kind, timeout=DEFAULT_TIMEOUT_S):
        def matches(body):
            return body["event_type"] == "presence" and kind in body["payload"]
        return (await self.next_message(matches, f"{kind} event", timeout))["payload"][kind]

    async def ping(self, timeout=DEFAULT_TIMEOUT_S):
        """Send an application ping and wait for its pong, which shows the connection is open."""
        await self.send({"type": "ping"})
        return await self.next_message(lambda body: body["event_type"] == "pong", "pong", timeout)

    async def wait_closed(self, timeout=DEFAULT_TIMEOUT_S):
        await asyncio.wait_for(self.closed.wait(), timeout)
        return self.close_code

    async def close(self):
        try:
            await asyncio.wait_for(self.websocket.close(), 3)
            await asyncio.wait_for(self._reader, 3)
        except (asyncio.TimeoutError, ConnectionClosed, OSError):
            pass


class LimitsCase(unittest.IsolatedAsyncioTestCase):
    """A test whose clients are closed after it, with document ids unique to the test."""

    async def asyncSetUp(self):
        self.clients = []

    async def asyncTearDown(self):
        for client in self.clients:
            await client.close()

    def document(self, label="doc"):
        return f"{label}-{self._testMethodName[5:36]}-{uuid.uuid4().hex[:8]}"

    async def connect(self, gateway, label="client", query="", headers=None, local_host=None):
        client = await Client.connect(gateway.ws_url + query, label, headers=headers, local_host=local_host)
        self.clients.append(client)
        return client

    async def rejected_upgrade(self, gateway, query="", headers=None, local_host=None):
        """Attempt an upgrade that must fail; returns (status, body text)."""
        try:
            client = await self.connect(gateway, "rejected", query=query, headers=headers, local_host=local_host)
        except InvalidStatus as error:
            return error.response.status_code, error.response.body.decode("utf-8", errors="replace")
        self.fail(f"upgrade was accepted; first messages: {client.messages[:3]}")
