import Foundation
import PresenceCore
import XCTest

@testable import Redis

/// How the store keeps one user's writes in order while Redis lacks a script: on a fresh server
/// and after SCRIPT FLUSH.
final class RedisScriptLoadingTests: XCTestCase {
    func testStoreThenRemoveKeepOrderOnFreshServer() throws {
        let server = try RedisServerProcess()
        let redis = try BlockingRedisClient(port: server.port)
        let node = try StoreHarness(node: "gw-a", ports: [server.port])
        defer { node.shutDown() }
        XCTAssertTrue(eventually { node.isReady })

        // Run the remove script once, so that the server has it cached. A store script missing
        // from the cache at this point would be retried behind the remove that follows it.
        node.store.remove(userID: "u0", documentID: "d1", workspaceID: "w1")
        XCTAssertTrue(try eventually {
            try redis.command("SCRIPT", "EXISTS", RedisScript.remove.sha) == .array([.integer(1)])
        })

        // One loop task queues both writes, so both commands are sent before any reply arrives.
        let store = node.store
        node.onLoop {
            store.store(samplePresence(user: "u1"))
            store.remove(userID: "u1", documentID: "d1", workspaceID: "w1")
        }
        XCTAssertTrue(eventually { node.onLoop { store.shards[0].commands.pendingCount == 0 } })

        XCTAssertEqual(try redis.command("HEXISTS", "presence:d1:users", "u1"), .integer(0))
        let events = try redis.streamEvents().map { "\($0["type"] ?? "") \($0["user_id"] ?? "")" }
        XCTAssertEqual(events, ["joined u1", "left u1"])
    }

    func testWritesAfterScriptFlushReachRedis() throws {
        let server = try RedisServerProcess()
        let redis = try BlockingRedisClient(port: server.port)
        let node = try StoreHarness(node: "gw-a", ports: [server.port])
        defer { node.shutDown() }
        XCTAssertTrue(eventually { node.isReady })
        node.store.store(samplePresence(user: "u1"))
        XCTAssertTrue(try eventually { try redis.command("HEXISTS", "presence:d1:users", "u1") == .integer(1) })

        XCTAssertEqual(try redis.command("SCRIPT", "FLUSH"), .status("OK"))
        let store = node.store
        node.onLoop {
            store.store(samplePresence(user: "u2"))
            store.remove(userID: "u2", documentID: "d1", workspaceID: "w1")
            store.remove(userID: "u1", documentID: "d1", workspaceID: "w1")
        }

        // The writes fail with NOSCRIPT, and the next heartbeat tick writes the document again
        // from the local copy, which no longer contains a user.
        XCTAssertTrue(try eventually { try redis.command("EXISTS", "presence:d1:users") == .integer(0) })
        XCTAssertEqual(try redis.command("HEXISTS", "presence:d1:nodes", "u1"), .integer(0))
        XCTAssertEqual(
            try redis.command("SCRIPT", "EXISTS", RedisScript.store.sha, RedisScript.remove.sha),
            .array([.integer(1), .integer(1)]))
        // A write sent after the scripts are loaded again runs with EVALSHA.
        node.store.store(samplePresence(user: "u3"))
        XCTAssertTrue(try eventually { try redis.command("HEXISTS", "presence:d1:users", "u3") == .integer(1) })
    }
}
