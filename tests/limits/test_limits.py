"""Each limit on abusive or broken clients, with an error that names it, and the server goes on."""

import asyncio
import json
import socket
import time

from support import POOL, LimitsCase

MESSAGES_PER_SECOND = 20
MAX_DOCUMENTS = 3
MAX_JSON_DEPTH = 4
MAX_MESSAGE_BYTES = 1024
HANDSHAKE_TIMEOUT_MS = 300
MAX_CONNECTIONS = 3


def limits_gateway():
    return POOL.get("limits", {
        "auth": {"mode": "none"},
        "server": {"messages_per_second": MESSAGES_PER_SECOND, "max_documents_per_connection": MAX_DOCUMENTS,
                   "max_json_depth": MAX_JSON_DEPTH, "max_message_bytes": MAX_MESSAGE_BYTES,
                   "handshake_timeout_ms": HANDSHAKE_TIMEOUT_MS},
    })


def per_ip_gateway():
    return POOL.get("per-ip", {"auth": {"mode": "none"},
                               "server": {"max_connections_per_ip": MAX_CONNECTIONS, "max_connections": 100}})


def total_gateway():
    return POOL.get("total", {"auth": {"mode": "none"},
                              "server": {"max_connections": MAX_CONNECTIONS, "max_connections_per_ip": 100}})


class RateLimitTests(LimitsCase):
    async def test_burst_gets_rate_limited(self):
        client = await self.connect(limits_gateway())
        # The bucket's burst is two seconds' worth, so three seconds' worth at once must overflow it.
        for _ in range(MESSAGES_PER_SECOND * 3):
            await client.send({"type": "ping"})
        error = await client.next_error()
        self.assertEqual(error["payload"]["code"], "RateLimited")
        self.assertIn(f"more than {MESSAGES_PER_SECOND} messages per second", error["payload"]["message"])

    async def test_client_is_served_again_after_pause(self):
        client = await self.connect(limits_gateway())
        for _ in range(MESSAGES_PER_SECOND * 2 + 5):
            await client.send({"type": "ping"})
        await client.next_error()
        await asyncio.sleep(1.0)
        await client.ping()
        self.assertIsNone(client.close_code)

    async def test_continued_flood_is_closed_with_1008(self):
        client = await self.connect(limits_gateway())
        bystander = await self.connect(limits_gateway(), "bystander")
        try:
            for _ in range(MESSAGES_PER_SECOND * 10):
                await client.send({"type": "ping"})
        except Exception:
            pass  # The gateway may close while the flood is still being sent.
        self.assertEqual(await client.wait_closed(), 1008)
        self.assertIn("rate limit", client.close_reason)
        await bystander.ping()


class DocumentsPerConnectionTests(LimitsCase):
    async def test_join_past_maximum_names_limit(self):
        client = await self.connect(limits_gateway())
        documents = [self.document(f"d{index}") for index in range(MAX_DOCUMENTS)]
        for document in documents:
            self.assertEqual((await client.join(document))["event_type"], "snapshot")
        answer = await client.join(self.document("extra"))
        self.assertEqual(answer["event_type"], "error")
        self.assertIn("max_documents_per_connection", answer["payload"]["message"])

        await client.send({"type": "leave", "document_id": documents[0]})
        self.assertEqual((await client.join(self.document("after-leave")))["event_type"], "snapshot")


class ConnectionLimitTests(LimitsCase):
    async def test_connections_per_ip_past_maximum_get_503(self):
        gateway = per_ip_gateway()
        for index in range(MAX_CONNECTIONS):
            await (await self.connect(gateway, f"c{index}")).ping()
        status, body = await self.rejected_upgrade(gateway)
        self.assertEqual(status, 503, body)

        other_address = await self.connect(gateway, "other address", local_host="127.0.0.2")
        await other_address.ping()

    async def test_total_connections_past_maximum_get_503(self):
        gateway = total_gateway()
        for index in range(MAX_CONNECTIONS):
            client = await self.connect(gateway, f"c{index}", local_host=f"127.0.0.{index + 2}")
            await client.ping()
        status, body = await self.rejected_upgrade(gateway, local_host="127.0.0.9")
        self.assertEqual(status, 503, body)

    async def test_closed_connection_frees_its_place(self):
        gateway = per_ip_gateway()
        clients = [await self.connect(gateway, f"c{index}") for index in range(MAX_CONNECTIONS)]
        await clients[0].close()
        deadline = time.monotonic() + 3
        while True:
            try:
                await (await self.connect(gateway, "replacement")).ping()
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)


class HandshakeTimeoutTests(LimitsCase):
    def closed_after(self, data):
        """Open a raw socket, send `data`, and return the seconds until the gateway closes it."""
        gateway = limits_gateway()
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", gateway.port), timeout=5) as raw:
            if data:
                raw.sendall(data)
            while raw.recv(4096):
                pass
        return time.monotonic() - started

    async def test_silent_socket_is_closed(self):
        elapsed = await asyncio.to_thread(self.closed_after, b"")
        self.assertGreaterEqual(elapsed, HANDSHAKE_TIMEOUT_MS / 1000 * 0.8)
        self.assertLess(elapsed, 3)

    async def test_incomplete_request_head_is_closed(self):
        elapsed = await asyncio.to_thread(self.closed_after, b"GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        self.assertGreaterEqual(elapsed, HANDSHAKE_TIMEOUT_MS / 1000 * 0.8)
        self.assertLess(elapsed, 3)


class MessageShapeTests(LimitsCase):
    async def test_nesting_past_depth_is_invalid(self):
        client = await self.connect(limits_gateway())
        nested = {"line": 1}
        for _ in range(MAX_JSON_DEPTH):
            nested = {"line": nested}
        await client.send({"type": "cursor", "document_id": "d", "cursor": nested, "ref": 7})
        error = await client.next_error()
        self.assertEqual(error["payload"]["code"], "InvalidMessage")
        self.assertIn(f"maximum depth of {MAX_JSON_DEPTH}", error["payload"]["message"])
        await client.ping()

    async def test_message_past_size_is_closed_with_1009(self):
        client = await self.connect(limits_gateway())
        bystander = await self.connect(limits_gateway(), "bystander")
        padding = "x" * MAX_MESSAGE_BYTES
        await client.send(json.dumps({"type": "ping", "ref": padding}))
        self.assertEqual(await client.wait_closed(), 1009)
        await bystander.ping()

    async def test_message_under_size_is_read(self):
        client = await self.connect(limits_gateway())
        ref = "x" * (MAX_MESSAGE_BYTES - 100)
        await client.send(json.dumps({"type": "ping", "ref": ref}))
        await client.next_message(lambda body: body["event_type"] == "pong", "pong")
