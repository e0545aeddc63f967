import PresenceCore
import XCTest

final class DocumentRoomMembershipTests: XCTestCase {
    func testJoinSendsSnapshotAndUserJoined() throws {
        let harness = RoomHarness()
        try harness.join(1, "u1")
        let second = try harness.join(2, "u2")

        guard case .snapshot(let selfPresence, let users) = harness.output.messages(for: 2).first else {
            return XCTFail("no snapshot for the joiner")
        }
        XCTAssertEqual(selfPresence, second)
        XCTAssertEqual(users.map(\.userID), ["u1", "u2"])
        XCTAssertEqual(harness.events(for: 1), [.userJoined(second)])
        XCTAssertEqual(harness.events(for: 2), [])
    }

    func testSecondTabGetsSnapshotOnly() throws {
        let harness = RoomHarness()
        try harness.join(1, "u1")
        try harness.join(2, "u2")
        harness.output.clear()

        try harness.join(3, "u1")

        XCTAssertEqual(harness.events(for: 2), [], "another tab must not announce the user again")
        guard case .snapshot(let selfPresence, let users) = harness.output.messages(for: 3).first else {
            return XCTFail("no snapshot for the second tab")
        }
        XCTAssertEqual(selfPresence.userID, "u1")
        XCTAssertEqual(users.map(\.userID), ["u1", "u2"])
        XCTAssertEqual(harness.room.users.count, 2)
        XCTAssertEqual(harness.room.memberCount, 3)
    }

    func testSecondTabKeepsFirstTabsState() throws {
        let harness = RoomHarness()
        let first = try harness.join(1, "u1")
        try harness.cursor(1, line: 9)
        harness.clock.advance(by: 1000)

        let again = try harness.join(2, "u1")

        XCTAssertEqual(again.connectedAt, first.connectedAt)
        XCTAssertEqual(again.cursor?.line, 9)
    }

    func testClosingOneTabSendsNoUserLeft() throws {
        let harness = RoomHarness()
        try harness.join(1, "u1")
        try harness.join(2, "u1")
        try harness.join(3, "u2")
        harness.output.clear()

        harness.room.leave(member: 1)
        harness.run(for: 100)

        XCTAssertEqual(harness.events(for: 3), [])
        XCTAssertEqual(harness.room.users.map(\.userID), ["u1", "u2"])

        harness.room.leave(member: 2)
        XCTAssertEqual(harness.events(for: 3), [.userLeft(userID: "u1")])
        XCTAssertEqual(harness.room.users.map(\.userID), ["u2"])
    }

    func testReloadLeavesNoDuplicateUser() throws {
        let harness = RoomHarness()
        try harness.join(1, "u1")
        try harness.join(2, "u2")
        harness.room.leave(member: 1)
        try harness.join(5, "u1")

        XCTAssertEqual(harness.room.users.map(\.userID), ["u2", "u1"])
        XCTAssertEqual(harness.store.backing.documentPresence(documentID: "d1").map(\.userID).sorted(), ["u1", "u2"])
    }

    func testEventsReachOtherTabsButNotSender() throws {
        let harness = RoomHarness(config: PresenceConfig(flushIntervalMs: 0))
        try harness.join(1, "u1")
        try harness.join(2, "u1")
        try harness.join(3, "u2")
        harness.output.clear()

        try harness.room.focus(member: 1, focused: false)
        try harness.cursor(1, line: 4)

        let expected: PresenceEvent = .cursorMoved(
            userID: "u1", cursor: CursorPosition(line: 4, column: 0, offset: 40), selection: nil
        )
        XCTAssertFalse(harness.events(for: 1).contains(expected))
        XCTAssertTrue(harness.events(for: 2).contains(expected))
        XCTAssertTrue(harness.events(for: 3).contains(expected))
    }

    func testLeaveIsDeliveredWithoutWaitingForFlush() throws {
        let harness = RoomHarness(config: PresenceConfig(flushIntervalMs: 1000))
        try harness.join(1, "u1")
        try harness.join(2, "u2")
        harness.output.clear()

        harness.room.leave(member: 1)

        XCTAssertEqual(harness.events(for: 2), [.userLeft(userID: "u1")])
        XCTAssertTrue(harness.store.writes.contains(.remove(userID: "u1")))
        XCTAssertTrue(harness.room.users.allSatisfy { $0.userID != "u1" })
    }

    func testLeaveOfUnknownMemberIsIgnored() throws {
        let harness = RoomHarness()
        try harness.join(1, "u1")
        harness.output.clear()
        harness.room.leave(member: 99)
        harness.room.leave(member: 1)
        harness.room.leave(member: 1)
        XCTAssertTrue(harness.room.isEmpty)
        XCTAssertEqual(harness.output.deliveries.count, 0)
    }

    func testUpdatesFromUnjoinedMemberThrowNotJoined() throws {
        let harness = RoomHarness()
        try harness.join(1, "u1")
        let calls: [(String, () throws(PresenceError) -> Void)] = [
            ("cursor", { () throws(PresenceError) in try harness.room.cursor(member: 7, cursor: CursorPosition(line: 0, column: 0, offset: 0), selection: nil, receivedMonotonicMs: 0) }),
            ("typing", { () throws(PresenceError) in try harness.room.typing(member: 7, isTyping: nil) }),
            ("viewport", { () throws(PresenceError) in try harness.room.viewport(member: 7, viewport: Viewport(topLine: 0, bottomLine: 1, scrollPercentage: 0)) }),
            ("focus", { () throws(PresenceError) in try harness.room.focus(member: 7, focused: true) }),
        ]
        for (name, call) in calls {
            do {
                try call()
                XCTFail("\(name) from an unjoined member was accepted")
            } catch {
                XCTAssertEqual(error.code, .notJoined, name)
                XCTAssertTrue(error.message.contains("\"d1\""), name)
            }
        }
    }

    func testJoinRejectsOtherWorkspaceAndSecondIdentity() throws {
        let harness = RoomHarness()
        try harness.join(1, "u1")
        XCTAssertThrowsError(
            try harness.room.join(member: 2, identity: UserIdentity(userID: "u2", workspaceID: "w2", name: "B", avatarURL: nil))
        ) { error in
            XCTAssertEqual((error as? PresenceError)?.code, .invalidMessage)
        }
        XCTAssertThrowsError(try harness.join(1, "u9")) { error in
            XCTAssertEqual((error as? PresenceError)?.code, .invalidMessage)
        }
        harness.output.clear()
        try harness.join(1, "u1")
        guard case .snapshot = harness.output.messages(for: 1).first else { return XCTFail("no snapshot on rejoin") }
        XCTAssertEqual(harness.room.memberCount, 1)
    }

    // MARK: - Capacity

    func testCapacityRejectsNextDistinctUser() throws {
        let harness = RoomHarness(config: PresenceConfig(maxUsersPerDocument: 2))
        try harness.join(1, "u1")
        try harness.join(2, "u2")
        XCTAssertThrowsError(try harness.join(3, "u3")) { error in
            XCTAssertEqual(error as? PresenceError, .documentAtCapacity(maximumUsers: 2))
            XCTAssertEqual((error as? PresenceError)?.message, "Document at capacity: maximum 2 users")
        }
        XCTAssertEqual(harness.room.memberCount, 2)
    }

    func testCapacityIgnoresExtraTabs() throws {
        let harness = RoomHarness(config: PresenceConfig(maxUsersPerDocument: 1))
        try harness.join(1, "u1")
        XCTAssertNoThrow(try harness.join(2, "u1"))
        XCTAssertThrowsError(try harness.join(3, "u2"))
        harness.room.leave(member: 1)
        harness.room.leave(member: 2)
        XCTAssertNoThrow(try harness.join(3, "u2"))
    }

    func testCapacityDefaultIsOneThousand() throws {
        let harness = RoomHarness()
        for index in 0..<1000 {
            try harness.join(MemberID(index), "user-\(index)")
        }
        XCTAssertThrowsError(try harness.join(5000, "one-too-many")) { error in
            XCTAssertEqual((error as? PresenceError)?.message, "Document at capacity: maximum 1000 users")
        }
    }

    func testPolicyCapacityOverridesConfig() throws {
        let policy = ScriptedPolicy()
        policy.capacity = 1
        let harness = RoomHarness(policy: policy)
        try harness.join(1, "u1")
        XCTAssertThrowsError(try harness.join(2, "u2")) { error in
            XCTAssertEqual(error as? PresenceError, .documentAtCapacity(maximumUsers: 1))
        }
    }

    func testPolicyRejectionThrowsPluginRejected() throws {
        let policy = ScriptedPolicy()
        policy.rejectedUsers = ["mallory"]
        let harness = RoomHarness(policy: policy)
        try harness.join(1, "u1")
        harness.output.clear()
        XCTAssertThrowsError(try harness.join(2, "mallory")) { error in
            XCTAssertEqual(error as? PresenceError, PresenceError(code: .pluginRejected, message: "mallory is banned"))
        }
        XCTAssertEqual(harness.output.deliveries.count, 0)
        XCTAssertEqual(harness.room.users.map(\.userID), ["u1"])
    }

    // MARK: - Colours

    func testDefaultColorComesFromSeaHash() throws {
        let harness = RoomHarness()
        XCTAssertEqual(try harness.join(1, "u1").color, "hsl(112, 70%, 50%)")
    }

    func testPolicyColorReplacesDefault() throws {
        let policy = ScriptedPolicy()
        policy.colors = ["u1": "#ff0000"]
        let harness = RoomHarness(policy: policy)
        XCTAssertEqual(try harness.join(1, "u1").color, "#ff0000")
        XCTAssertEqual(try harness.join(2, "u2").color, defaultColor(forUserID: "u2"))
        XCTAssertEqual(policy.documentsSeenByColor.last?.colorsInUse, ["#ff0000"])
    }
}
