import PresenceCore
import XCTest

final class DocumentRoomOrderTests: XCTestCase {
    func testMembersReceiveEventsInOneOrder() throws {
        let harness = RoomHarness()
        for member in MemberID(1)...4 {
            try harness.join(member, "u\(member)")
        }
        harness.run(for: 100)
        harness.output.clear()

        try harness.cursor(1, line: 1)
        try harness.room.typing(member: 2, isTyping: nil)
        try harness.room.viewport(member: 3, viewport: Viewport(topLine: 1, bottomLine: 2, scrollPercentage: 3))
        harness.room.leave(member: 4)
        try harness.cursor(2, line: 7)
        harness.run(for: 1000)

        func withoutOwn(_ events: [PresenceEvent], _ userID: String) -> [PresenceEvent] {
            events.filter { $0.userID != userID }
        }
        let reference = harness.events(for: 1) + []
        for member in MemberID(2)...3 {
            XCTAssertEqual(
                withoutOwn(harness.events(for: member), "u1"),
                withoutOwn(withoutOwn(reference, "u\(member)"), "u1"),
                "member \(member) saw another order"
            )
        }
        let cursorIndex = harness.events(for: 2).firstIndex {
            if case .cursorMoved = $0 { return true }
            return false
        }
        let leftIndex = harness.events(for: 2).firstIndex(of: .userLeft(userID: "u4"))
        XCTAssertNotNil(cursorIndex)
        XCTAssertLessThan(cursorIndex!, leftIndex!, "a queued cursor goes out before a later leave")
    }

    func testSnapshotThenEventsWithoutGap() throws {
        let harness = RoomHarness()
        try harness.join(1, "u1")
        try harness.cursor(1, line: 1)
        harness.run(for: 10)
        try harness.cursor(1, line: 2)

        try harness.join(2, "u2")
        harness.run(for: 200)

        let messages = harness.output.messages(for: 2)
        guard case .snapshot(_, let users) = messages.first else { return XCTFail("no snapshot first") }
        XCTAssertEqual(users.first { $0.userID == "u1" }?.cursor?.line, 1, "the snapshot has what was sent")
        let cursorEvents = harness.events(for: 2).compactMap {
            if case .cursorMoved(_, let cursor, _) = $0 { return cursor.line }
            return nil
        }
        XCTAssertEqual(cursorEvents, [2], "the pending position follows the snapshot, once")
    }

    func testQueuedEventsGoOutBeforeJoin() throws {
        let harness = RoomHarness()
        try harness.join(1, "u1")
        try harness.join(2, "u2")
        harness.run(for: 100)
        try harness.cursor(1, line: 5)

        let third = try harness.join(3, "u3")

        let forMember2 = harness.events(for: 2)
        XCTAssertEqual(forMember2.suffix(2).first?.userID, "u1")
        XCTAssertEqual(forMember2.last, .userJoined(third))
        guard case .snapshot(_, let users) = harness.output.messages(for: 3).first else { return XCTFail("no snapshot") }
        XCTAssertEqual(users.first { $0.userID == "u1" }?.cursor?.line, 5)
        harness.run(for: 100)
        XCTAssertEqual(harness.events(for: 3), [], "the joiner must not receive what its snapshot contains")
    }

    func testUpdateIsNeverLeaveThenJoin() throws {
        let harness = RoomHarness(config: PresenceConfig(flushIntervalMs: 0))
        try harness.join(1, "u1")
        try harness.join(2, "u2")
        harness.output.clear()

        try harness.cursor(1, line: 3)
        try harness.room.typing(member: 1, isTyping: true)
        try harness.room.viewport(member: 1, viewport: Viewport(topLine: 0, bottomLine: 9, scrollPercentage: 0))
        try harness.room.focus(member: 1, focused: false)
        try harness.join(3, "u1")
        harness.room.leave(member: 3)

        for event in harness.events(for: 2) {
            switch event {
            case .userJoined, .userLeft: XCTFail("update sent as \(event)")
            default: break
            }
        }
    }

    func testEachOperationEndsOneBatch() throws {
        let harness = RoomHarness(config: PresenceConfig(flushIntervalMs: 0))
        try harness.join(1, "u1")
        try harness.join(2, "u2")
        harness.output.clear()

        try harness.cursor(1, line: 1, selection: selectionSample)

        XCTAssertEqual(harness.output.deliveries.count, 2, "CursorMoved and ActivityChanged")
        XCTAssertEqual(harness.output.batchEnds, 1)

        harness.output.clear()
        harness.room.tick()
        XCTAssertEqual(harness.output.batchEnds, 0, "no batch end without frames")
    }

    func testFlushTickBatchesSeveralUsers() throws {
        let harness = RoomHarness()
        try harness.join(1, "u1")
        try harness.join(2, "u2")
        try harness.join(3, "u3")
        harness.run(for: 100)
        harness.output.clear()

        try harness.cursor(1, line: 1)
        try harness.cursor(2, line: 2)
        XCTAssertEqual(harness.output.deliveries.count, 0)
        harness.run(for: 16)

        XCTAssertEqual(harness.output.deliveries.count, 2)
        XCTAssertEqual(harness.output.batchEnds, 1, "both cursors go out in one batch")
    }

    func testEventsEncodeOncePerEvent() throws {
        let harness = RoomHarness(config: PresenceConfig(flushIntervalMs: 0))
        for member in MemberID(1)...5 {
            try harness.join(member, "u\(member)")
        }
        harness.output.clear()
        try harness.cursor(1, line: 1)
        XCTAssertEqual(harness.output.deliveries.count, 1)
        XCTAssertEqual(harness.output.deliveries.first?.members, [2, 3, 4, 5])
    }

    // MARK: - Policy filters

    func testPolicyFilterDropsEventForEveryone() throws {
        let policy = ScriptedPolicy()
        policy.hiddenUsers = ["ghost"]
        let harness = RoomHarness(config: PresenceConfig(flushIntervalMs: 0), policy: policy)
        try harness.join(1, "u1")
        try harness.join(2, "ghost")
        try harness.cursor(2, line: 1)
        XCTAssertEqual(harness.events(for: 1), [])

        try harness.join(3, "u3")
        guard case .snapshot(_, let users) = harness.output.messages(for: 3).first else { return XCTFail("no snapshot") }
        XCTAssertEqual(users.map(\.userID), ["u1", "u3"], "hidden users are left out of snapshots too")
    }

    func testPolicyFiltersPerRecipient() throws {
        let policy = ScriptedPolicy()
        policy.cursorBlindRecipients = ["u2"]
        let harness = RoomHarness(config: PresenceConfig(flushIntervalMs: 0), policy: policy)
        try harness.join(1, "u1")
        try harness.join(2, "u2")
        try harness.join(3, "u3")
        try harness.join(4, "u2")
        harness.output.clear()

        try harness.cursor(1, line: 1)

        XCTAssertEqual(harness.output.deliveries.count, 1)
        XCTAssertEqual(harness.output.deliveries.first?.members, [3])
    }

    func testReplacedPolicyAppliesToNextEvent() throws {
        let harness = RoomHarness(config: PresenceConfig(flushIntervalMs: 0))
        try harness.join(1, "u1")
        try harness.join(2, "u2")
        let policy = ScriptedPolicy()
        policy.hiddenUsers = ["u1"]
        harness.room.replacePolicy(policy)
        harness.output.clear()
        try harness.cursor(1, line: 1)
        XCTAssertEqual(harness.events(for: 2), [])
    }

    // MARK: - Store

    func testStoreFollowsJoinUpdatesAndLeave() throws {
        let harness = RoomHarness()
        try harness.join(1, "u1")
        XCTAssertEqual(harness.store.backing.documentPresence(documentID: "d1").map(\.userID), ["u1"])
        XCTAssertEqual(harness.store.backing.activeDocuments(workspaceID: "w1"), [DocumentUserCount(documentID: "d1", userCount: 1)])

        try harness.room.typing(member: 1, isTyping: true)
        XCTAssertEqual(harness.store.backing.documentPresence(documentID: "d1").first?.state.typing, true)
        XCTAssertEqual(harness.store.backing.documentPresence(documentID: "d1").first?.state.activity, .editing)

        harness.room.leave(member: 1)
        XCTAssertEqual(harness.store.backing.documentPresence(documentID: "d1"), [])
        XCTAssertEqual(harness.store.backing.activeDocuments(workspaceID: "w1"), [])
        XCTAssertEqual(harness.store.backing.documents(userID: "u1"), [])
    }

    func testCursorStoreWritesAtMostOncePerSecond() throws {
        let harness = RoomHarness(config: PresenceConfig(cursorThrottleMs: 0, flushIntervalMs: 0))
        try harness.join(1, "u1")
        harness.run(for: 2000)
        harness.store.clear()

        for line in UInt32(1)...100 {
            try harness.cursor(1, line: line)
            harness.run(for: 10)
        }
        harness.run(for: 1000)

        let cursorWrites = harness.store.writes.compactMap {
            if case .store(let presence) = $0 { return presence.cursor?.line }
            return nil
        }
        XCTAssertLessThanOrEqual(cursorWrites.count, 3)
        XCTAssertEqual(cursorWrites.last, 100, "the final position reaches the store")
    }

    func testStoreRecordsAreRefreshedWithinTTL() throws {
        let harness = RoomHarness()
        try harness.join(1, "u1")
        try harness.join(2, "u2")
        harness.run(for: 10 * 60 * 1000)

        let refreshes = harness.store.writes.filter {
            if case .refresh = $0 { return true }
            return false
        }
        XCTAssertGreaterThanOrEqual(refreshes.count, 60)
        XCTAssertEqual(refreshes.last, .refresh(userIDs: ["u1", "u2"]))
        XCTAssertEqual(harness.store.backing.documentPresence(documentID: "d1").count, 2, "idle users stay stored")
    }

    func testIdleTransitionsReachStore() throws {
        let harness = RoomHarness()
        try harness.join(1, "u1")
        harness.run(for: 31_000)
        XCTAssertEqual(harness.store.backing.documentPresence(documentID: "d1").first?.state.activity, .idle)
    }
}
