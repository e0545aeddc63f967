"""Cursor throttling on the trailing edge, and the activity a cursor sets."""

import asyncio

from client import ScenarioCase, selection

THROTTLE_MS = 50
FLUSH_MS = 16


class CursorThrottleTests(ScenarioCase):
    async def test_burst_delivers_final_position(self):
        document = self.document()
        mover, _ = await self.joined(document, "mover")
        observer, _ = await self.joined(document, "observer")

        for line in range(1, 31):
            await mover.cursor(document, line)
        await self.settle(THROTTLE_MS * 3 / 1000 + 0.2)

        moves = observer.events_since(0, kind="CursorMoved", user_id="mover")
        self.assertGreater(len(moves), 0)
        self.assertEqual(moves[-1].body["cursor"]["line"], 30, f"the final position was lost: {moves}")
        self.assertLess(len(moves), 30, "a burst sent within a few ms must be throttled")

    async def test_burst_sends_one_move_per_interval(self):
        document = self.document()
        mover, _ = await self.joined(document, "mover")
        observer, _ = await self.joined(document, "observer")

        # About 60 moves over 300 ms: six throttle intervals.
        for line in range(1, 61):
            await mover.cursor(document, line)
            await asyncio.sleep(0.005)
        await self.settle(0.3)

        moves = observer.events_since(0, kind="CursorMoved", user_id="mover")
        self.assertEqual(moves[-1].body["cursor"]["line"], 60)
        timestamps = [move.message.body["timestamp"] for move in moves]
        gaps = [later - earlier for earlier, later in zip(timestamps, timestamps[1:])]
        # Timestamps are whole milliseconds taken when the move is published. A held move goes out
        # a fifth of an interval before its slot, and the slots stay one interval apart. So a gap is
        # shorter than the interval only by that fifth and by how late the loop reached the move.
        tolerance_ms = THROTTLE_MS // 5
        self.assertTrue(all(gap >= THROTTLE_MS - tolerance_ms - 5 for gap in gaps),
                        f"two CursorMoved within {THROTTLE_MS - tolerance_ms} ms: gaps {gaps}")
        self.assertGreaterEqual(sum(gaps), THROTTLE_MS * len(gaps) - tolerance_ms - 1,
                                f"more than one CursorMoved per {THROTTLE_MS} ms on average: gaps {gaps}")
        self.assertGreaterEqual(len(moves), 3, f"moves over 300 ms must not collapse into one: {moves}")
        lines = [move.body["cursor"]["line"] for move in moves]
        self.assertEqual(lines, sorted(lines), "positions must arrive in the order they were sent")

    async def test_single_move_after_quiet_goes_out_at_once(self):
        document = self.document()
        mover, _ = await self.joined(document, "mover")
        observer, _ = await self.joined(document, "observer")

        await mover.cursor(document, 3)
        first = await observer.next_event("CursorMoved", "mover")
        await self.settle(THROTTLE_MS * 2 / 1000)
        sent_at = asyncio.get_running_loop().time()
        await mover.cursor(document, 4, 2, 402)
        second = await observer.next_event("CursorMoved", "mover")

        self.assertEqual(first.body["cursor"], {"line": 3, "column": 0, "offset": 300})
        self.assertEqual(second.body["cursor"], {"line": 4, "column": 2, "offset": 402})
        self.assertIsNone(second.body["selection"])
        # The leading edge of a quiet interval waits at most for the flush tick.
        self.assertLess(second.arrived_s - sent_at, (THROTTLE_MS + FLUSH_MS) / 1000 + 0.2)

    async def test_last_move_arrives_within_throttle_and_flush(self):
        document = self.document()
        mover, _ = await self.joined(document, "mover")
        observer, _ = await self.joined(document, "observer")

        await mover.cursor(document, 1)
        await observer.next_event("CursorMoved", "mover")
        await mover.cursor(document, 2)
        last_sent = asyncio.get_running_loop().time()
        await mover.cursor(document, 7)
        final = await observer.next_event("CursorMoved", "mover", where=lambda body: body["cursor"]["line"] == 7)

        # Allow scheduling slack on a shared machine on top of the promised bound.
        self.assertLess(final.arrived_s - last_sent, (THROTTLE_MS + FLUSH_MS) / 1000 + 0.25)

    async def test_moves_of_two_users_throttle_separately(self):
        document = self.document()
        ada, _ = await self.joined(document, "ada")
        grace, _ = await self.joined(document, "grace")
        observer, _ = await self.joined(document, "observer")

        await ada.cursor(document, 10)
        await grace.cursor(document, 20)
        ada_move = await observer.next_event("CursorMoved", "ada")
        grace_move = await observer.next_event("CursorMoved", "grace")
        self.assertEqual(ada_move.body["cursor"]["line"], 10)
        self.assertEqual(grace_move.body["cursor"]["line"], 20)


class CursorActivityTests(ScenarioCase):
    async def test_selection_sets_selecting_then_cursor_viewing(self):
        document = self.document()
        mover, _ = await self.joined(document, "mover")
        observer, _ = await self.joined(document, "observer")

        chosen = selection(2, 5)
        await mover.cursor(document, 5, selection=chosen)
        moved = await observer.next_event("CursorMoved", "mover")
        self.assertEqual(moved.body["selection"], chosen)
        selecting = await observer.next_event("ActivityChanged", "mover")
        self.assertEqual(selecting.body["activity"], "Selecting")

        await self.settle(THROTTLE_MS * 2 / 1000)
        await mover.cursor(document, 6)
        await observer.next_event("CursorMoved", "mover")
        viewing = await observer.next_event("ActivityChanged", "mover")
        self.assertEqual(viewing.body["activity"], "Viewing")

    async def test_plain_cursor_while_viewing_sends_no_activity(self):
        document = self.document()
        mover, _ = await self.joined(document, "mover")
        observer, _ = await self.joined(document, "observer")

        await mover.cursor(document, 1)
        await observer.next_event("CursorMoved", "mover")
        await self.settle()
        self.assertEqual(observer.events_since(0, kind="ActivityChanged"), [],
                         "a user who joins Viewing stays Viewing after a plain cursor")

    async def test_selection_stored_in_later_snapshot(self):
        document = self.document()
        mover, _ = await self.joined(document, "mover")
        chosen = selection(8, 3, is_backward=True)
        await mover.cursor(document, 3, selection=chosen)
        await self.settle(0.1)

        _, snapshot = await self.joined(document, "late")
        mover_state = next(user for user in snapshot["users"] if user["user_id"] == "mover")
        self.assertEqual(mover_state["selection"], chosen)
        self.assertEqual(mover_state["cursor"]["line"], 3)
        self.assertEqual(mover_state["state"]["activity"], "Selecting")
