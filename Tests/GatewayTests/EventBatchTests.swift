import XCTest

@testable import Gateway

final class EventBatchTests: XCTestCase {
    private func event(_ text: String) -> ArraySlice<UInt8> {
        Array(text.utf8)[...]
    }

    private func payload(of batch: inout EventBatch) -> String {
        let bytes = batch.take(documentID: "d1", timestamp: 7)
        return String(decoding: bytes, as: UTF8.self)
    }

    func testNewerEventReplacesOlderInPlace() {
        var batch = EventBatch()
        batch.add(event: event("{\"a\":1}"), key: 11)
        batch.add(event: event("{\"b\":1}"), key: 22)
        batch.add(event: event("{\"a\":2}"), key: 11)
        XCTAssertEqual(
            payload(of: &batch),
            #"{"event_type":"batch","document_id":"d1","payload":[{"a":2},{"b":1}],"timestamp":7}"#)
    }

    func testKeyZeroEventsAreNeverReplaced() {
        var batch = EventBatch()
        batch.add(event: event("1"), key: 0)
        batch.add(event: event("2"), key: 0)
        XCTAssertEqual(
            payload(of: &batch), #"{"event_type":"batch","document_id":"d1","payload":[1,2],"timestamp":7}"#)
    }

    func testLargeBatchStillReplacesByKey() {
        var batch = EventBatch()
        for user in 1...100 {
            batch.add(event: event("\(user)"), key: UInt64(user))
        }
        batch.add(event: event("0"), key: 0)
        for user in 1...100 {
            batch.add(event: event("\(user + 1000)"), key: UInt64(user))
        }
        let expected = (1...100).map { "\($0 + 1000)" }.joined(separator: ",") + ",0"
        XCTAssertEqual(
            payload(of: &batch),
            #"{"event_type":"batch","document_id":"d1","payload":["# + expected + #"],"timestamp":7}"#)
    }

    func testTakeEmptiesTheBatch() {
        var batch = EventBatch()
        for user in 1...40 {
            batch.add(event: event("\(user)"), key: UInt64(user))
        }
        _ = batch.take(documentID: "d1", timestamp: 7)
        XCTAssertTrue(batch.isEmpty)

        batch.add(event: event("5"), key: 5)
        batch.add(event: event("6"), key: 5)
        XCTAssertEqual(
            payload(of: &batch), #"{"event_type":"batch","document_id":"d1","payload":[6],"timestamp":7}"#)
    }

    func testEnvelopePayloadIsFound() {
        let envelope = Array(
            #"{"event_type":"presence","document_id":"d,\"payload\":x","payload":{"user_id":"u"},"timestamp":5}"#.utf8)
        let found = EventBatch.eventPayload(ofEnvelope: envelope).map { String(decoding: $0, as: UTF8.self) }
        XCTAssertEqual(found, #"{"user_id":"u"}"#)
    }
}
