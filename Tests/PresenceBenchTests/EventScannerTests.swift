import XCTest
@testable import PresenceBench

final class EventScannerTests: XCTestCase {
    private func withBytes<Result>(_ text: String, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        Array(text.utf8).withUnsafeBytes(body)
    }

    func testKindReadsEventType() {
        let cases: [(String, EventScanner.Kind)] = [
            (#"{"event_type":"presence","document_id":"d1","payload":{},"timestamp":1}"#, .presence),
            (#"{"event_type":"batch","document_id":"d1","payload":[],"timestamp":1}"#, .batch),
            (#"{"event_type":"snapshot","document_id":"d1","payload":{},"timestamp":1}"#, .snapshot),
            (#"{"event_type":"error","document_id":null,"payload":{},"timestamp":1}"#, .error),
            (#"{"event_type":"pong","timestamp":1}"#, .pong),
            (#"{"event_type":"other","timestamp":1}"#, .other),
            (#"{"timestamp":1}"#, .other),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(withBytes(text) { EventScanner.kind(of: $0) }, expected, text)
        }
    }

    func testCursorScanReadsPresenceEvent() {
        let text = #"{"event_type":"presence","document_id":"d1","payload":{"CursorMoved":{"user_id":"u17","cursor":{"line":5,"column":3,"offset":4294967295},"selection":null}},"timestamp":9}"#
        var sightings: [(String, UInt64, UInt64)] = []
        let malformed = withBytes(text) { bytes in
            EventScanner.forEachCursorMoved(in: bytes) { sightings.append((String(decoding: $0.userID, as: UTF8.self), $0.line, $0.offset)) }
        }
        XCTAssertEqual(malformed, 0)
        XCTAssertEqual(sightings.count, 1)
        XCTAssertEqual(sightings.first?.0, "u17")
        XCTAssertEqual(sightings.first?.1, 5)
        XCTAssertEqual(sightings.first?.2, 4_294_967_295)
    }

    func testCursorScanReadsEveryBatchEvent() {
        let text = #"{"event_type":"batch","document_id":"d1","payload":[{"CursorMoved":{"user_id":"u1","cursor":{"line":1,"column":0,"offset":10},"selection":null}},{"TypingChanged":{"user_id":"u2","is_typing":true}},{"CursorMoved":{"user_id":"u3","cursor":{"line":2,"column":0,"offset":20},"selection":{"anchor":{"line":7,"column":0,"offset":70},"head":{"line":8,"column":0,"offset":80},"is_backward":false}}}],"timestamp":9}"#
        var sightings: [(String, UInt64, UInt64)] = []
        _ = withBytes(text) { bytes in
            EventScanner.forEachCursorMoved(in: bytes) { sightings.append((String(decoding: $0.userID, as: UTF8.self), $0.line, $0.offset)) }
        }
        XCTAssertEqual(sightings.map(\.0), ["u1", "u3"])
        XCTAssertEqual(sightings.map(\.1), [1, 2])
        XCTAssertEqual(sightings.map(\.2), [10, 20])
    }

    func testCursorScanIgnoresPatternInsideName() {
        // A name that spells the marker is escaped by JSON, so the scanner must not see an event in it.
        let text = #"{"event_type":"presence","document_id":"d1","payload":{"UserJoined":{"user_id":"u9","name":"{\"CursorMoved\":{\"user_id\":\"u1\"","cursor":null}},"timestamp":1}"#
        var count = 0
        _ = withBytes(text) { bytes in EventScanner.forEachCursorMoved(in: bytes) { _ in count += 1 } }
        XCTAssertEqual(count, 0)
    }

    func testMembershipScanKeepsOrder() {
        let text = #"{"event_type":"batch","document_id":"d1","payload":[{"UserJoined":{"user_id":"u4","name":"Ann"}},{"UserIdle":{"user_id":"u5"}},{"UserLeft":"u4"},{"UserLeft":"u6"}],"timestamp":1}"#
        var changes: [String] = []
        withBytes(text) { bytes in
            EventScanner.forEachMembershipChange(in: bytes) { change in
                switch change {
                case .joined(let user): changes.append("+" + String(decoding: user, as: UTF8.self))
                case .left(let user): changes.append("-" + String(decoding: user, as: UTF8.self))
                }
            }
        }
        XCTAssertEqual(changes, ["+u4", "-u4", "-u6"])
    }

    func testSnapshotScanListsUsersOnly() {
        let text = #"{"event_type":"snapshot","document_id":"d1","payload":{"self":{"user_id":"u1","cursor":null},"users":[{"user_id":"u1","cursor":null},{"user_id":"u2","cursor":{"line":1,"column":1,"offset":1}}]},"timestamp":1}"#
        var users: [String] = []
        withBytes(text) { bytes in EventScanner.forEachSnapshotUser(in: bytes) { users.append(String(decoding: $0, as: UTF8.self)) } }
        XCTAssertEqual(users, ["u1", "u2"])
    }

    func testUserNumberParsesDigitsAfterPrefix() {
        XCTAssertEqual(withBytes("u1234") { EventScanner.userNumber($0, prefixLength: 1) }, 1234)
        XCTAssertNil(withBytes("u12x") { EventScanner.userNumber($0, prefixLength: 1) })
        XCTAssertNil(withBytes("u") { EventScanner.userNumber($0, prefixLength: 1) })
    }

    func testErrorDescriptionReadsCodeAndMessage() {
        let text = #"{"event_type":"error","document_id":null,"payload":{"code":"RateLimited","message":"slow down"},"timestamp":1}"#
        XCTAssertEqual(withBytes(text) { EventScanner.errorDescription(in: $0) }, "RateLimited: slow down")
    }
}
