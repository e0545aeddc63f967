"""Leave is immediate on a leave message and on a closed socket; a silent peer goes after its pong timeout."""

import asyncio
import base64
import json
import os
import socket
import struct

from client import ScenarioCase
from gateway import POOL

# Well above the flush interval, well below any timer: a leave must not wait for anything.
IMMEDIATE_S = 0.5
PING_INTERVAL_S = 0.2
PONG_TIMEOUT_S = 0.4


def dead_peer_gateway():
    return POOL.get("dead-peer", {"server": {"ping_interval_ms": 200, "pong_timeout_ms": 400}})


def masked_text_frame(text):
    """Frame `text` as a final, masked client text frame (RFC 6455 section 5.2)."""
    payload = text.encode("utf-8")
    mask = os.urandom(4)
    header = bytes([0x81])
    if len(payload) < 126:
        header += bytes([0x80 | len(payload)])
    else:
        header += bytes([0x80 | 126]) + struct.pack("!H", len(payload))
    return header + mask + bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))


def open_silent_peer(port, document_id, user_id, timeout_s=5.0):
    """Complete a WebSocket handshake over a raw socket, send one join, and return the socket unread.

    The peer never reads or replies to a ping, like a laptop that went to sleep. Its receive buffer
    is shrunk so that the gateway's pings and events soon stop fitting."""
    peer = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    peer.settimeout(timeout_s)
    peer.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    peer.sendall((f"GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    response = b""
    while b"\r\n\r\n" not in response:
        chunk = peer.recv(1)
        if not chunk:
            raise AssertionError(f"gateway closed the raw handshake: {response!r}")
        response += chunk
    if not response.startswith(b"HTTP/1.1 101"):
        raise AssertionError(f"raw handshake not accepted: {response!r}")
    join = {"type": "join", "document_id": document_id, "workspace_id": "w1", "user_id": user_id, "name": "Silent"}
    peer.sendall(masked_text_frame(json.dumps(join)))
    return peer


class LeaveTests(ScenarioCase):
    async def test_leave_message_is_immediate(self):
        document = self.document()
        observer, _ = await self.joined(document, "observer")
        leaver, _ = await self.joined(document, "leaver")
        sent_at = asyncio.get_running_loop().time()
        await leaver.send({"type": "leave", "document_id": document})
        left = await observer.next_event("UserLeft", "leaver", timeout=2)
        self.assertLess(left.arrived_s - sent_at, IMMEDIATE_S)
        self.assertEqual(left.body, "leaver")

        # The connection stays open and may join again.
        await leaver.ping()
        snapshot = await leaver.join(document, "leaver")
        self.assertEqual(sorted(user["user_id"] for user in snapshot["users"]), ["leaver", "observer"])
        await observer.next_event("UserJoined", "leaver")

    async def test_closed_socket_is_immediate(self):
        document = self.document()
        observer, _ = await self.joined(document, "observer")
        leaver, _ = await self.joined(document, "leaver")
        sent_at = asyncio.get_running_loop().time()
        await leaver.close()
        left = await observer.next_event("UserLeft", "leaver", timeout=2)
        self.assertLess(left.arrived_s - sent_at, IMMEDIATE_S)

    async def test_dropped_tcp_connection_is_immediate(self):
        document = self.document()
        observer, _ = await self.joined(document, "observer")
        leaver, _ = await self.joined(document, "leaver")
        sent_at = asyncio.get_running_loop().time()
        leaver.websocket.transport.abort()
        left = await observer.next_event("UserLeft", "leaver", timeout=2)
        self.assertLess(left.arrived_s - sent_at, IMMEDIATE_S)

    async def test_close_leaves_every_joined_document(self):
        first, second = self.document("first"), self.document("second")
        first_observer, _ = await self.joined(first, "observer-1")
        second_observer, _ = await self.joined(second, "observer-2")
        leaver = await self.connect("leaver")
        await leaver.join(first, "leaver")
        await leaver.join(second, "leaver")
        await leaver.close()
        await first_observer.next_event("UserLeft", "leaver", timeout=IMMEDIATE_S)
        await second_observer.next_event("UserLeft", "leaver", timeout=IMMEDIATE_S)

    async def test_no_event_about_user_after_user_left(self):
        document = self.document()
        observer, _ = await self.joined(document, "observer")
        leaver, _ = await self.joined(document, "leaver")
        # A burst leaves a throttled cursor and a typing debounce pending when the user leaves.
        for line in range(10):
            await leaver.cursor(document, line)
        await leaver.send({"type": "typing", "document_id": document})
        await leaver.send({"type": "leave", "document_id": document})
        await observer.next_event("UserLeft", "leaver")
        await self.settle(0.4)
        kinds = [event.kind for event in observer.events_since(0, user_id="leaver")]
        self.assertEqual(kinds[-1], "UserLeft", f"an event about a user who left: {kinds}")

    async def test_rejoin_after_leave_starts_fresh(self):
        document = self.document()
        observer, _ = await self.joined(document, "observer")
        leaver, _ = await self.joined(document, "leaver")
        await leaver.cursor(document, 5, selection={"anchor": {"line": 1, "column": 0, "offset": 100},
                                                    "head": {"line": 5, "column": 0, "offset": 500},
                                                    "is_backward": False})
        await leaver.send({"type": "viewport", "document_id": document,
                           "viewport": {"top_line": 1, "bottom_line": 2, "scroll_percentage": 1.0}})
        await leaver.send({"type": "focus", "document_id": document, "focused": False})
        await leaver.send({"type": "typing", "document_id": document, "is_typing": True})
        await leaver.send({"type": "leave", "document_id": document})
        await observer.next_event("UserLeft", "leaver")

        snapshot = await leaver.join(document, "leaver")
        rejoined = await observer.next_event("UserJoined", "leaver")
        for presence in (snapshot["self"], rejoined.body):
            self.assertIsNone(presence["cursor"])
            self.assertIsNone(presence["selection"])
            self.assertEqual(presence["state"], {"online": True, "typing": False, "focused": True,
                                                 "activity": "Viewing", "viewport": None})

    async def test_leave_of_unjoined_document_is_not_joined(self):
        document = self.document()
        client, _ = await self.joined(document, "ada")
        await client.send({"type": "leave", "document_id": "never-joined", "ref": 5})
        error = await client.next_error()
        self.assertEqual(error["payload"]["code"], "NotJoined")
        self.assertEqual(error["payload"]["ref"], 5)
        self.assertEqual(error["document_id"], "never-joined")

    async def test_left_user_absent_from_admin_and_snapshot(self):
        document = self.document()
        observer, _ = await self.joined(document, "observer")
        leaver, _ = await self.joined(document, "leaver")
        await leaver.send({"type": "leave", "document_id": document})
        await observer.next_event("UserLeft", "leaver")
        _, snapshot = await self.joined(document, "late")
        self.assertEqual(sorted(user["user_id"] for user in snapshot["users"]), ["late", "observer"])
        status, _, body = self.gateway.admin_get(f"/internal/presence/{document}")
        self.assertEqual(status, 200)
        self.assertNotIn("leaver", body)


class DeadPeerTests(ScenarioCase):
    @classmethod
    def start_gateway(cls):
        return dead_peer_gateway()

    async def test_silent_peer_removed_after_pong_timeout(self):
        document = self.document()
        observer, _ = await self.joined(document, "observer")
        loop = asyncio.get_running_loop()
        peer = await loop.run_in_executor(None, open_silent_peer, self.gateway.port, document, "silent")
        try:
            joined = await observer.next_event("UserJoined", "silent")
            left = await observer.next_event("UserLeft", "silent", timeout=PING_INTERVAL_S + PONG_TIMEOUT_S + 2)
            present_for = left.arrived_s - joined.arrived_s
            self.assertGreaterEqual(present_for, PONG_TIMEOUT_S - 0.05,
                                    "the peer was removed before its pong timeout ran out")
            self.assertLess(present_for, PING_INTERVAL_S + PONG_TIMEOUT_S + 1.0)
        finally:
            peer.close()

        # The observer, whose client replies to pings, stays.
        await asyncio.sleep(PING_INTERVAL_S + PONG_TIMEOUT_S + 0.2)
        await observer.ping()
        self.assertEqual(observer.events_since(0, kind="UserLeft", user_id="observer"), [])
