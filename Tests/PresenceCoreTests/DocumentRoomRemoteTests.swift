import PresenceCore
import XCTest

/// Records what a room publishes for other nodes.
private final class RecordingRelay: RoomRelay {
    var published: [PresenceEvent] = []

    func room(_ room: DocumentRoom, publish event: PresenceEvent) {
        published.append(event)
    }
}

final class DocumentRoomRemoteTests: XCTestCase {
    private func remotePresence(_ userID: String, clock: ManualClock) -> UserPresence {
        UserPresence(
            userID: userID, documentID: "d1", workspaceID: "w1", name: userID.uppercased(), avatarURL: nil,
            color: defaultColor(forUserID: userID),
            state: PresenceState(online: true, typing: false, focused: true, activity: .viewing, viewport: nil),
            cursor: nil, selection: nil, connectedAt: clock.wallMs, lastActiveAt: clock.wallMs,
            lastCursorUpdate: clock.wallMs)
    }

    func testRemoteJoinReachesLocalMembers() throws {
        let harness = RoomHarness()
        try harness.join(1, "u1")
        let remote = remotePresence("r1", clock: harness.clock)
        harness.room.applyRemote(.userJoined(remote), from: "gw-b")
        XCTAssertEqual(harness.events(for: 1), [.userJoined(remote)])

        try harness.join(2, "u2")
        guard case .snapshot(_, let users) = harness.output.messages(for: 2).first else {
            return XCTFail("the joiner should get a snapshot first")
        }
        XCTAssertEqual(users.map(\.userID), ["u1", "u2", "r1"])
        XCTAssertEqual(harness.room.distinctUserCount, 3)
        XCTAssertEqual(harness.room.remoteNodes, ["gw-b"])
    }

    func testRemoteUserLeavesWhenLastNodeLetsGo() throws {
        let harness = RoomHarness()
        try harness.join(1, "u1")
        let remote = remotePresence("r1", clock: harness.clock)
        harness.room.applyRemote(.userJoined(remote), from: "gw-b")
        harness.room.applyRemote(.userJoined(remote), from: "gw-c")
        harness.room.applyRemote(.userLeft(userID: "r1"), from: "gw-b")
        XCTAssertEqual(harness.events(for: 1), [.userJoined(remote)])

        harness.room.applyRemote(.userLeft(userID: "r1"), from: "gw-c")
        XCTAssertEqual(harness.events(for: 1), [.userJoined(remote), .userLeft(userID: "r1")])
        XCTAssertEqual(harness.room.distinctUserCount, 1)
    }

    func testCapacityCountsRemoteUsersOnce() throws {
        let harness = RoomHarness(config: PresenceConfig(maxUsersPerDocument: 2))
        try harness.join(1, "u1")
        harness.room.applyRemote(.userJoined(remotePresence("u1", clock: harness.clock)), from: "gw-b")
        harness.room.applyRemote(.userJoined(remotePresence("r1", clock: harness.clock)), from: "gw-b")
        XCTAssertEqual(harness.room.distinctUserCount, 2)
        XCTAssertThrowsError(try harness.join(2, "u3")) { error in
            XCTAssertEqual((error as? PresenceError)?.code, .documentAtCapacity)
        }
        XCTAssertNoThrow(try harness.join(3, "r1"), "a user present elsewhere does not count twice")
    }

    func testTabOnSecondNodeSendsNoJoinOrLeave() throws {
        let harness = RoomHarness()
        let relay = RecordingRelay()
        harness.room.relay = relay
        try harness.join(1, "u1")
        var remote = remotePresence("r1", clock: harness.clock)
        remote.color = "hsl(1, 70%, 50%)"
        remote.cursor = CursorPosition(line: 4, column: 2, offset: 40)
        harness.room.applyRemote(.userJoined(remote), from: "gw-b")
        relay.published.removeAll()
        harness.output.clear()

        let local = try harness.join(2, "r1")
        XCTAssertEqual(local.color, "hsl(1, 70%, 50%)", "the second tab keeps the colour others see")
        XCTAssertEqual(local.cursor, remote.cursor)
        XCTAssertEqual(harness.events(for: 1), [], "member 1 already sees r1")
        XCTAssertEqual(relay.published.map(\.name), ["UserJoined"])

        harness.room.leave(member: 2)
        XCTAssertEqual(harness.events(for: 1), [], "r1 is still present on gw-b")
        XCTAssertEqual(relay.published.map(\.name), ["UserJoined", "UserLeft"])
        XCTAssertEqual(harness.room.allUsers.map(\.userID), ["u1", "r1"])
    }

    func testLocalEventsAreRelayedOnce() throws {
        let harness = RoomHarness()
        let relay = RecordingRelay()
        harness.room.relay = relay
        try harness.join(1, "u1")
        try harness.cursor(1, line: 3)
        harness.room.applyRemote(.userJoined(remotePresence("r1", clock: harness.clock)), from: "gw-b")
        harness.room.applyRemote(.typingChanged(userID: "r1", isTyping: true), from: "gw-b")
        harness.room.leave(member: 1)
        XCTAssertEqual(relay.published.map(\.name), ["UserJoined", "CursorMoved", "UserLeft"])
    }

    func testRemoteUpdatesReachSameUsersTab() throws {
        let harness = RoomHarness(config: PresenceConfig(flushIntervalMs: 0))
        try harness.join(1, "u1")
        harness.room.applyRemote(.userJoined(remotePresence("u1", clock: harness.clock)), from: "gw-b")
        let cursor = CursorPosition(line: 9, column: 1, offset: 91)
        harness.room.applyRemote(.cursorMoved(userID: "u1", cursor: cursor, selection: nil), from: "gw-b")
        harness.room.applyRemote(.typingChanged(userID: "u1", isTyping: true), from: "gw-b")
        XCTAssertEqual(
            harness.events(for: 1),
            [.cursorMoved(userID: "u1", cursor: cursor, selection: nil), .typingChanged(userID: "u1", isTyping: true)])
        XCTAssertEqual(harness.room.users.first?.cursor, cursor)
        XCTAssertEqual(harness.room.users.first?.state.typing, true)
    }

    func testRemoteActivityDelaysLocalIdle() throws {
        let harness = RoomHarness(config: PresenceConfig(activityTimeoutMs: 1_000, flushIntervalMs: 0))
        try harness.join(1, "u1")
        try harness.join(2, "u2")
        harness.room.applyRemote(.userJoined(remotePresence("u2", clock: harness.clock)), from: "gw-b")
        harness.run(for: 800)
        harness.room.applyRemote(
            .cursorMoved(userID: "u2", cursor: CursorPosition(line: 1, column: 0, offset: 0), selection: nil),
            from: "gw-b")
        harness.output.clear()
        harness.run(for: 500)
        XCTAssertFalse(harness.events(for: 1).contains(.userIdle(userID: "u2")), "u2 was active on gw-b")
        XCTAssertTrue(harness.events(for: 2).contains(.userIdle(userID: "u1")))
    }

    func testUpdatesForUnknownUsersAreDropped() throws {
        let harness = RoomHarness(config: PresenceConfig(flushIntervalMs: 0))
        try harness.join(1, "u1")
        harness.room.applyRemote(.typingChanged(userID: "ghost", isTyping: true), from: "gw-b")
        harness.room.applyRemote(.userLeft(userID: "ghost"), from: "gw-b")
        XCTAssertEqual(harness.events(for: 1), [])
    }

    func testReconcileAnnouncesDifferences() throws {
        let harness = RoomHarness(config: PresenceConfig(flushIntervalMs: 0))
        try harness.join(1, "u1")
        let stays = remotePresence("stays", clock: harness.clock)
        let goes = remotePresence("goes", clock: harness.clock)
        harness.room.applyRemote(.userJoined(stays), from: "gw-b")
        harness.room.applyRemote(.userJoined(goes), from: "gw-b")
        harness.output.clear()

        var moved = stays
        moved.cursor = CursorPosition(line: 2, column: 0, offset: 20)
        moved.state.activity = .idle
        let arrives = remotePresence("arrives", clock: harness.clock)
        let unheld = remotePresence("unheld", clock: harness.clock)
        harness.room.reconcileRemote(
            users: [moved, arrives, unheld], holders: ["stays": ["gw-b"], "arrives": ["gw-c"], "unheld": []])
        XCTAssertEqual(
            harness.events(for: 1),
            [
                .userLeft(userID: "goes"),
                .cursorMoved(userID: "stays", cursor: CursorPosition(line: 2, column: 0, offset: 20), selection: nil),
                .userIdle(userID: "stays"),
                .userJoined(arrives),
            ])
        XCTAssertEqual(harness.room.allUsers.map(\.userID), ["u1", "stays", "arrives"])
        XCTAssertEqual(harness.room.remoteNodes, ["gw-b", "gw-c"])
    }

    func testReconcileKeepsUnverifiedNodes() throws {
        let harness = RoomHarness(config: PresenceConfig(flushIntervalMs: 0))
        try harness.join(1, "u1")
        let waiting = remotePresence("waiting", clock: harness.clock)
        harness.room.applyRemote(.userJoined(waiting), from: "gw-late")
        harness.output.clear()

        harness.room.reconcileRemote(users: [], holders: [:], unverifiedNodes: ["gw-late"])
        XCTAssertEqual(harness.events(for: 1), [], "gw-late has not written its presence back yet")
        XCTAssertEqual(harness.room.allUsers.map(\.userID), ["u1", "waiting"])

        harness.room.reconcileRemote(users: [], holders: [:])
        XCTAssertEqual(harness.events(for: 1), [.userLeft(userID: "waiting")])
    }

    func testFirstSnapshotWaitsForLoad() throws {
        let harness = RoomHarness(config: PresenceConfig(flushIntervalMs: 0))
        harness.room.beginRemoteLoad()
        try harness.join(1, "u1")
        try harness.join(2, "u2")
        try harness.cursor(2, line: 4)
        XCTAssertEqual(harness.output.messages(for: 1), [], "no snapshot or event before the load")

        let remote = remotePresence("r1", clock: harness.clock)
        harness.room.reconcileRemote(users: [remote], holders: ["r1": ["gw-b"]])
        let messages = harness.output.messages(for: 1)
        XCTAssertEqual(messages.count, 1)
        guard case .snapshot(let selfPresence, let users) = messages.first else {
            return XCTFail("the held snapshot should arrive after the load")
        }
        XCTAssertEqual(selfPresence.userID, "u1")
        XCTAssertEqual(users.map(\.userID), ["u1", "u2", "r1"])
        XCTAssertEqual(users[1].cursor?.line, 4, "the snapshot contains what happened while it waited")

        try harness.cursor(2, line: 5)
        harness.run(for: 100)
        XCTAssertEqual(harness.events(for: 1).map(\.name), ["CursorMoved"])
    }

    func testFinishingLoadReleasesSnapshots() throws {
        let harness = RoomHarness()
        harness.room.beginRemoteLoad()
        try harness.join(1, "u1")
        harness.room.leave(member: 1)
        try harness.join(2, "u2")
        harness.room.finishRemoteLoad()
        XCTAssertEqual(harness.output.messages(for: 1), [])
        XCTAssertEqual(harness.output.messages(for: 2).count, 1)
    }

    func testFirstLoadKeepsRacingJoins() throws {
        let harness = RoomHarness(config: PresenceConfig(flushIntervalMs: 0))
        harness.room.beginRemoteLoad()
        try harness.join(1, "u1")
        harness.room.remoteLoadSent(id: 7)
        let early = remotePresence("early", clock: harness.clock)
        let late = remotePresence("late", clock: harness.clock)
        harness.room.applyRemote(.userJoined(late), from: "gw-b")

        // The load read Redis before `late` was written there.
        harness.room.reconcileRemote(users: [early], holders: ["early": ["gw-b"]], loadID: 7)
        guard case .snapshot(_, let users) = harness.output.messages(for: 1).first else {
            return XCTFail("the held snapshot should arrive after the load")
        }
        XCTAssertEqual(users.map(\.userID), ["u1", "late", "early"], "in the order the room learnt of them")
        XCTAssertEqual(harness.output.messages(for: 1).count, 1, "no join or leave after the snapshot")
    }

    func testLoadAppliesRelayedEventsInOrderWithoutFlicker() throws {
        let harness = RoomHarness(config: PresenceConfig(flushIntervalMs: 0))
        try harness.join(1, "u1")
        let stays = remotePresence("stays", clock: harness.clock)
        let leaves = remotePresence("leaves", clock: harness.clock)
        harness.room.applyRemote(.userJoined(stays), from: "gw-b")
        harness.room.applyRemote(.userJoined(leaves), from: "gw-b")
        harness.room.remoteLoadSent(id: 1)
        let joins = remotePresence("joins", clock: harness.clock)
        harness.room.applyRemote(.userJoined(joins), from: "gw-c")
        harness.room.applyRemote(.userLeft(userID: "leaves"), from: "gw-b")
        let cursor = CursorPosition(line: 3, column: 1, offset: 31)
        harness.room.applyRemote(.cursorMoved(userID: "stays", cursor: cursor, selection: nil), from: "gw-b")
        harness.output.clear()

        // The load read Redis before all three events.
        harness.room.reconcileRemote(
            users: [stays, leaves], holders: ["stays": ["gw-b"], "leaves": ["gw-b"]], loadID: 1)
        XCTAssertEqual(harness.events(for: 1), [], "the members already saw every change")
        XCTAssertEqual(harness.room.allUsers.map(\.userID), ["u1", "stays", "joins"])
        XCTAssertEqual(harness.room.allUsers.last(where: { $0.userID == "stays" })?.cursor, cursor)

        harness.room.applyRemote(.userLeft(userID: "joins"), from: "gw-c")
        harness.room.reconcileRemote(users: [stays], holders: ["stays": ["gw-b"]], loadID: 2)
        XCTAssertEqual(harness.events(for: 1), [.userLeft(userID: "joins")], "an unmarked load replays nothing")
    }

    func testLoadPastJournalLimitAsksForAnotherLoad() throws {
        let harness = RoomHarness(config: PresenceConfig(flushIntervalMs: 0))
        try harness.join(1, "u1")
        harness.room.remoteLoadSent(id: 1)
        let mover = remotePresence("mover", clock: harness.clock)
        harness.room.applyRemote(.userJoined(mover), from: "gw-b")
        for line in 0..<UInt32(10_000) {
            let cursor = CursorPosition(line: line, column: 0, offset: line)
            harness.room.applyRemote(.cursorMoved(userID: "mover", cursor: cursor, selection: nil), from: "gw-b")
        }
        harness.room.remoteLoadSent(id: 2)

        // Load 1 was abandoned at the limit, so it is applied as read and another load is asked for.
        XCTAssertTrue(harness.room.reconcileRemote(users: [], holders: [:], loadID: 1))
        XCTAssertEqual(harness.room.allUsers.map(\.userID), ["u1"])
        // Load 2 was sent after the join, so Redis showed the mover to it.
        XCTAssertFalse(harness.room.reconcileRemote(users: [mover], holders: ["mover": ["gw-b"]], loadID: 2))
        XCTAssertEqual(harness.room.allUsers.map(\.userID), ["u1", "mover"], "the next load corrects the room")
    }

    func testOnlyAMarkedLoadCountsAsCurrent() throws {
        let harness = RoomHarness(config: PresenceConfig(flushIntervalMs: 0))
        try harness.join(1, "u1")
        harness.room.remoteLoadSent(id: 3)
        XCTAssertFalse(harness.room.reconcileRemote(users: [], holders: [:], loadID: 3))
        XCTAssertTrue(harness.room.reconcileRemote(users: [], holders: [:], loadID: 4))
        XCTAssertFalse(harness.room.reconcileRemote(users: [], holders: [:]), "a load without an id is not checked")
    }

    func testFailedLoadStopsTheJournal() throws {
        let harness = RoomHarness(config: PresenceConfig(flushIntervalMs: 0))
        try harness.join(1, "u1")
        harness.room.remoteLoadSent(id: 1)
        harness.room.remoteLoadFailed(id: 1)
        let departed = remotePresence("departed", clock: harness.clock)
        harness.room.applyRemote(.userJoined(departed), from: "gw-b")
        harness.room.applyRemote(.userLeft(userID: "departed"), from: "gw-b")
        harness.output.clear()

        let fresh = remotePresence("fresh", clock: harness.clock)
        harness.room.reconcileRemote(users: [fresh], holders: ["fresh": ["gw-b"]], loadID: 1)
        XCTAssertEqual(harness.events(for: 1), [.userJoined(fresh)])
    }

    func testDroppedNodeReleasesItsUsers() throws {
        let harness = RoomHarness()
        try harness.join(1, "u1")
        let onlyB = remotePresence("b1", clock: harness.clock)
        let both = remotePresence("bc", clock: harness.clock)
        harness.room.applyRemote(.userJoined(onlyB), from: "gw-b")
        harness.room.applyRemote(.userJoined(both), from: "gw-b")
        harness.room.applyRemote(.userJoined(both), from: "gw-c")
        harness.output.clear()

        harness.room.dropRemoteNode("gw-b")
        XCTAssertEqual(harness.events(for: 1), [.userLeft(userID: "b1")])
        XCTAssertEqual(harness.room.remoteNodes, ["gw-c"])
    }
}
