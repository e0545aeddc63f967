"""Viewport and focus are stored (a later joiner's snapshot shows them) and broadcast."""

from client import ScenarioCase

VIEWPORT = {"top_line": 120, "bottom_line": 160, "scroll_percentage": 37.5}


class ViewportAndFocusTests(ScenarioCase):
    async def test_viewport_broadcast_and_stored(self):
        document = self.document()
        reader, _ = await self.joined(document, "reader")
        observer, _ = await self.joined(document, "observer")

        await reader.send({"type": "viewport", "document_id": document, "viewport": VIEWPORT})
        changed = await observer.next_event("ViewportChanged", "reader")
        self.assertEqual(changed.body, {"user_id": "reader", "viewport": VIEWPORT})

        _, snapshot = await self.joined(document, "late")
        reader_state = next(user for user in snapshot["users"] if user["user_id"] == "reader")
        self.assertEqual(reader_state["state"]["viewport"], VIEWPORT)

    async def test_latest_viewport_wins(self):
        document = self.document()
        reader, _ = await self.joined(document, "reader")
        for top in range(0, 50, 10):
            await reader.send({"type": "viewport", "document_id": document,
                               "viewport": {"top_line": top, "bottom_line": top + 40, "scroll_percentage": top / 2}})
        await self.settle(0.1)
        _, snapshot = await self.joined(document, "late")
        reader_state = next(user for user in snapshot["users"] if user["user_id"] == "reader")
        self.assertEqual(reader_state["state"]["viewport"], {"top_line": 40, "bottom_line": 80,
                                                            "scroll_percentage": 20.0})

    async def test_focus_broadcast_and_stored(self):
        document = self.document()
        reader, snapshot = await self.joined(document, "reader")
        self.assertTrue(snapshot["self"]["state"]["focused"])
        observer, _ = await self.joined(document, "observer")

        await reader.send({"type": "focus", "document_id": document, "focused": False})
        changed = await observer.next_event("FocusChanged", "reader")
        self.assertEqual(changed.body, {"user_id": "reader", "focused": False})

        _, late_snapshot = await self.joined(document, "late")
        reader_state = next(user for user in late_snapshot["users"] if user["user_id"] == "reader")
        self.assertFalse(reader_state["state"]["focused"])

        await reader.send({"type": "focus", "document_id": document, "focused": True})
        regained = await observer.next_event("FocusChanged", "reader")
        self.assertTrue(regained.body["focused"])

    async def test_repeated_focus_sends_one_change(self):
        document = self.document()
        reader, _ = await self.joined(document, "reader")
        observer, _ = await self.joined(document, "observer")
        for _ in range(3):
            await reader.send({"type": "focus", "document_id": document, "focused": False})
        await self.settle()
        self.assertEqual(len(observer.events_since(0, kind="FocusChanged")), 1)

    async def test_user_focused_while_any_tab_is(self):
        document = self.document()
        observer, _ = await self.joined(document, "observer")
        tab1, _ = await self.joined(document, "reader", label="reader tab 1")
        tab2, _ = await self.joined(document, "reader", label="reader tab 2")

        await tab1.send({"type": "focus", "document_id": document, "focused": False})
        await self.settle()
        self.assertEqual(observer.events_since(0, kind="FocusChanged"), [], "tab 2 still has focus")

        await tab2.send({"type": "focus", "document_id": document, "focused": False})
        lost = await observer.next_event("FocusChanged", "reader")
        self.assertFalse(lost.body["focused"])
        # Tab 1 hears tab 2's change; tab 2 caused it and hears nothing.
        await tab1.next_event("FocusChanged", "reader")
        self.assertEqual(tab2.events_since(0, kind="FocusChanged"), [])

    async def test_unfocused_tab_closing_leaves_focused_user(self):
        document = self.document()
        observer, _ = await self.joined(document, "observer")
        tab1, _ = await self.joined(document, "reader", label="reader tab 1")
        tab2, _ = await self.joined(document, "reader", label="reader tab 2")
        await tab1.send({"type": "focus", "document_id": document, "focused": False})
        await tab2.send({"type": "focus", "document_id": document, "focused": False})
        await observer.next_event("FocusChanged", "reader", where=lambda body: not body["focused"])

        await tab2.send({"type": "focus", "document_id": document, "focused": True})
        await observer.next_event("FocusChanged", "reader", where=lambda body: body["focused"])
        mark = observer.mark()
        await tab2.close()
        lost = await observer.next_event("FocusChanged", "reader")
        self.assertFalse(lost.body["focused"], "the remaining tab is unfocused, so the user is")
        self.assertEqual(observer.events_since(mark, kind="UserLeft"), [])
