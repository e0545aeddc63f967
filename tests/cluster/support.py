"""Processes for the multi-node tests: redis-server and gateway nodes on free loopback ports.

Reuses the scenario suite's client and gateway launcher; adds Redis servers and a small RESP client
for reading keys.
"""

import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "scenarios"))

from client import Client, GatewayError, position  # noqa: E402
from gateway import Gateway, free_port  # noqa: E402

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
NODE_TIMEOUT_MS = 2000
HEARTBEAT_INTERVAL_MS = 400


class RedisServer:
    """A redis-server without persistence on a free port, stopped by its pid."""

    def __init__(self):
        self.port = free_port()
        self.directory = pathlib.Path(tempfile.mkdtemp(prefix="presence-cluster-redis-"))
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}"

    def start(self):
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--loglevel", "warning", "--dir", str(self.directory)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if self.command("PING") == "PONG":
                    return self
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"redis-server on port {self.port} did not answer PING within 10 s")

    def stop(self):
        """Kill the server with SIGKILL, so that every client sees its connection drop at once."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def command(self, *arguments, timeout=5.0):
        """Send one command and return the decoded reply (str, int, list, None); raise on an error reply."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as connection:
            payload = [f"*{len(arguments)}\r\n".encode()]
            for argument in arguments:
                data = str(argument).encode()
                payload.append(f"${len(data)}\r\n".encode() + data + b"\r\n")
            connection.sendall(b"".join(payload))
            reader = connection.makefile("rb")
            return read_reply(reader)


def read_reply(reader):
    line = reader.readline()
    if not line:
        raise OSError("Redis closed the connection")
    kind, rest = line[:1], line[1:-2].decode()
    if kind == b"+":
        return rest
    if kind == b"-":
        raise RuntimeError(f"Redis error: {rest}")
    if kind == b":":
        return int(rest)
    if kind == b"$":
        length = int(rest)
        if length < 0:
            return None
        data = reader.read(length + 2)
        return data[:-2].decode()
    if kind == b"*":
        count = int(rest)
        if count < 0:
            return None
        return [read_reply(reader) for _ in range(count)]
    raise RuntimeError(f"unexpected RESP reply {line!r}")


def hash_of(redis, key):
    """HGETALL as a dict."""
    flat = redis.command("HGETALL", key)
    return dict(zip(flat[0::2], flat[1::2]))


def stream_entries(redis, stream="materi:events:presence"):
    """The stream's entries as dicts of their fields, oldest first."""
    return [dict(zip(fields[0::2], fields[1::2])) for _, fields in redis.command("XRANGE", stream, "-", "+")]


def gateway_node(name, redis_urls, extra=None):
    """A gateway configured for several nodes: small heartbeat and node timeout, flush every 16 ms."""
    redis = {"node_id": name, "node_timeout_ms": NODE_TIMEOUT_MS, "heartbeat_interval_ms": HEARTBEAT_INTERVAL_MS}
    if len(redis_urls) == 1:
        redis["url"] = redis_urls[0]
    else:
        redis["urls"] = list(redis_urls)
    overrides = {"redis": redis, "log": {"level": "notice"}}
    for table, keys in (extra or {}).items():
        overrides.setdefault(table, {}).update(keys)
    return Gateway(name, overrides)


def kill_hard(gateway):
    """Kill a gateway with SIGKILL by its pid, as a crash or power loss would."""
    if gateway.process is not None:
        os.kill(gateway.process.pid, signal.SIGKILL)
        gateway.process.wait(timeout=10)
        gateway.exit_code = gateway.process.returncode
        gateway.process = None


__all__ = [
    "Client", "GatewayError", "Gateway", "RedisServer", "gateway_node", "hash_of", "kill_hard", "position",
    "stream_entries", "NODE_TIMEOUT_MS",
]
