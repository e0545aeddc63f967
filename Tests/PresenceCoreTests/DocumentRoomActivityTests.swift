import PresenceCore
import XCTest

final class DocumentRoomActivityTests: XCTestCase {
    private func activityEvents(_ events: [PresenceEvent]) -> [PresenceEvent] {
        events.filter {
            switch $0 {
            case .userIdle, .activityChanged: true
            default: false
            }
        }
    }

    // MARK: - Idle and away

    func testIdleAndAwayAreAnnouncedOnce() throws {
        let harness = RoomHarness()
        try harness.join(1, "u1")
        try harness.join(2, "u2")
        try harness.room.focus(member: 2, focused: true)
        harness.output.clear()

        harness.run(for: 10 * 60 * 1000)

        let forU1 = activityEvents(harness.events(for: 2)).filter { $0.userID == "u1" }
        XCTAssertEqual(forU1, [.userIdle(userID: "u1"), .activityChanged(userID: "u1", activity: .away)])
        XCTAssertEqual(harness.room.users.first?.state.activity, .away)
    }

    func testGoingIdleStopsExplicitTyping() throws {
        let harness = RoomHarness()
        try harness.join(1, "u1")
        try harness.join(2, "u2")
        try harness.room.typing(member: 1, isTyping: true)
        harness.run(for: 1000)
        harness.output.clear()

        harness.run(for: 30_000)

        let forU1 = harness.events(for: 2).filter { $0.userID == "u1" }
        XCTAssertEqual(forU1, [.typingChanged(userID: "u1", isTyping: false), .userIdle(userID: "u1")])
        XCTAssertEqual(harness.room.users.first?.state.typing, false)
    }

    func testIdleIsDetectedWithinOneSecond() throws {
        let harness = RoomHarness()
        try harness.join(1, "u1")
        try harness.join(2, "u2")
        harness.run(for: 29_999)
        XCTAssertEqual(activityEvents(harness.events(for: 2)).filter { $0.userID == "u1" }, [])
        harness.run(for: 1000)
        XCTAssertEqual(activityEvents(harness.events(for: 2)).filter { $0.userID == "u1" }, [.userIdle(userID: "u1")])
    }

    func testAwayIsDetectedWithinOneSecond() throws {
        let harness = RoomHarness()
        try harness.join(1, "u1")
        try harness.join(2, "u2")
        harness.run(for: 299_999)
        XCTAssertFalse(harness.events(for: 2).contains(.activityChanged(userID: "u1", activity: .away)))
        harness.run(for: 1000)
        XCTAssertTrue(harness.events(for: 2).contains(.activityChanged(userID: "u1", activity: .away)))
    }

    func testActivityEndsIdleWithOneChange() throws {
        let harness = RoomHarness()
        try harness.join(1, "u1")
        try harness.join(2, "u2")
        harness.run(for: 31_000)
        harness.output.clear()

        try harness.cursor(1, line: 1)
        try harness.cursor(1, line: 2)
        harness.run(for: 1000)

        XCTAssertEqual(
            activityEvents(harness.events(for: 2)).filter { $0.userID == "u1" },
            [.activityChanged(userID: "u1", activity: .viewing)]
        )
    }

    func testActivityRestartsIdleTimeout() throws {
        let harness = RoomHarness()
        try harness.join(1, "u1")
        try harness.join(2, "u2")
        harness.run(for: 20_000)
        try harness.cursor(1, line: 1)
        harness.run(for: 20_000)
        XCTAssertFalse(harness.events(for: 2).contains(.userIdle(userID: "u1")))
        harness.run(for: 10_000 + 16)
        XCTAssertTrue(harness.events(for: 2).contains(.userIdle(userID: "u1")))
    }

    func testReturnFromAwayRestartsDetection() throws {
        let harness = RoomHarness()
        try harness.join(1, "u1")
        try harness.join(2, "u2")
        harness.run(for: 301_000)
        try harness.room.typing(member: 1, isTyping: nil)
        harness.run(for: 16)
        harness.output.clear()

        harness.run(for: 31_000)

        XCTAssertEqual(
            activityEvents(harness.events(for: 2)).filter { $0.userID == "u1" },
            [.userIdle(userID: "u1")],
            "idle must be detected again after a return from away"
        )
    }

    func testSelectingUserAlsoBecomesIdle() throws {
        let harness = RoomHarness()
        try harness.join(1, "u1")
        try harness.join(2, "u2")
        try harness.cursor(1, line: 1, selection: selectionSample)
        harness.run(for: 31_000)
        XCTAssertTrue(harness.events(for: 2).contains(.userIdle(userID: "u1")))
        XCTAssertEqual(harness.room.users.first?.state.activity, .idle)
    }

    func testPolicyActivityRuleDecides() throws {
        let policy = ScriptedPolicy()
        policy.activityRule = true
        policy.activities = ["u1": .viewing]
        let harness = RoomHarness(policy: policy)
        try harness.join(1, "u1")
        try harness.join(2, "u2")

        harness.run(for: 40_000)
        XCTAssertFalse(harness.events(for: 2).contains(.userIdle(userID: "u1")), "the rule keeps u1 viewing")
        XCTAssertTrue(harness.events(for: 1).contains(.userIdle(userID: "u2")), "u2 falls back to the default rule")
        XCTAssertGreaterThanOrEqual(policy.activityCalls.filter { $0.userID == "u1" }.count, 39)

        policy.activities["u1"] = .away
        harness.run(for: 1000 + 16)
        XCTAssertEqual(
            activityEvents(harness.events(for: 2)).filter { $0.userID == "u1" },
            [.activityChanged(userID: "u1", activity: .away)]
        )
    }

    // MARK: - Typing

    func testKeystrokesStartTypingOnce() throws {
        let harness = RoomHarness()
        try harness.join(1, "u1")
        try harness.join(2, "u2")
        for _ in 0..<5 {
            try harness.room.typing(member: 1, isTyping: nil)
            harness.run(for: 100)
        }
        let typing = harness.events(for: 2).filter {
            if case .typingChanged = $0 { return true }
            return false
        }
        XCTAssertEqual(typing, [.typingChanged(userID: "u1", isTyping: true)])
        XCTAssertTrue(harness.events(for: 2).contains(.activityChanged(userID: "u1", activity: .editing)))
    }

    func testTypingStopsAfterDebounce() throws {
        let harness = RoomHarness()
        try harness.join(1, "u1")
        try harness.join(2, "u2")
        try harness.room.typing(member: 1, isTyping: nil)
        harness.run(for: 300)
        try harness.room.typing(member: 1, isTyping: nil)
        harness.run(for: 499)
        XCTAssertFalse(harness.events(for: 2).contains(.typingChanged(userID: "u1", isTyping: false)))
        XCTAssertEqual(harness.room.users.first?.state.typing, true)

        harness.run(for: 1 + 16)
        XCTAssertTrue(harness.events(for: 2).contains(.typingChanged(userID: "u1", isTyping: false)))
        XCTAssertEqual(harness.room.users.first?.state.typing, false)
    }

    func testExplicitTypingLastsUntilFalse() throws {
        let harness = RoomHarness(config: PresenceConfig(flushIntervalMs: 0))
        try harness.join(1, "u1")
        try harness.join(2, "u2")
        try harness.room.typing(member: 1, isTyping: true)
        harness.run(for: 5000)
        XCTAssertEqual(harness.room.users.first?.state.typing, true)
        try harness.room.typing(member: 1, isTyping: false)
        try harness.room.typing(member: 1, isTyping: false)
        let typing = harness.events(for: 2).filter {
            if case .typingChanged = $0 { return true }
            return false
        }
        XCTAssertEqual(typing, [.typingChanged(userID: "u1", isTyping: true), .typingChanged(userID: "u1", isTyping: false)])
    }

    func testTypingStopsWhenTypingTabLeaves() throws {
        let harness = RoomHarness()
        try harness.join(1, "u1")
        try harness.join(3, "u1")
        try harness.join(2, "u2")
        try harness.room.typing(member: 1, isTyping: true)
        harness.run(for: 20)
        harness.output.clear()

        harness.room.leave(member: 1)

        XCTAssertEqual(harness.events(for: 2), [.typingChanged(userID: "u1", isTyping: false)])
        XCTAssertEqual(harness.events(for: 3), [.typingChanged(userID: "u1", isTyping: false)])
    }

    func testTypingStopsBeforeUserLeft() throws {
        let harness = RoomHarness()
        try harness.join(1, "u1")
        try harness.join(2, "u2")
        try harness.room.typing(member: 1, isTyping: nil)
        harness.run(for: 20)
        harness.output.clear()

        harness.room.leave(member: 1)

        XCTAssertEqual(
            harness.events(for: 2), [.typingChanged(userID: "u1", isTyping: false), .userLeft(userID: "u1")]
        )
    }

    // MARK: - Viewport and focus

    func testViewportIsStoredAndBroadcast() throws {
        let harness = RoomHarness()
        try harness.join(1, "u1")
        try harness.join(2, "u2")
        let viewport = Viewport(topLine: 10, bottomLine: 50, scrollPercentage: 25)
        try harness.room.viewport(member: 1, viewport: viewport)
        harness.run(for: 16)

        XCTAssertEqual(harness.events(for: 2).last, .viewportChanged(userID: "u1", viewport: viewport))
        XCTAssertEqual(harness.room.users.first?.state.viewport, viewport)
        XCTAssertEqual(harness.output.deliveries.last?.frame.kind, .viewport(userID: "u1"))
        harness.run(for: 1000)
        XCTAssertEqual(harness.store.backing.documentPresence(documentID: "d1").first?.state.viewport, viewport)
    }

    func testFocusFollowsAnyFocusedTab() throws {
        let harness = RoomHarness(config: PresenceConfig(flushIntervalMs: 0))
        try harness.join(1, "u1")
        try harness.join(3, "u1")
        try harness.join(2, "u2")
        harness.output.clear()

        try harness.room.focus(member: 1, focused: false)
        XCTAssertEqual(harness.events(for: 2), [], "another tab still has focus")
        try harness.room.focus(member: 3, focused: false)
        XCTAssertEqual(harness.events(for: 2), [.focusChanged(userID: "u1", focused: false)])
        XCTAssertEqual(harness.room.users.first?.state.focused, false)
        try harness.room.focus(member: 1, focused: true)
        XCTAssertEqual(harness.events(for: 2).last, .focusChanged(userID: "u1", focused: true))
        XCTAssertEqual(harness.store.backing.documentPresence(documentID: "d1").first?.state.focused, true)
    }

    func testClosingFocusedTabAnnouncesFocusLoss() throws {
        let harness = RoomHarness(config: PresenceConfig(flushIntervalMs: 0))
        try harness.join(1, "u1")
        try harness.join(3, "u1")
        try harness.join(2, "u2")
        try harness.room.focus(member: 3, focused: false)
        harness.output.clear()

        harness.room.leave(member: 1)

        XCTAssertEqual(harness.events(for: 2), [.focusChanged(userID: "u1", focused: false)])
    }
}
