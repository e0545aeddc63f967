"""Slow consumers: a member that never reads gets coalesced cursors, is closed with 1008 when its
send queue still passes the bound, and slows no other member of its busy document."""

import asyncio
import base64
import json
import os
import socket
import statistics
import struct
import time

from support import POOL, LimitsCase

SEND_QUEUE_BYTES = 16384
PREFILL_BYTES = 6 * 1024 * 1024
MOVERS = 10
MOVE_INTERVAL_S = 0.02


def overflow_gateway():
    return POOL.get("slow-overflow", {
        "auth": {"mode": "none"},
        "server": {"send_queue_bytes": SEND_QUEUE_BYTES, "messages_per_second": 10000},
        "presence": {"cursor_throttle_ms": 50, "flush_interval_ms": 16},
    })


def coalescing_gateway():
    """A queue bound above what the churn leaves queued, so that only coalescing is under test."""
    return POOL.get("slow-coalescing", {
        "auth": {"mode": "none"},
        # The sleeper sends no pongs, so the pong timeout is set past the test's length.
        "server": {"send_queue_bytes": 4 * PREFILL_BYTES, "messages_per_second": 100000,
                   "pong_timeout_ms": 120000},
        "presence": {"cursor_throttle_ms": 50, "flush_interval_ms": 16},
    })


class Sleeper:
    """A member on a raw socket with a 4 KiB receive buffer that joins and then reads nothing."""

    def __init__(self, port, document, user_id):
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.socket.settimeout(5)
        self.socket.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.socket.sendall((f"GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                             f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
                            .encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.socket.recv(1)
            if not chunk:
                raise AssertionError(f"sleeper: connection closed during the handshake after {head!r}")
            head += chunk
        if not head.startswith(b"HTTP/1.1 101"):
            raise AssertionError(f"sleeper: upgrade failed: {head!r}")
        self.send_text(json.dumps({"type": "join", "document_id": document, "workspace_id": "w1",
                                   "user_id": user_id, "name": "Sleeper", "avatar_url": None}))

    def send_text(self, text):
        payload = text.encode()
        mask = os.urandom(4)
        masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
        if len(payload) < 126:
            header = struct.pack("!BB", 0x81, 0x80 | len(payload))
        else:
            header = struct.pack("!BBH", 0x81, 0x80 | 126, len(payload))
        self.socket.sendall(header + mask + masked)

    def drain(self, quiet_s=3.0, limit_s=30.0):
        """Read everything until the socket closes or stays quiet for `quiet_s`; returns
        (text messages as JSON, close code or None, close reason)."""
        data = bytearray()
        self.socket.settimeout(quiet_s)
        started = time.monotonic()
        self.end = "deadline"
        while time.monotonic() < started + limit_s:
            try:
                chunk = self.socket.recv(65536)
            except socket.timeout:
                self.end = "quiet"
                break
            except ConnectionResetError:
                self.end = "reset"
                break
            if not chunk:
                self.end = "end of stream"
                break
            data += chunk
        self.end += f" after {time.monotonic() - started:.1f} s and {len(data)} bytes"
        self.socket.close()
        return parse_frames(bytes(data))


def parse_frames(data):
    """Split a server-to-client byte stream (unmasked, unfragmented frames) into messages and the close."""
    messages, close_code, close_reason = [], None, ""
    index = 0
    while index + 2 <= len(data):
        opcode = data[index] & 0x0F
        length = data[index + 1] & 0x7F
        index += 2
        if length == 126:
            if index + 2 > len(data):
                break
            length = struct.unpack("!H", data[index:index + 2])[0]
            index += 2
        elif length == 127:
            if index + 8 > len(data):
                break
            length = struct.unpack("!Q", data[index:index + 8])[0]
            index += 8
        if index + length > len(data):
            break
        payload = data[index:index + length]
        index += length
        if opcode in (0x1, 0x2):
            messages.append(json.loads(payload))
        elif opcode == 0x8 and len(payload) >= 2:
            close_code = struct.unpack("!H", payload[:2])[0]
            close_reason = payload[2:].decode(errors="replace")
    return messages, close_code, close_reason


def cursor_events(messages):
    """(user_id, line) of each CursorMoved in `messages`, in order, including those inside batches."""
    events = []
    for body in messages:
        payloads = body["payload"] if body.get("event_type") == "batch" else [body.get("payload")]
        if body.get("event_type") not in ("presence", "batch"):
            continue
        for payload in payloads:
            if "CursorMoved" in payload:
                moved = payload["CursorMoved"]
                events.append((moved["user_id"], moved["cursor"]["line"]))
    return events


class SlowConsumerTests(LimitsCase):
    async def start_movers(self, gateway, document):
        movers = []
        for index in range(MOVERS):
            mover = await self.connect(gateway, f"mover-{index}")
            await mover.join(document, user_id=f"mover-{index}")
            movers.append(mover)
        return movers

    async def move(self, movers, document, seconds, sent, first_line):
        """Each mover sends a cursor every MOVE_INTERVAL_S for `seconds`, recording each send time."""
        line = first_line
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for index, mover in enumerate(movers):
                sent[(f"mover-{index}", line)] = time.monotonic()
                await mover.send({"type": "cursor", "document_id": document,
                                  "cursor": {"line": line, "column": 0, "offset": line * 10},
                                  "selection": {"anchor": {"line": line, "column": 0, "offset": 0},
                                                "head": {"line": line, "column": 40, "offset": 40},
                                                "is_backward": False}})
            line += 1
            await asyncio.sleep(MOVE_INTERVAL_S)
        return line

    def latencies(self, reader, sent, since_index):
        """Seconds from each cursor's send to its arrival at `reader`, for messages after `since_index`."""
        values = []
        for body, arrived_s in zip(reader.messages[since_index:], reader.arrivals[since_index:]):
            for key in cursor_events([body]):
                if key in sent:
                    values.append(arrived_s - sent[key])
        return values

    async def churn(self, gateway, document, reader, until_bytes):
        """Make a user join and leave `document` with a 2 KiB avatar URL until `reader` has received
        `until_bytes` of those events, and return the number of cycles. Joins and leaves are never
        coalesced, so a member that does not read has all of them queued."""
        churner = await self.connect(gateway, "churner")
        avatar = "https://example.com/" + "a" * 2000
        cycles = 0
        received = 0
        while received < until_bytes:
            for _ in range(50):
                await churner.send({"type": "join", "document_id": document, "workspace_id": "w1",
                                    "user_id": f"churner-{cycles}", "name": "C" * 200, "avatar_url": avatar})
                await churner.send({"type": "leave", "document_id": document})
                cycles += 1
            last_leave = await reader.next_message(
                lambda body: body.get("event_type") == "presence"
                and body["payload"].get("UserLeft") == f"churner-{cycles - 1}", "the churner's last leave", timeout=10)
            received += 50 * (len(json.dumps(last_leave)) + len(avatar) + 400)
        await churner.close()
        return cycles

    async def test_never_reading_member_gets_coalesced_cursors(self):
        gateway = coalescing_gateway()
        document = self.document()
        reader = await self.connect(gateway, "reader")
        await reader.join(document, user_id="reader")
        movers = await self.start_movers(gateway, document)
        sent = {}
        overflows_before = gateway.metric("transport_send_queue_overflows_total")

        # Baseline: the busy document without the sleeper.
        baseline_start = len(reader.messages)
        line = await self.move(movers, document, 1.5, sent, first_line=1)
        await asyncio.sleep(0.3)
        baseline = self.latencies(reader, sent, baseline_start)

        # The gateway's kernel send buffer for one loopback socket grows to tcp_wmem's maximum (4 MiB
        # by default), so more than that is sent first, to have the cursors wait in the gateway's queue.
        sleeper = await asyncio.to_thread(Sleeper, gateway.port, document, "sleeper")
        await reader.next_event("UserJoined", timeout=3)
        churn_started = time.monotonic()
        cycles = await self.churn(gateway, document, reader, PREFILL_BYTES)
        churn_s = time.monotonic() - churn_started

        loaded_start = len(reader.messages)
        last_line = await self.move(movers, document, 3.0, sent, first_line=line) - 1
        await asyncio.sleep(0.3)
        loaded = self.latencies(reader, sent, loaded_start)

        self.assertEqual(gateway.metric("transport_send_queue_overflows_total"), overflows_before,
                         "coalesced cursors must keep the sleeper's queue under its bound")
        messages, close_code, _ = await asyncio.to_thread(sleeper.drain)
        self.assertIsNone(close_code, "the sleeper must not have been closed")
        after_churn = [index for index, body in enumerate(messages)
                       if body.get("event_type") == "presence" and "UserLeft" in body["payload"]]
        self.assertTrue(after_churn, "the sleeper received none of the churn")
        seen = cursor_events(messages[after_churn[-1] + 1:])
        for index in range(MOVERS):
            user = f"mover-{index}"
            lines = [line for who, line in seen if who == user]
            self.assertTrue(lines, f"the sleeper received no cursor of {user} after the churn; it received "
                            f"{len(messages)} messages ({sleeper.end}), the last {messages[-3:]!r:.600}")
            self.assertEqual(lines[-1], last_line, f"the last position of {user} must arrive")
        reader_count = len(cursor_events(reader.messages[loaded_start:]))
        self.assertLess(len(seen), reader_count / 4,
                        f"the sleeper got {len(seen)} cursor events and the reader {reader_count}: "
                        "the sleeper's queue must keep only the latest per user")

        self.assertTrue(baseline and loaded, "the reader received no cursor events")
        baseline_median, loaded_median = statistics.median(baseline), statistics.median(loaded)
        loaded_p95 = sorted(loaded)[int(len(loaded) * 0.95)]
        print(f"\n    {cycles} join and leave cycles in {churn_s:.1f} s; after them the sleeper got {len(seen)} "
              f"cursor events and the reader {reader_count}\n"
              f"    reader cursor latency: median {baseline_median * 1000:.1f} ms without the sleeper, "
              f"{loaded_median * 1000:.1f} ms with it (p95 {loaded_p95 * 1000:.1f} ms, {len(loaded)} events)")
        self.assertLess(loaded_median, baseline_median * 2 + 0.05, "the sleeper slowed the other members")
        self.assertLess(loaded_p95, 0.5)

    async def test_never_reading_member_is_closed_with_1008(self):
        gateway = overflow_gateway()
        document = self.document()
        reader = await self.connect(gateway, "reader")
        await reader.join(document, user_id="reader")
        sleeper = await asyncio.to_thread(Sleeper, gateway.port, document, "sleeper")
        await reader.next_event("UserJoined", timeout=3)
        overflows_before = gateway.metric("transport_send_queue_overflows_total")

        # Joins and leaves are never coalesced, so a churning user fills the sleeper's queue.
        churner = await self.connect(gateway, "churner")
        cycles = 0
        deadline = time.monotonic() + 20
        while gateway.metric("transport_send_queue_overflows_total") == overflows_before:
            self.assertLess(time.monotonic(), deadline, f"no overflow after {cycles} join and leave cycles")
            for _ in range(20):
                await churner.join(document, user_id=f"churner-{cycles}", name="C" * 200)
                await churner.send({"type": "leave", "document_id": document})
                cycles += 1
        messages, close_code, close_reason = await asyncio.to_thread(sleeper.drain)

        self.assertEqual(close_code, 1008, f"after {len(messages)} messages")
        self.assertIn("reads too slowly", close_reason)
        joined = [body["payload"]["UserJoined"]["user_id"] for body in messages
                  if body.get("event_type") == "presence" and "UserJoined" in body["payload"]]
        self.assertTrue(joined, "the sleeper received no join before it was closed")

        # The reader kept up: it saw every churner join, in order, and still gets a pong.
        expected = [f"churner-{cycle}" for cycle in range(cycles)]
        await reader.next_message(
            lambda body: body.get("event_type") == "presence"
            and body["payload"].get("UserLeft") == f"churner-{cycles - 1}", "the last churner leave", timeout=5)
        seen = [body["payload"]["UserJoined"]["user_id"] for body in reader.messages
                if body.get("event_type") == "presence" and "UserJoined" in body["payload"]
                and body["payload"]["UserJoined"]["user_id"].startswith("churner-")]
        self.assertEqual(seen, expected, "the reader must receive every join, in order")
        await reader.ping()
