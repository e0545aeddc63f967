import XCTest

@testable import Redis

final class ReconnectBackoffTests: XCTestCase {
    func testCeilingDoublesUntilTheCap() {
        let backoff = ReconnectBackoff(initialMs: 100, maxMs: 1_000)
        XCTAssertEqual((1...6).map { backoff.ceilingMs(attempt: $0) }, [100, 200, 400, 800, 1_000, 1_000])
        XCTAssertEqual(backoff.ceilingMs(attempt: 10_000), 1_000)
    }

    func testDelayStaysBetweenHalfAndCeiling() {
        let backoff = ReconnectBackoff(initialMs: 100, maxMs: 1_000)
        var generator = SystemRandomNumberGenerator()
        for attempt in 1...8 {
            let ceiling = backoff.ceilingMs(attempt: attempt)
            for _ in 0..<200 {
                let delay = backoff.delayMs(attempt: attempt, using: &generator)
                XCTAssertGreaterThanOrEqual(delay, ceiling / 2, "attempt \(attempt)")
                XCTAssertLessThanOrEqual(delay, ceiling, "attempt \(attempt)")
            }
        }
    }

    func testDelaysAreJittered() {
        let backoff = ReconnectBackoff(initialMs: 1_000, maxMs: 1_000)
        let delays = Set((0..<50).map { _ in backoff.delayMs(attempt: 1) })
        XCTAssertGreaterThan(delays.count, 10)
    }
}

final class ConsistentHashRingTests: XCTestCase {
    func testSingleServerOwnsEveryKey() {
        let ring = ConsistentHashRing(serverNames: ["a:6379/0"])
        for index in 0..<100 {
            XCTAssertEqual(ring.server(for: "doc-\(index)"), 0)
        }
    }

    func testKeysSpreadOverServers() {
        let ring = ConsistentHashRing(serverNames: ["a:6379/0", "b:6379/0"])
        var counts = [0, 0]
        for index in 0..<10_000 {
            counts[ring.server(for: "doc-\(index)")] += 1
        }
        XCTAssertGreaterThan(counts[0], 4_000)
        XCTAssertGreaterThan(counts[1], 4_000)
    }

    func testAddingServerMovesFewKeys() {
        let two = ConsistentHashRing(serverNames: ["a:6379/0", "b:6379/0"])
        let three = ConsistentHashRing(serverNames: ["a:6379/0", "b:6379/0", "c:6379/0"])
        var moved = 0
        for index in 0..<10_000 {
            let key = "doc-\(index)"
            let after = three.server(for: key)
            if after != 2 {
                XCTAssertEqual(after, two.server(for: key), "key \(key) moved between the old servers")
            } else {
                moved += 1
            }
        }
        XCTAssertLessThan(moved, 4_500, "about a third of the keys should move to the new server")
        XCTAssertGreaterThan(moved, 2_000)
    }

    func testMappingIgnoresServerOrder() {
        let forward = ConsistentHashRing(serverNames: ["a:6379/0", "b:6379/0"])
        let backward = ConsistentHashRing(serverNames: ["b:6379/0", "a:6379/0"])
        for index in 0..<1_000 {
            let key = "doc-\(index)"
            XCTAssertEqual(forward.server(for: key), 1 - backward.server(for: key))
        }
    }
}

final class RedisHelpersTests: XCTestCase {
    func testSHA1MatchesPublishedVectors() {
        XCTAssertEqual(SHA1.hexDigest(Array("abc".utf8)), "a9993e364706816aba3e25717850c26c9cd0d89d")
        XCTAssertEqual(SHA1.hexDigest([]), "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        XCTAssertEqual(
            SHA1.hexDigest(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
    }

    func testMemberFieldPrefixesDocumentLength() {
        XCTAssertEqual(RedisKeys.memberField(documentID: "d1", userID: "u1"), "2:d1u1")
        XCTAssertEqual(RedisKeys.memberField(documentID: "a:b", userID: "c"), "3:a:bc")
        XCTAssertEqual(RedisKeys.memberField(documentID: "é", userID: "u"), "2:éu")
    }

    func testRelayMessageRoundTrips() throws {
        let message = RelayMessage(nodeID: "gw-1", sentAtMs: 1_733_300_000_000, event: .userLeft(userID: "u\"1"))
        let decoded = try RelayMessage(decoding: message.encoded())
        XCTAssertEqual(decoded, message)
        XCTAssertEqual(
            String(decoding: message.encoded(), as: UTF8.self),
            #"{"node":"gw-1","sent_at":1733300000000,"event":{"UserLeft":"u\"1"}}"#)
    }

    func testRelayMessageRejectsMissingNode() {
        XCTAssertThrowsError(try RelayMessage(decoding: Array(#"{"sent_at":1,"event":{"UserLeft":"u1"}}"#.utf8)))
    }
}
