"""Typing: TypingChanged only on a change; stops on debounce expiry, leave and disconnect."""

import asyncio

from client import ScenarioCase

DEBOUNCE_S = 0.2


class TypingTests(ScenarioCase):
    async def typing_pair(self):
        document = self.document()
        typist, _ = await self.joined(document, "typist")
        observer, _ = await self.joined(document, "observer")
        return document, typist, observer

    def typing_values(self, client, mark=0, user_id="typist"):
        return [event.body["is_typing"] for event in client.events_since(mark, kind="TypingChanged", user_id=user_id)]

    async def test_keystrokes_send_one_typing_change(self):
        document, typist, observer = await self.typing_pair()
        for _ in range(6):
            await typist.send({"type": "typing", "document_id": document})
            await asyncio.sleep(0.03)
        started = await observer.next_event("TypingChanged", "typist")
        self.assertEqual(started.body, {"user_id": "typist", "is_typing": True})
        stopped = await observer.next_event("TypingChanged", "typist", timeout=DEBOUNCE_S + 1)
        self.assertFalse(stopped.body["is_typing"])
        await self.settle(0.1)
        self.assertEqual(self.typing_values(observer), [True, False])

    async def test_typing_stops_after_debounce_from_last_keystroke(self):
        document, typist, observer = await self.typing_pair()
        loop = asyncio.get_running_loop()
        # Keystrokes every 100 ms for 500 ms: typing must last past the first keystroke's debounce.
        for _ in range(6):
            await typist.send({"type": "typing", "document_id": document})
            last_keystroke = loop.time()
            await asyncio.sleep(0.1)
        stopped = await observer.next_event("TypingChanged", "typist",
                                            where=lambda body: not body["is_typing"], timeout=2)
        quiet_for = stopped.arrived_s - last_keystroke
        self.assertGreaterEqual(quiet_for, DEBOUNCE_S - 0.03, "typing stopped before the debounce ran out")
        self.assertLess(quiet_for, DEBOUNCE_S + 0.4)
        self.assertEqual(self.typing_values(observer), [True, False])

    async def test_explicit_typing_sends_only_changes(self):
        document, typist, observer = await self.typing_pair()
        for value in (True, True, True, False, False, True):
            await typist.send({"type": "typing", "document_id": document, "is_typing": value})
            await asyncio.sleep(0.05)
        await self.settle()
        self.assertEqual(self.typing_values(observer), [True, False, True])

    async def test_explicit_typing_outlasts_debounce(self):
        document, typist, observer = await self.typing_pair()
        await typist.send({"type": "typing", "document_id": document, "is_typing": True})
        await observer.next_event("TypingChanged", "typist")
        await asyncio.sleep(DEBOUNCE_S * 3)
        self.assertEqual(self.typing_values(observer), [True], "is_typing true lasts until false or leave")

    async def test_typing_sets_editing(self):
        document, typist, observer = await self.typing_pair()
        await typist.send({"type": "typing", "document_id": document})
        await observer.next_event("TypingChanged", "typist")
        editing = await observer.next_event("ActivityChanged", "typist")
        self.assertEqual(editing.body["activity"], "Editing")

        _, snapshot = await self.joined(document, "late")
        typist_state = next(user for user in snapshot["users"] if user["user_id"] == "typist")
        self.assertTrue(typist_state["state"]["typing"])
        self.assertEqual(typist_state["state"]["activity"], "Editing")

    async def test_leave_stops_typing_of_that_tab(self):
        document = self.document()
        observer, _ = await self.joined(document, "observer")
        tab1, _ = await self.joined(document, "typist", label="typist tab 1")
        tab2, _ = await self.joined(document, "typist", label="typist tab 2")
        await tab1.send({"type": "typing", "document_id": document, "is_typing": True})
        await observer.next_event("TypingChanged", "typist")

        await tab1.send({"type": "leave", "document_id": document})
        stopped = await observer.next_event("TypingChanged", "typist", timeout=1)
        self.assertFalse(stopped.body["is_typing"])
        self.assertEqual(observer.events_since(0, kind="UserLeft"), [])
        await tab2.next_event("TypingChanged", "typist", where=lambda body: not body["is_typing"])

    async def test_disconnect_stops_typing_of_that_tab(self):
        document = self.document()
        observer, _ = await self.joined(document, "observer")
        tab1, _ = await self.joined(document, "typist", label="typist tab 1")
        tab2, _ = await self.joined(document, "typist", label="typist tab 2")
        await tab1.send({"type": "typing", "document_id": document, "is_typing": True})
        await observer.next_event("TypingChanged", "typist")

        tab1.websocket.transport.abort()
        stopped = await observer.next_event("TypingChanged", "typist", timeout=1)
        self.assertFalse(stopped.body["is_typing"])
        await self.settle()
        self.assertEqual(observer.events_since(0, kind="UserLeft"), [])

        _, snapshot = await self.joined(document, "late")
        typist_state = next(user for user in snapshot["users"] if user["user_id"] == "typist")
        self.assertFalse(typist_state["state"]["typing"])

    async def test_last_tab_leaving_stops_typing_before_user_left(self):
        document, typist, observer = await self.typing_pair()
        await typist.send({"type": "typing", "document_id": document, "is_typing": True})
        await observer.next_event("TypingChanged", "typist")
        mark = observer.mark()
        await typist.close()
        await observer.next_event("UserLeft", "typist")
        kinds = [event.kind for event in observer.events_since(mark, user_id="typist")]
        self.assertEqual(kinds[-1], "UserLeft")
        self.assertNotIn("UserJoined", kinds)
