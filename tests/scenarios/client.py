"""A presence client over the `websockets` library that records everything the gateway sends.

A background task reads every frame into `messages` and flattens presence events, including those
inside batch frames, into `events`. Tests wait on those lists with `next_message` and `next_event`,
which consume in order, or look at them directly.
"""

import asyncio
import json
import time
import unittest
import uuid

from websockets.asyncio.client import connect as websocket_connect
from websockets.exceptions import ConnectionClosed

from gateway import main_gateway

DEFAULT_TIMEOUT_S = 3.0
CLOSE_TIMEOUT_S = 2.0


class Received:
    """One frame from the gateway: its JSON, when it arrived (monotonic seconds) and its frame type."""

    def __init__(self, body, arrived_s, binary):
        self.body = body
        self.arrived_s = arrived_s
        self.binary = binary

    def __repr__(self):
        return json.dumps(self.body)


class Event:
    """One presence event: `kind` is the tag (`CursorMoved`), `body` its value, `user_id` whom it is about."""

    def __init__(self, document_id, payload, message):
        (self.kind, self.body), = payload.items()
        self.document_id = document_id
        self.message = message
        if isinstance(self.body, str):
            self.user_id = self.body
        else:
            self.user_id = self.body.get("user_id")

    @property
    def arrived_s(self):
        return self.message.arrived_s

    def __repr__(self):
        return f"{self.kind}({json.dumps(self.body)})@{self.document_id}"


class GatewayError(AssertionError):
    """An error message from the gateway where the test expected something else."""


class Client:
    def __init__(self, websocket, label):
        self.websocket = websocket
        self.label = label
        self.messages = []
        self.events = []
        self.message_position = 0
        self.event_position = 0
        self.close_code = None
        self.closed = asyncio.Event()
        self._arrived = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(cls, url, label):
        websocket = await websocket_connect(url, open_timeout=5, close_timeout=CLOSE_TIMEOUT_S, max_size=None)
        return cls(websocket, label)

    async def _read(self):
        try:
            async for frame in self.websocket:
                binary = isinstance(frame, bytes)
                message = Received(json.loads(frame), time.monotonic(), binary)
                self.messages.append(message)
                body = message.body
                if body.get("event_type") == "presence":
                    self.events.append(Event(body.get("document_id"), body["payload"], message))
                elif body.get("event_type") == "batch":
                    for payload in body["payload"]:
                        self.events.append(Event(body.get("document_id"), payload, message))
                self._arrived.set()
        except ConnectionClosed:
            pass
        finally:
            self.close_code = self.websocket.close_code
            self.closed.set()
            self._arrived.set()

    # MARK: - Sending

    async def send(self, message):
        await self.websocket.send(json.dumps(message))

    async def send_raw(self, text):
        await self.websocket.send(text)

    async def join(self, document_id, user_id, workspace_id="w1", name=None, avatar_url=None, ref=None,
                   timeout=DEFAULT_TIMEOUT_S):
        """Send a join and return the snapshot's payload; raise GatewayError if the gateway replies with an error."""
        message = {"type": "join", "document_id": document_id, "workspace_id": workspace_id, "user_id": user_id,
                   "name": name if name is not None else f"Name of {user_id}", "avatar_url": avatar_url}
        if ref is not None:
            message["ref"] = ref
        await self.send(message)
        reply = await self.next_message(
            lambda body: body.get("document_id") == document_id and body["event_type"] in ("snapshot", "error"),
            f"the snapshot of {document_id}", timeout)
        if reply["event_type"] == "error":
            raise GatewayError(f"{self.label}: join of {document_id} as {user_id} failed: {reply}")
        return reply["payload"]

    async def cursor(self, document_id, line, column=0, offset=None, selection=None):
        await self.send({"type": "cursor", "document_id": document_id,
                         "cursor": position(line, column, offset), "selection": selection})

    async def close(self):
        await asyncio.wait_for(self.websocket.close(), CLOSE_TIMEOUT_S + 1)
        await asyncio.wait_for(self._reader, CLOSE_TIMEOUT_S + 1)

    # MARK: - Waiting

    async def _wait_until(self, find, description, timeout):
        deadline = time.monotonic() + timeout
        while True:
            self._arrived.clear()
            found = find()
            if found is not None:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.closed.is_set():
                raise AssertionError(
                    f"{self.label}: no {description} within {timeout} s (closed: {self.closed.is_set()}); "
                    f"received {self.messages[-12:]}")
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    async def next_message(self, predicate, description="matching message", timeout=DEFAULT_TIMEOUT_S):
        """Return the body of the first unconsumed message matching `predicate`, consuming up to it."""
        def find():
            for index in range(self.message_position, len(self.messages)):
                if predicate(self.messages[index].body):
                    self.message_position = index + 1
                    return self.messages[index].body
            return None
        return await self._wait_until(find, description, timeout)

    async def next_error(self, timeout=DEFAULT_TIMEOUT_S):
        """Return the next error message (whole envelope)."""
        return await self.next_message(lambda body: body["event_type"] == "error", "error message", timeout)

    async def next_event(self, kind, user_id=None, document_id=None, where=None, timeout=DEFAULT_TIMEOUT_S):
        """Return the first unconsumed event of `kind` (about `user_id`, in `document_id`), consuming up to it."""
        def matches(event):
            return (event.kind == kind and (user_id is None or event.user_id == user_id)
                    and (document_id is None or event.document_id == document_id)
                    and (where is None or where(event.body)))

        def find():
            for index in range(self.event_position, len(self.events)):
                if matches(self.events[index]):
                    self.event_position = index + 1
                    return self.events[index]
            return None
        return await self._wait_until(find, f"{kind} event about {user_id} in {document_id}", timeout)

    async def wait_closed(self, timeout=DEFAULT_TIMEOUT_S):
        await asyncio.wait_for(self.closed.wait(), timeout)
        return self.close_code

    def mark(self):
        """Return a position in `events` to pass to `events_since`."""
        return len(self.events)

    def events_since(self, mark, kind=None, user_id=None, document_id=None):
        return [event for event in self.events[mark:]
                if (kind is None or event.kind == kind) and (user_id is None or event.user_id == user_id)
                and (document_id is None or event.document_id == document_id)]

    async def ping(self, timeout=DEFAULT_TIMEOUT_S):
        """Send an application ping and wait for its pong, which proves the connection is open and read."""
        await self.send({"type": "ping"})
        return await self.next_message(lambda body: body["event_type"] == "pong", "pong", timeout)


def position(line, column=0, offset=None):
    return {"line": line, "column": column, "offset": offset if offset is not None else line * 100 + column}


def selection(anchor_line, head_line, is_backward=False):
    return {"anchor": position(anchor_line), "head": position(head_line), "is_backward": is_backward}


class ScenarioCase(unittest.IsolatedAsyncioTestCase):
    """A scenario: its clients are closed after each test, and documents get ids unique to the test."""

    @classmethod
    def setUpClass(cls):
        # Started outside the test's event loop, because starting blocks until /healthz responds.
        cls.gateway = cls.start_gateway()

    @classmethod
    def start_gateway(cls):
        """Return the gateway this class's scenarios use; subclasses override it for other settings."""
        return main_gateway()

    async def asyncSetUp(self):
        self.clients = []
        # unittest runs the loop in debug mode, which warns about any step over 0.1 s; on a busy
        # machine that is noise.
        asyncio.get_running_loop().slow_callback_duration = 1.0

    async def asyncTearDown(self):
        for client in self.clients:
            try:
                await client.close()
            except (asyncio.TimeoutError, ConnectionClosed, OSError):
                pass

    def document(self, label="doc"):
        return f"{label}-{self._testMethodName[5:40]}-{uuid.uuid4().hex[:8]}"

    async def connect(self, label, gateway=None, batch_ms=None):
        url = (gateway or self.gateway).ws_url
        if batch_ms is not None:
            url += f"?batch_ms={batch_ms}"
        client = await Client.connect(url, label)
        self.clients.append(client)
        return client

    async def joined(self, document_id, user_id, label=None, gateway=None, batch_ms=None, **join_fields):
        """Connect a client, join `document_id` as `user_id`, and return (client, snapshot payload)."""
        client = await self.connect(label or user_id, gateway, batch_ms)
        snapshot = await client.join(document_id, user_id, **join_fields)
        return client, snapshot

    async def settle(self, seconds=0.3):
        """Wait long enough that any event still on its way has arrived (flush interval 16 ms, throttle 50 ms)."""
        await asyncio.sleep(seconds)

    def assertKinds(self, events, expected, message=None):
        self.assertEqual([event.kind for event in events], expected, message or f"events: {events}")
