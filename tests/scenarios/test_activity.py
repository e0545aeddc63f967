"""Idle and away are states, each announced once on entry, and any activity leaves them."""

import asyncio
import json

from client import ScenarioCase, selection
from gateway import POOL

# The smallest timeouts the configuration accepts.
ACTIVITY_TIMEOUT_S = 1.0
AWAY_TIMEOUT_S = 2.0
# The gateway promises to detect a transition within one second; allow scheduling slack on top.
DETECTION_S = 1.0 + 0.3


def activity_gateway():
    return POOL.get("activity", {"presence": {"activity_timeout_ms": 1000, "away_timeout_ms": 2000}})


class IdleAndAwayTests(ScenarioCase):
    @classmethod
    def start_gateway(cls):
        return activity_gateway()

    async def test_idle_then_away_announced_once(self):
        document = self.document()
        observer, _ = await self.joined(document, "observer")
        sleeper, _ = await self.joined(document, "sleeper")
        joined_at = asyncio.get_running_loop().time()

        async def ping_until_away():
            # Heartbeats keep the connection alive; they are not user activity.
            while not observer.events_since(0, kind="ActivityChanged", user_id="sleeper"):
                await sleeper.send({"type": "ping"})
                await asyncio.sleep(0.2)
        pinger = asyncio.create_task(ping_until_away())
        self.addCleanup(pinger.cancel)

        idle = await observer.next_event("UserIdle", "sleeper", timeout=ACTIVITY_TIMEOUT_S + DETECTION_S)
        self.assertEqual(idle.body, {"user_id": "sleeper"})
        idle_after = idle.arrived_s - joined_at
        self.assertGreaterEqual(idle_after, ACTIVITY_TIMEOUT_S - 0.05)
        self.assertLess(idle_after, ACTIVITY_TIMEOUT_S + DETECTION_S)

        status, _, body = self.gateway.admin_get(f"/internal/presence/{document}")
        self.assertEqual(status, 200)
        sleeper_summary = next(user for user in json.loads(body)["active_users"] if user["user_id"] == "sleeper")
        self.assertEqual(sleeper_summary["activity"], "Idle")

        away = await observer.next_event("ActivityChanged", "sleeper", timeout=AWAY_TIMEOUT_S + DETECTION_S)
        self.assertEqual(away.body["activity"], "Away")
        away_after = away.arrived_s - joined_at
        self.assertGreaterEqual(away_after, AWAY_TIMEOUT_S - 0.05)
        self.assertLess(away_after, AWAY_TIMEOUT_S + DETECTION_S)

        # The design's monitor repeated its broadcasts every five seconds; stored states must not.
        await asyncio.sleep(2.5)
        about_sleeper = observer.events_since(0, user_id="sleeper")
        self.assertKinds(about_sleeper, ["UserJoined", "UserIdle", "ActivityChanged"])

        mark = observer.mark()
        await sleeper.cursor(document, 1)
        await observer.next_event("CursorMoved", "sleeper")
        back = await observer.next_event("ActivityChanged", "sleeper")
        self.assertEqual(back.body["activity"], "Viewing")
        await asyncio.sleep(0.5)
        self.assertKinds(observer.events_since(mark, user_id="sleeper"), ["CursorMoved", "ActivityChanged"])

    async def test_each_kind_of_activity_wakes_idle_user_once(self):
        document = self.document()
        observer, _ = await self.joined(document, "observer")
        actors = {}
        for user_id in ("cursor-user", "selection-user", "typing-user", "viewport-user", "focus-user"):
            actors[user_id], _ = await self.joined(document, user_id)
        await actors["focus-user"].send({"type": "focus", "document_id": document, "focused": False})

        for user_id in actors:
            await observer.next_event("UserIdle", user_id, timeout=ACTIVITY_TIMEOUT_S + DETECTION_S)
        mark = observer.mark()
        await actors["cursor-user"].cursor(document, 3)
        await actors["selection-user"].cursor(document, 4, selection=selection(1, 4))
        await actors["typing-user"].send({"type": "typing", "document_id": document})
        await actors["viewport-user"].send({"type": "viewport", "document_id": document,
                                            "viewport": {"top_line": 0, "bottom_line": 9, "scroll_percentage": 0.0}})
        await actors["focus-user"].send({"type": "focus", "document_id": document, "focused": True})
        await asyncio.sleep(0.4)

        expected = {"cursor-user": "Viewing", "selection-user": "Selecting", "typing-user": "Editing",
                    "viewport-user": "Viewing", "focus-user": "Viewing"}
        for user_id, activity in expected.items():
            changes = observer.events_since(mark, kind="ActivityChanged", user_id=user_id)
            self.assertEqual([change.body["activity"] for change in changes], [activity],
                             f"{user_id} must leave Idle with one ActivityChanged")
            self.assertEqual(observer.events_since(mark, kind="UserIdle", user_id=user_id), [])

    async def test_typing_from_away_goes_straight_to_editing(self):
        document = self.document()
        observer, _ = await self.joined(document, "observer")
        typist, _ = await self.joined(document, "typist")
        away = await observer.next_event("ActivityChanged", "typist", timeout=AWAY_TIMEOUT_S + DETECTION_S)
        self.assertEqual(away.body["activity"], "Away")

        mark = observer.mark()
        await typist.send({"type": "typing", "document_id": document, "is_typing": True})
        await asyncio.sleep(0.3)
        changes = observer.events_since(mark, kind="ActivityChanged", user_id="typist")
        self.assertEqual([change.body["activity"] for change in changes], ["Editing"])
        typing = observer.events_since(mark, kind="TypingChanged", user_id="typist")
        self.assertEqual([event.body["is_typing"] for event in typing], [True])

    async def test_steady_activity_never_goes_idle(self):
        document = self.document()
        observer, _ = await self.joined(document, "observer")
        worker, _ = await self.joined(document, "worker")
        for step in range(8):
            await worker.cursor(document, step)
            await asyncio.sleep(0.25)
        self.assertEqual(observer.events_since(0, kind="UserIdle", user_id="worker"), [],
                         "a user active every 250 ms must not go idle after 1000 ms of membership")
