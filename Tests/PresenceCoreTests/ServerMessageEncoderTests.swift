import Foundation
import PresenceCore
import XCTest

final class ServerMessageEncoderTests: XCTestCase {
    private func presence(name: String = "Ada") -> UserPresence {
        UserPresence(
            userID: "u1", documentID: "d1", workspaceID: "w1", name: name, avatarURL: nil, color: "hsl(112, 70%, 50%)",
            state: PresenceState(
                online: true, typing: false, focused: true, activity: .viewing,
                viewport: Viewport(topLine: 0, bottomLine: 40, scrollPercentage: 12.5)
            ),
            cursor: CursorPosition(line: 3, column: 7, offset: 42), selection: nil, connectedAt: 1, lastActiveAt: 2,
            lastCursorUpdate: 3
        )
    }

    private func text(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self)
    }

    func testPresenceEnvelopeMatchesProtocolExample() {
        let bytes = ServerMessageEncoder.presence(
            documentID: "d1",
            event: .cursorMoved(userID: "u1", cursor: CursorPosition(line: 3, column: 7, offset: 42), selection: nil),
            timestamp: 1_733_300_000_000
        )
        XCTAssertEqual(
            text(bytes),
            #"{"event_type":"presence","document_id":"d1","payload":{"CursorMoved":{"user_id":"u1","cursor":{"line":3,"column":7,"offset":42},"selection":null}},"timestamp":1733300000000}"#
        )
    }

    func testErrorEnvelopeEchoesRef() {
        let error = PresenceError.documentAtCapacity(maximumUsers: 1000)
        XCTAssertEqual(
            text(ServerMessageEncoder.error(error, documentID: "d1", ref: .number(JSONNumber(7)), timestamp: 1_733_300_000_000)),
            #"{"event_type":"error","document_id":"d1","payload":{"code":"DocumentAtCapacity","message":"Document at capacity: maximum 1000 users","ref":7},"timestamp":1733300000000}"#
        )
        XCTAssertEqual(
            text(ServerMessageEncoder.error(.invalidMessage("bad"), documentID: nil, ref: nil, timestamp: 5)),
            #"{"event_type":"error","document_id":null,"payload":{"code":"InvalidMessage","message":"bad"},"timestamp":5}"#
        )
    }

    func testPongAndBatchEnvelopes() {
        XCTAssertEqual(text(ServerMessageEncoder.pong(timestamp: 1_733_300_000_000)), #"{"event_type":"pong","timestamp":1733300000000}"#)
        XCTAssertEqual(
            text(
                ServerMessageEncoder.batch(
                    documentID: "d1", events: [.userLeft(userID: "u1"), .userIdle(userID: "u2")], timestamp: 9
                )
            ),
            #"{"event_type":"batch","document_id":"d1","payload":[{"UserLeft":"u1"},{"UserIdle":{"user_id":"u2"}}],"timestamp":9}"#
        )
    }

    func testSnapshotMatchesCodableForm() throws {
        let me = presence()
        let bytes = ServerMessageEncoder.snapshot(documentID: "d1", self: me, users: [me], timestamp: 10)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        XCTAssertEqual(object["event_type"] as? String, "snapshot")
        let payload = try XCTUnwrap(object["payload"] as? [String: Any])
        let selfData = try JSONSerialization.data(withJSONObject: try XCTUnwrap(payload["self"]))
        XCTAssertEqual(try JSONDecoder().decode(UserPresence.self, from: selfData), me)
        XCTAssertEqual((payload["users"] as? [Any])?.count, 1)
        XCTAssertTrue(text(bytes).hasPrefix(#"{"event_type":"snapshot","document_id":"d1","payload":{"self":{"user_id":"u1","#))
    }

    func testEveryEventDecodesBackWithCodable() throws {
        let events: [PresenceEvent] = [
            .userJoined(presence()),
            .userLeft(userID: "u1"),
            .cursorMoved(
                userID: "u1", cursor: CursorPosition(line: 1, column: 2, offset: 3),
                selection: Selection(
                    anchor: CursorPosition(line: 0, column: 0, offset: 0), head: CursorPosition(line: 1, column: 2, offset: 3),
                    isBackward: true
                )
            ),
            .typingChanged(userID: "u1", isTyping: true),
            .viewportChanged(userID: "u1", viewport: Viewport(topLine: 3, bottomLine: 9, scrollPercentage: 0.1)),
            .activityChanged(userID: "u1", activity: .away),
            .userIdle(userID: "u1"),
            .focusChanged(userID: "u1", focused: false),
        ]
        for event in events {
            let bytes = ServerMessageEncoder.encode(event)
            XCTAssertEqual(try JSONDecoder().decode(PresenceEvent.self, from: Data(bytes)), event, text(bytes))
        }
    }

    func testStringEscapingRoundTrips() throws {
        let awkward = "quote\" backslash\\ newline\n tab\t nul\u{0} bell\u{7} unit\u{1F} del\u{7F} é 😀 \u{2028}"
        let bytes = ServerMessageEncoder.encode(presence(name: awkward))
        let encoded = text(bytes)
        XCTAssertTrue(encoded.contains(#"quote\" backslash\\ newline\n tab\t nul\u0000 bell\u0007 unit\u001f"#), encoded)
        XCTAssertEqual(try JSONDecoder().decode(UserPresence.self, from: Data(bytes)).name, awkward)
        guard case .object = try JSONParser.parse(bytes) else { return XCTFail("not an object") }
    }

    func testWriterFormatsNumbers() {
        var writer = JSONWriter()
        writer.appendUInt64(0)
        writer.appendRaw(",")
        writer.appendUInt64(UInt64.max)
        writer.appendRaw(",")
        writer.appendInt(-42)
        writer.appendRaw(",")
        writer.appendFloat(0.1)
        writer.appendRaw(",")
        writer.appendFloat(.infinity)
        XCTAssertEqual(text(writer.bytes), "0,18446744073709551615,-42,0.1,0")
    }
}
