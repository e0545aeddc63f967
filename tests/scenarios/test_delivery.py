"""How events reach a client: binary frames, and batches asked for with ?batch_ms=."""

import asyncio
import time

from websockets.exceptions import InvalidStatus

from client import Client, ScenarioCase
from gateway import POOL


PRESENCE_FIELDS = {"user_id", "document_id", "workspace_id", "name", "avatar_url", "color", "state", "cursor",
                   "selection", "connected_at", "last_active_at", "last_cursor_update"}
STATE_FIELDS = {"online", "typing", "focused", "activity", "viewport"}


class EnvelopeTests(ScenarioCase):
    async def test_messages_have_protocol_fields(self):
        document = self.document()
        ada, _ = await self.joined(document, "ada")
        grace, _ = await self.joined(document, "grace")
        await ada.send({"type": "focus", "document_id": "not-joined", "focused": True})
        await ada.next_error()
        await ada.ping()
        now_ms = time.time() * 1000
        snapshot, joined, error, pong = ada.messages

        self.assertEqual(set(snapshot.body), {"event_type", "document_id", "payload", "timestamp"})
        self.assertEqual(set(snapshot.body["payload"]), {"self", "users"})
        for presence in [snapshot.body["payload"]["self"], *snapshot.body["payload"]["users"]]:
            self.assertEqual(set(presence), PRESENCE_FIELDS)
            self.assertEqual(set(presence["state"]), STATE_FIELDS)
            self.assertTrue(presence["state"]["online"])
        self.assertEqual(set(joined.body), {"event_type", "document_id", "payload", "timestamp"})
        self.assertEqual(set(joined.body["payload"]["UserJoined"]), PRESENCE_FIELDS)
        self.assertEqual(set(error.body), {"event_type", "document_id", "payload", "timestamp"})
        self.assertEqual(set(error.body["payload"]), {"code", "message"}, "no ref when the request had none")
        self.assertEqual(set(pong.body), {"event_type", "timestamp"})
        for message in (snapshot, joined, error, pong):
            self.assertLess(abs(message.body["timestamp"] - now_ms), 5000,
                            f"timestamps are milliseconds since the Unix epoch: {message}")


class BinaryFramesTests(ScenarioCase):
    @classmethod
    def start_gateway(cls):
        return POOL.get("binary", {"server": {"binary_frames": True}})

    async def test_every_server_message_is_binary(self):
        document = self.document()
        ada, _ = await self.joined(document, "ada")
        grace, _ = await self.joined(document, "grace")
        await grace.cursor(document, 2)
        await ada.next_event("CursorMoved", "grace")
        await ada.cursor("not-joined", 1)
        await ada.next_error()
        await ada.ping()

        kinds = {message.body["event_type"] for message in ada.messages}
        self.assertEqual(kinds, {"snapshot", "presence", "error", "pong"})
        self.assertTrue(all(message.binary for message in ada.messages + grace.messages),
                        "with binary_frames = true no text frame may be sent")

    async def test_text_frames_by_default(self):
        document = self.document()
        main = POOL.get("main")
        client = await Client.connect(main.ws_url, "text client")
        self.clients.append(client)
        await client.join(document, "ada")
        self.assertFalse(client.messages[0].binary)


class BatchTests(ScenarioCase):
    async def test_batch_frame_contains_updates(self):
        document = self.document()
        batched, _ = await self.joined(document, "batched", batch_ms=50)
        actor, _ = await self.joined(document, "actor")
        await actor.cursor(document, 3)
        await actor.send({"type": "typing", "document_id": document, "is_typing": True})
        await actor.send({"type": "viewport", "document_id": document,
                          "viewport": {"top_line": 1, "bottom_line": 2, "scroll_percentage": 0.5}})
        await batched.next_event("ViewportChanged", "actor")

        updates = [message.body for message in batched.messages
                   if message.body["event_type"] in ("presence", "batch")]
        batches = [body for body in updates if body["event_type"] == "batch"]
        self.assertGreater(len(batches), 0)
        for body in batches:
            self.assertEqual(body["document_id"], document)
            self.assertIsInstance(body["payload"], list)
            self.assertIsInstance(body["timestamp"], int)
        for body in updates:
            if body["event_type"] == "presence":
                (kind,) = body["payload"]
                self.assertNotIn(kind, ("CursorMoved", "TypingChanged", "ViewportChanged"),
                                 "cursor, typing and viewport events wait for the batch")

    async def test_batch_carries_latest_cursor_per_user(self):
        document = self.document()
        # A window of several throttle intervals, so that one batch would hold several moves of a user.
        batched, _ = await self.joined(document, "batched", batch_ms=200)
        observer, _ = await self.joined(document, "observer")
        ada, _ = await self.joined(document, "ada")
        grace, _ = await self.joined(document, "grace")
        for step in range(1, 41):
            await ada.cursor(document, step)
            await grace.cursor(document, 1000 + step)
            await asyncio.sleep(0.01)
        await self.settle(0.5)

        for body in (message.body for message in batched.messages if message.body["event_type"] == "batch"):
            movers = [event["CursorMoved"]["user_id"] for event in body["payload"] if "CursorMoved" in event]
            self.assertEqual(len(movers), len(set(movers)), f"a batch contains one cursor per user: {body}")
        batched_moves = batched.events_since(0, kind="CursorMoved")
        observed_moves = observer.events_since(0, kind="CursorMoved")
        self.assertLess(len(batched_moves), len(observed_moves), "batching must drop superseded cursors")
        for user_id, last_line in (("ada", 40), ("grace", 1040)):
            moves = [event for event in batched_moves if event.user_id == user_id]
            self.assertEqual(moves[-1].body["cursor"]["line"], last_line, f"{user_id}'s final cursor was lost")

    async def test_batches_keep_their_interval(self):
        document = self.document()
        window_s = 0.15
        batched, _ = await self.joined(document, "batched", batch_ms=int(window_s * 1000))
        mover, _ = await self.joined(document, "mover")
        await self.settle(window_s * 2)

        sent_at = asyncio.get_running_loop().time()
        await mover.cursor(document, 1)
        first = await batched.next_event("CursorMoved", "mover")
        self.assertLess(first.arrived_s - sent_at, window_s * 0.8,
                        "the first event after a quiet interval waits only for the room's flush tick")
        for step in range(2, 31):
            await mover.cursor(document, step)
            await asyncio.sleep(0.02)
        await self.settle(window_s * 3)

        arrivals = [message.arrived_s for message in batched.messages if message.body["event_type"] == "batch"]
        gaps = [later - earlier for earlier, later in zip(arrivals, arrivals[1:])]
        # Arrival times include the scheduling of this test's own event loop.
        self.assertTrue(all(gap >= window_s - 0.03 for gap in gaps), f"two batches within {window_s} s: {gaps}")
        moves = batched.events_since(0, kind="CursorMoved", user_id="mover")
        self.assertEqual(moves[-1].body["cursor"]["line"], 30, "the final cursor was lost")

    async def test_join_and_leave_neither_wait_nor_overtake(self):
        document = self.document()
        # A long window, so that the join surely arrives while the cursor waits in the batch.
        window_s = 0.4
        batched, _ = await self.joined(document, "batched", batch_ms=int(window_s * 1000))
        ada, _ = await self.joined(document, "ada")
        newcomer = await self.connect("newcomer")

        await ada.cursor(document, 7)
        await asyncio.sleep(0.05)
        await newcomer.join(document, "newcomer")
        snapshot_at = newcomer.messages[-1].arrived_s
        joined = await batched.next_event("UserJoined", "newcomer")

        self.assertLess(joined.arrived_s - snapshot_at, window_s / 2, "a join must not wait for the batch")
        kinds = [event.kind for event in batched.events]
        self.assertEqual(kinds[-2:], ["CursorMoved", "UserJoined"], "the earlier cursor must come first")

        await ada.cursor(document, 8)
        await asyncio.sleep(0.05)
        closed_at = asyncio.get_running_loop().time()
        await newcomer.close()
        left = await batched.next_event("UserLeft", "newcomer")
        self.assertLess(left.arrived_s - closed_at, window_s / 2, "a leave must not wait for the batch")
        kinds = [event.kind for event in batched.events]
        self.assertEqual(kinds[-2:], ["CursorMoved", "UserLeft"])
        self.assertEqual(batched.events[-2].body["cursor"]["line"], 8)

    async def test_invalid_batch_interval_rejected_at_handshake(self):
        for value in ("abc", "1001", "-5"):
            with self.subTest(batch_ms=value):
                with self.assertRaises(InvalidStatus) as raised:
                    await Client.connect(f"{self.gateway.ws_url}?batch_ms={value}", "bad batch")
                self.assertEqual(raised.exception.response.status_code, 400)
                self.assertIn(b"batch_ms", raised.exception.response.body)
