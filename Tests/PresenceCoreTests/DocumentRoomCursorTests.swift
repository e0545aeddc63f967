import PresenceCore
import XCTest

final class DocumentRoomCursorTests: XCTestCase {
    private func cursorLines(_ events: [PresenceEvent]) -> [UInt32] {
        events.compactMap {
            if case .cursorMoved(_, let cursor, _) = $0 { return cursor.line }
            return nil
        }
    }

    /// Returns the delivery time and line of every cursor frame member 2 received.
    private func cursorDeliveries(_ harness: RoomHarness) -> [(UInt64, UInt32)] {
        harness.output.deliveries.filter { $0.members.contains(2) }.compactMap { delivery in
            guard case .presence(.cursorMoved(_, let cursor, _)) = RecordingOutput.decode(delivery.frame.bytes) else {
                return nil
            }
            return (delivery.deliveredAtMs, cursor.line)
        }
    }

    func testFirstCursorGoesOutOnFlushTick() throws {
        let harness = RoomHarness()
        try harness.join(1, "u1")
        try harness.join(2, "u2")
        let start = harness.nowMs

        try harness.cursor(1, line: 1)
        XCTAssertEqual(cursorLines(harness.events(for: 2)), [], "cursor events wait for the flush tick")
        XCTAssertEqual(harness.room.nextDeadlineMs, start + 16)

        harness.run(for: 16)
        XCTAssertEqual(cursorLines(harness.events(for: 2)), [1])
    }

    func testLastCursorPositionAlwaysArrives() throws {
        let harness = RoomHarness()
        try harness.join(1, "u1")
        try harness.join(2, "u2")
        try harness.cursor(1, line: 1)
        harness.run(for: 10)
        try harness.cursor(1, line: 2)
        harness.run(for: 10)
        try harness.cursor(1, line: 3)

        harness.run(for: 200)

        XCTAssertEqual(cursorLines(harness.events(for: 2)), [1, 3], "the final position must not be dropped")
        XCTAssertEqual(harness.room.users.first { $0.userID == "u1" }?.cursor?.line, 3)
    }

    func testThrottleSendsAtMostOnePerInterval() throws {
        let harness = RoomHarness()
        try harness.join(1, "u1")
        try harness.join(2, "u2")
        let start = harness.nowMs
        for line in UInt32(0)..<100 {
            try harness.cursor(1, line: line)
            harness.run(for: 5)
        }
        harness.run(for: 200)
        let deliveries = cursorDeliveries(harness)

        XCTAssertEqual(deliveries.last?.1, 99, "the final position must arrive")
        let arrivalOfLast = start + 99 * 5
        XCTAssertLessThanOrEqual(deliveries.last!.0, arrivalOfLast + 50 + 16)
        for (earlier, later) in zip(deliveries, deliveries.dropFirst()) {
            XCTAssertGreaterThanOrEqual(later.0 - earlier.0, 40, "two CursorMoved less than 4/5 of an interval apart")
        }
        XCTAssertLessThanOrEqual(deliveries.count, 500 / 50 + 2)
    }

    func testJitteredMovesAreNotHeldBack() throws {
        let harness = RoomHarness(config: PresenceConfig(flushIntervalMs: 0))
        try harness.join(1, "u1")
        try harness.join(2, "u2")
        // A 20 Hz client whose moves reach the gateway up to 5 ms early or late.
        let offsets: [UInt64] = [0, 45, 105, 146, 203, 248, 300, 345, 404, 450]
        var clock: UInt64 = 0
        for (line, offset) in offsets.enumerated() {
            harness.run(for: offset - clock)
            clock = offset
            try harness.cursor(1, line: UInt32(line))
            XCTAssertEqual(cursorLines(harness.events(for: 2)).last, UInt32(line), "move \(line) was held back")
        }
    }

    func testLateDeadlineDoesNotPushLaterMovesBack() throws {
        let harness = RoomHarness(config: PresenceConfig(flushIntervalMs: 0))
        try harness.join(1, "u1")
        try harness.join(2, "u2")
        try harness.cursor(1, line: 0)
        harness.clock.advance(by: 5)
        try harness.cursor(1, line: 1)
        // The held move was due at 40 ms; the loop gets to it only at 70 ms.
        harness.clock.advance(by: 65)
        harness.room.tick()
        XCTAssertEqual(cursorLines(harness.events(for: 2)), [0, 1])
        // The next slot is at 100 ms, counted from the held move's slot, not from 70 ms.
        harness.clock.advance(by: 22)
        try harness.cursor(1, line: 2)
        XCTAssertEqual(cursorLines(harness.events(for: 2)), [0, 1, 2])
    }

    func testCursorAfterQuietIntervalIsNotDelayed() throws {
        let harness = RoomHarness(config: PresenceConfig(flushIntervalMs: 0))
        try harness.join(1, "u1")
        try harness.join(2, "u2")
        try harness.cursor(1, line: 1)
        harness.run(for: 60)
        try harness.cursor(1, line: 2)
        XCTAssertEqual(cursorLines(harness.events(for: 2)), [1, 2])
    }

    func testZeroFlushIntervalSendsAtOnce() throws {
        let harness = RoomHarness(config: PresenceConfig(cursorThrottleMs: 0, flushIntervalMs: 0))
        try harness.join(1, "u1")
        try harness.join(2, "u2")
        for line in UInt32(1)...3 {
            try harness.cursor(1, line: line)
        }
        XCTAssertEqual(cursorLines(harness.events(for: 2)), [1, 2, 3])
    }

    func testCursorFrameCarriesKindAndReceiveTime() throws {
        let harness = RoomHarness(config: PresenceConfig(flushIntervalMs: 0))
        try harness.join(1, "u1")
        try harness.join(2, "u2")
        harness.output.clear()
        try harness.room.cursor(
            member: 1, cursor: CursorPosition(line: 1, column: 1, offset: 1), selection: nil,
            receivedMonotonicMs: harness.nowMs - 3
        )
        let frame = try XCTUnwrap(harness.output.deliveries.first?.frame)
        XCTAssertEqual(frame.kind, .cursor(userID: "u1"))
        XCTAssertEqual(frame.createdMonotonicMs, harness.nowMs - 3)
    }

    func testSelectionSetsSelectingAndPlainCursorViewing() throws {
        let harness = RoomHarness(config: PresenceConfig(cursorThrottleMs: 0, flushIntervalMs: 0))
        try harness.join(1, "u1")
        try harness.join(2, "u2")
        harness.output.clear()

        try harness.cursor(1, line: 1, selection: selectionSample)
        try harness.cursor(1, line: 2, selection: selectionSample)
        try harness.cursor(1, line: 3)

        let activities = harness.events(for: 2).compactMap {
            if case .activityChanged(_, let activity) = $0 { return activity }
            return nil
        }
        XCTAssertEqual(activities, [.selecting, .viewing], "announced once per change")
        XCTAssertEqual(harness.room.users.first?.state.activity, .viewing)
    }

    func testCursorWhileTypingKeepsEditing() throws {
        let harness = RoomHarness(config: PresenceConfig(cursorThrottleMs: 0, flushIntervalMs: 0))
        try harness.join(1, "u1")
        try harness.join(2, "u2")
        try harness.room.typing(member: 1, isTyping: nil)
        harness.output.clear()

        try harness.cursor(1, line: 5)

        XCTAssertEqual(harness.events(for: 2).count, 1, "only CursorMoved, no activity flapping")
        XCTAssertEqual(harness.room.users.first?.state.activity, .editing)
    }

    func testPendingCursorOfDepartedUserIsDropped() throws {
        let harness = RoomHarness()
        try harness.join(1, "u1")
        try harness.join(2, "u2")
        try harness.cursor(1, line: 1)
        harness.run(for: 20)
        try harness.cursor(1, line: 2)
        harness.room.leave(member: 1)
        harness.run(for: 200)
        XCTAssertEqual(cursorLines(harness.events(for: 2)), [1])
        XCTAssertEqual(harness.events(for: 2).last, .userLeft(userID: "u1"))
    }

    func testPendingCursorFromClosedTabStillArrives() throws {
        let harness = RoomHarness()
        try harness.join(1, "u1")
        try harness.join(3, "u1")
        try harness.join(2, "u2")
        try harness.cursor(1, line: 1)
        harness.run(for: 20)
        try harness.cursor(1, line: 2)
        harness.room.leave(member: 1)
        harness.run(for: 200)
        XCTAssertEqual(cursorLines(harness.events(for: 2)), [1, 2])
        XCTAssertEqual(cursorLines(harness.events(for: 3)), [1, 2])
    }
}
