"""Drive the gateway's echo endpoint with the Python `websockets` client (version 13 or later).

Usage: websockets_client_test.py BASE_URL [--cafile PEM]

BASE_URL is ws://127.0.0.1:PORT or wss://127.0.0.1:PORT. With wss, --cafile names the
certificate that signed the gateway's (the tests generate a self-signed one). The gateway must run
with echo_path = "/echo", max_message_bytes = 65536 and allowed_origins = ["https://app.test"].

Prints one "PASS name" or "FAIL name: reason" line per case and exits 1 when any case failed.
"""

import argparse
import asyncio
import socket
import ssl
import sys
import traceback
from urllib.parse import urlsplit

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError, InvalidStatus

MAX_MESSAGE_BYTES = 65536
ALLOWED_ORIGIN = "https://app.test"
CASE_TIMEOUT_SECONDS = 20


class Cases:
    def __init__(self, base_url, cafile):
        self.base_url = base_url.rstrip("/")
        self.tls = None
        if base_url.startswith("wss://"):
            self.tls = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cafile)
        parts = urlsplit(base_url)
        self.host = parts.hostname
        self.port = parts.port

    def connect(self, path="/echo", **options):
        # proxy=None keeps the client from following proxy settings in the environment, so traffic
        # stays on loopback. ping_interval=None leaves pings to the tests that check them.
        return connect(self.base_url + path, ssl=self.tls, proxy=None, ping_interval=None,
                       max_size=4 * MAX_MESSAGE_BYTES, open_timeout=10, close_timeout=5, **options)

    async def echo_text_sizes(self):
        async with self.connect() as ws:
            for size in (0, 1, 125, 126, 1000):
                message = "".join(chr(0x61 + i % 26) for i in range(size))
                await ws.send(message)
                reply = await ws.recv()
                assert reply == message, f"echo of {size} characters differs"

    async def echo_binary_sizes(self):
        async with self.connect() as ws:
            for size in (0, 125, 65535, MAX_MESSAGE_BYTES):
                message = bytes(i * 7 % 256 for i in range(size))
                await ws.send(message)
                reply = await ws.recv()
                assert isinstance(reply, bytes), f"echo of {size} bytes came back as text"
                assert reply == message, f"echo of {size} bytes differs"

    async def echo_utf8_text(self):
        async with self.connect() as ws:
            message = "κόσμε € 𝄞 " * 100
            await ws.send(message)
            assert await ws.recv() == message

    async def echo_fragmented_messages(self):
        async with self.connect() as ws:
            # An iterable makes websockets send one frame per item.
            await ws.send(["frag", "", "ment", "ed"])
            assert await ws.recv() == "fragmented"
            chunks = [bytes([i]) * 20000 for i in range(3)]
            await ws.send(chunks)
            assert await ws.recv() == b"".join(chunks)
            # A code point split across fragments is valid UTF-8 once joined.
            encoded = "€".encode()
            await ws.send([encoded[:1], encoded[1:]])
            reply = await ws.recv()
            assert reply == encoded, f"split code point came back as {reply!r}"

    async def ping_gets_pong(self):
        async with self.connect() as ws:
            waiter = await ws.ping(b"are you there")
            latency = await asyncio.wait_for(waiter, timeout=5)
            assert latency >= 0

    async def close_cleanly(self):
        ws = await self.connect()
        await ws.send("last")
        assert await ws.recv() == "last"
        await ws.close(code=1000, reason="done")
        assert ws.close_code == 1000, f"close code {ws.close_code}"
        protocol = ws.protocol
        assert protocol.close_rcvd is not None, "no close frame from the gateway"
        assert protocol.close_rcvd.code == 1000, f"gateway answered close with {protocol.close_rcvd.code}"
        assert protocol.close_sent is not None and protocol.close_sent.code == 1000

    async def gateway_closes_oversized_message_with_1009(self):
        async with self.connect() as ws:
            await ws.send(b"x" * (MAX_MESSAGE_BYTES + 1))
            try:
                await ws.recv()
            except ConnectionClosedError as error:
                assert error.rcvd is not None, "closed without a close frame"
                assert error.rcvd.code == 1009, f"close code {error.rcvd.code}"
                return
            raise AssertionError("the gateway echoed a message over the limit")

    async def many_concurrent_connections(self):
        async def one(index):
            async with self.connect() as ws:
                for round_number in range(10):
                    message = f"connection {index} round {round_number}"
                    await ws.send(message)
                    assert await ws.recv() == message
        await asyncio.gather(*(one(index) for index in range(50)))

    async def unknown_path_gets_404(self):
        await self.expect_status(404, path="/no/such/path")

    async def disallowed_origin_gets_403(self):
        await self.expect_status(403, origin="https://evil.test")
        async with self.connect(origin=ALLOWED_ORIGIN) as ws:
            await ws.send("allowed")
            assert await ws.recv() == "allowed"

    async def expect_status(self, status, path="/echo", **options):
        try:
            async with self.connect(path, **options):
                pass
        except InvalidStatus as error:
            code = error.response.status_code
            assert code == status, f"status {code}, expected {status}"
            return
        raise AssertionError(f"the handshake succeeded, expected status {status}")

    # The handshakes below are malformed on purpose, which the websockets client never sends, so
    # they go over a plain socket (wrapped in TLS for wss).

    async def other_version_gets_426(self):
        response = await self.raw_request(
            "GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n")
        status, headers = parse_head(response)
        assert status == 426, f"status {status}"
        assert headers.get("sec-websocket-version") == "13", f"headers {headers}"

    async def plain_get_gets_426(self):
        status, _ = parse_head(await self.raw_request("GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"))
        assert status == 426, f"status {status}"

    async def post_gets_405(self):
        response = await self.raw_request(
            "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n")
        status, headers = parse_head(response)
        assert status == 405, f"status {status}"
        assert headers.get("allow") == "GET", f"headers {headers}"

    async def bad_key_gets_400(self):
        response = await self.raw_request(
            "GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n")
        status, _ = parse_head(response)
        assert status == 400, f"status {status}"

    async def huge_head_gets_431(self):
        response = await self.raw_request(
            "GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + "p" * 9000 + "\r\n\r\n")
        status, _ = parse_head(response)
        assert status == 431, f"status {status}"

    async def malformed_request_gets_400(self):
        status, _ = parse_head(await self.raw_request("NOT A REQUEST\r\n\r\n"))
        assert status == 400, f"status {status}"

    async def raw_request(self, request):
        """Send `request` on a new connection and return everything the gateway sends until it
        closes the connection, which it does after each error response these cases expect."""
        return await asyncio.to_thread(self.raw_request_blocking, request.encode())

    def raw_request_blocking(self, request):
        with socket.create_connection((self.host, self.port), timeout=10) as raw:
            stream = raw
            if self.tls is not None:
                stream = self.tls.wrap_socket(raw, server_hostname=self.host)
            stream.sendall(request)
            received = b""
            while True:
                try:
                    chunk = stream.recv(65536)
                except (ssl.SSLEOFError, ConnectionResetError):
                    return received
                if not chunk:
                    return received
                received += chunk

    async def tls_version_is_current(self):
        async with self.connect() as ws:
            version = ws.transport.get_extra_info("ssl_object").version()
            assert version in ("TLSv1.2", "TLSv1.3"), f"negotiated {version}"


def parse_head(response):
    head = response.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    lines = head.split("\r\n")
    if not lines or not lines[0].startswith("HTTP/1.1 "):
        raise AssertionError(f"not an HTTP/1.1 response: {response[:200]!r}")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), value.strip())
    return status, headers


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url")
    parser.add_argument("--cafile")
    arguments = parser.parse_args()
    cases = Cases(arguments.base_url, arguments.cafile)
    transport = "wss" if cases.tls else "ws"

    helpers = {"connect", "expect_status", "raw_request", "raw_request_blocking"}
    if cases.tls is None:
        helpers.add("tls_version_is_current")
    names = [name for name in vars(Cases) if not name.startswith("_") and name not in helpers]
    failures = 0
    for name in names:
        label = f"python-websockets {transport} {name}"
        try:
            await asyncio.wait_for(getattr(cases, name)(), timeout=CASE_TIMEOUT_SECONDS)
            print(f"PASS {label}", flush=True)
        except Exception as error:  # Any exception fails this case and the run goes on.
            failures += 1
            reason = str(error) or type(error).__name__
            print(f"FAIL {label}: {reason}", flush=True)
            traceback.print_exc(file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
