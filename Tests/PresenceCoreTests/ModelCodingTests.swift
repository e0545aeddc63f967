import Foundation
import PresenceCore
import XCTest

final class ModelCodingTests: XCTestCase {
    private func samplePresence() -> UserPresence {
        UserPresence(
            userID: "u1", documentID: "d1", workspaceID: "w1", name: "Ada", avatarURL: nil,
            color: "hsl(12, 70%, 50%)",
            state: PresenceState(online: true, typing: false, focused: true, activity: .viewing, viewport: nil),
            cursor: CursorPosition(line: 3, column: 7, offset: 42),
            selection: nil, connectedAt: 1, lastActiveAt: 2, lastCursorUpdate: 3
        )
    }

    private func jsonObject(_ value: some Encodable) throws -> [String: Any] {
        let data = try JSONEncoder().encode(value)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func testUserPresenceUsesSnakeCaseNamesAndNulls() throws {
        let object = try jsonObject(samplePresence())
        XCTAssertEqual(
            Set(object.keys),
            [
                "user_id", "document_id", "workspace_id", "name", "avatar_url", "color", "state", "cursor",
                "selection", "connected_at", "last_active_at", "last_cursor_update",
            ]
        )
        XCTAssertTrue(object["avatar_url"] is NSNull)
        XCTAssertTrue(object["selection"] is NSNull)
        let state = try XCTUnwrap(object["state"] as? [String: Any])
        XCTAssertEqual(state["activity"] as? String, "Viewing")
        XCTAssertTrue(state["viewport"] is NSNull)
    }

    func testUserPresenceRoundTrips() throws {
        var presence = samplePresence()
        presence.selection = Selection(
            anchor: CursorPosition(line: 1, column: 0, offset: 10),
            head: CursorPosition(line: 0, column: 0, offset: 0), isBackward: true
        )
        presence.state.viewport = Viewport(topLine: 0, bottomLine: 40, scrollPercentage: 12.5)
        let data = try JSONEncoder().encode(presence)
        XCTAssertEqual(try JSONDecoder().decode(UserPresence.self, from: data), presence)
    }

    func testEventsUseExternallyTaggedForm() throws {
        let cases: [(PresenceEvent, String)] = [
            (.userLeft(userID: "u1"), #"{"UserLeft":"u1"}"#),
            (.userIdle(userID: "u1"), #"{"UserIdle":{"user_id":"u1"}}"#),
            (.focusChanged(userID: "u1", focused: false), #"{"FocusChanged":{"focused":false,"user_id":"u1"}}"#),
            (.typingChanged(userID: "u1", isTyping: true), #"{"TypingChanged":{"is_typing":true,"user_id":"u1"}}"#),
            (
                .activityChanged(userID: "u1", activity: .idle),
                #"{"ActivityChanged":{"activity":"Idle","user_id":"u1"}}"#
            ),
        ]
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        for (event, expected) in cases {
            XCTAssertEqual(String(decoding: try encoder.encode(event), as: UTF8.self), expected)
        }
    }

    func testEventsRoundTrip() throws {
        let events: [PresenceEvent] = [
            .userJoined(samplePresence()),
            .userLeft(userID: "u1"),
            .cursorMoved(userID: "u1", cursor: CursorPosition(line: 1, column: 2, offset: 3), selection: nil),
            .typingChanged(userID: "u1", isTyping: false),
            .viewportChanged(userID: "u1", viewport: Viewport(topLine: 1, bottomLine: 2, scrollPercentage: 0.5)),
            .activityChanged(userID: "u1", activity: .away),
            .userIdle(userID: "u1"),
            .focusChanged(userID: "u1", focused: true),
        ]
        for event in events {
            let data = try JSONEncoder().encode(event)
            XCTAssertEqual(try JSONDecoder().decode(PresenceEvent.self, from: data), event)
            XCTAssertEqual(event.userID, "u1")
        }
    }

    func testCapacityErrorNamesMaximum() {
        let error = PresenceError.documentAtCapacity(maximumUsers: 1000)
        XCTAssertEqual(error.code.rawValue, "DocumentAtCapacity")
        XCTAssertEqual(error.message, "Document at capacity: maximum 1000 users")
    }
}
