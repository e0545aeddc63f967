"""Several tabs: presence is per user and document, and a user's connections are counted."""

from client import ScenarioCase, GatewayError


class SeveralTabsTests(ScenarioCase):
    async def test_second_tab_sends_no_user_joined(self):
        document = self.document()
        observer, _ = await self.joined(document, "observer")
        await self.joined(document, "ada", label="ada tab 1")
        await observer.next_event("UserJoined", "ada")

        mark = observer.mark()
        tab2, snapshot = await self.joined(document, "ada", label="ada tab 2")
        await self.settle()

        self.assertEqual(observer.events_since(mark), [], "a second tab must not announce the user again")
        self.assertEqual([user["user_id"] for user in snapshot["users"]], ["observer", "ada"])
        self.assertEqual(snapshot["self"]["user_id"], "ada")

    async def test_closing_one_of_two_tabs_keeps_user(self):
        document = self.document()
        observer, _ = await self.joined(document, "observer")
        tab1, _ = await self.joined(document, "ada", label="ada tab 1")
        tab2, _ = await self.joined(document, "ada", label="ada tab 2")
        await observer.next_event("UserJoined", "ada")

        mark = observer.mark()
        await tab1.close()
        await self.settle()
        self.assertEqual(observer.events_since(mark, kind="UserLeft"), [], "ada still has a tab open")

        status, _, body = self.gateway.admin_get(f"/internal/presence/{document}")
        self.assertEqual(status, 200)
        self.assertIn('"user_id":"ada"', body)

        await tab2.close()
        left = await observer.next_event("UserLeft", "ada")
        self.assertEqual(left.body, "ada")

    async def test_leave_of_one_tab_keeps_user(self):
        document = self.document()
        observer, _ = await self.joined(document, "observer")
        tab1, _ = await self.joined(document, "ada", label="ada tab 1")
        tab2, _ = await self.joined(document, "ada", label="ada tab 2")
        await observer.next_event("UserJoined", "ada")

        mark = observer.mark()
        await tab1.send({"type": "leave", "document_id": document})
        await self.settle()
        self.assertEqual(observer.events_since(mark, kind="UserLeft"), [])

        await tab2.cursor(document, 4)
        moved = await observer.next_event("CursorMoved", "ada")
        self.assertEqual(moved.body["cursor"]["line"], 4)

    async def test_reload_leaves_no_duplicate(self):
        document = self.document()
        observer, _ = await self.joined(document, "observer")
        for attempt in range(3):
            tab, _ = await self.joined(document, "ada", label=f"ada load {attempt}")
            await tab.cursor(document, attempt)
            await self.settle(0.1)
            await tab.close()
        reloaded, snapshot = await self.joined(document, "ada", label="ada after reloads")

        user_ids = [user["user_id"] for user in snapshot["users"]]
        self.assertEqual(sorted(user_ids), ["ada", "observer"])
        status, _, body = self.gateway.admin_get(f"/internal/presence/{document}")
        self.assertEqual(status, 200)
        self.assertIn('"total_count":2', body)

        # The observer saw every leave before the next join, so its view contains ada once.
        present = set()
        for event in observer.events:
            if event.kind == "UserJoined":
                self.assertNotIn(event.user_id, present, f"UserJoined for a user already present: {observer.events}")
                present.add(event.user_id)
            elif event.kind == "UserLeft":
                self.assertIn(event.user_id, present)
                present.discard(event.user_id)
        self.assertEqual(present, {"ada"})

    async def test_abrupt_reload_leaves_no_duplicate(self):
        """A tab whose TCP connection drops without a close frame, replaced at once by a new one."""
        document = self.document()
        observer, _ = await self.joined(document, "observer")
        old, _ = await self.joined(document, "ada", label="ada before reload")
        await observer.next_event("UserJoined", "ada")

        old.websocket.transport.abort()
        new, snapshot = await self.joined(document, "ada", label="ada after reload")
        await self.settle()

        self.assertEqual(sorted(user["user_id"] for user in snapshot["users"]), ["ada", "observer"])
        later, later_snapshot = await self.joined(document, "grace")
        self.assertEqual(sorted(user["user_id"] for user in later_snapshot["users"]), ["ada", "grace", "observer"])

    async def test_event_from_tab_reaches_other_tab_not_sender(self):
        document = self.document()
        tab1, _ = await self.joined(document, "ada", label="ada tab 1")
        tab2, _ = await self.joined(document, "ada", label="ada tab 2")
        observer, _ = await self.joined(document, "observer")

        mark1 = tab1.mark()
        await tab1.cursor(document, 9)
        await tab1.send({"type": "viewport", "document_id": document,
                         "viewport": {"top_line": 5, "bottom_line": 30, "scroll_percentage": 12.5}})
        await tab1.send({"type": "typing", "document_id": document, "is_typing": True})

        for client in (tab2, observer):
            moved = await client.next_event("CursorMoved", "ada")
            self.assertEqual(moved.body["cursor"]["line"], 9)
            await client.next_event("ViewportChanged", "ada")
            await client.next_event("TypingChanged", "ada")
        await self.settle()
        self.assertEqual(tab1.events_since(mark1), [], "the sending connection must not get its own events back")

    async def test_second_tab_gets_snapshot_with_current_state(self):
        document = self.document()
        tab1, _ = await self.joined(document, "ada", label="ada tab 1")
        await tab1.cursor(document, 12)
        await self.settle(0.1)
        tab2, snapshot = await self.joined(document, "ada", label="ada tab 2")
        self.assertEqual(snapshot["self"]["cursor"]["line"], 12)

    async def test_repeated_join_on_same_connection_is_silent(self):
        document = self.document()
        observer, _ = await self.joined(document, "observer")
        ada, _ = await self.joined(document, "ada")
        await ada.cursor(document, 6)
        await observer.next_event("CursorMoved", "ada")

        mark = observer.mark()
        snapshot = await ada.join(document, "ada")
        await self.settle()
        self.assertEqual(observer.events_since(mark), [], "joining again must not look like a leave and a join")
        self.assertEqual(snapshot["self"]["cursor"]["line"], 6)

    async def test_same_connection_cannot_join_as_two_users(self):
        document = self.document()
        client, _ = await self.joined(document, "ada")
        with self.assertRaises(GatewayError) as raised:
            await client.join(document, "grace", ref="second-user")
        self.assertIn("InvalidMessage", str(raised.exception))
        await client.ping()
