import Foundation
import PresenceCore
import XCTest

@testable import Redis

final class RedisPresenceStoreTests: XCTestCase {
    func testStoreWritesDesignKeys() throws {
        let server = try RedisServerProcess()
        let redis = try BlockingRedisClient(port: server.port)
        let node = try StoreHarness(node: "gw-a", ports: [server.port])
        defer { node.shutDown() }
        XCTAssertTrue(eventually { node.isReady })

        let presence = samplePresence(user: "u1")
        node.store.store(presence)
        XCTAssertTrue(try eventually { try redis.command("HEXISTS", "presence:d1:users", "u1") == .integer(1) })

        let json = try redis.command("HGET", "presence:d1:users", "u1").string ?? ""
        XCTAssertEqual(try JSONDecoder().decode(UserPresence.self, from: Data(json.utf8)), presence)
        XCTAssertTrue(json.contains(#""user_id":"u1""#), json)
        let ttl = try redis.command("TTL", "presence:d1:users").integer ?? -1
        XCTAssertGreaterThan(ttl, 0)
        XCTAssertLessThanOrEqual(ttl, 30)
        XCTAssertEqual(try redis.command("SMEMBERS", "presence:workspace:w1:documents"), .array([.bulk(Array("d1".utf8))]))
        XCTAssertEqual(try redis.command("HGET", "presence:user:u1", "d1").string, "1733300000500")
        XCTAssertEqual(try redis.command("HLEN", "presence:d1:users"), .integer(1))

        let events = try redis.streamEvents()
        XCTAssertEqual(events.count, 1)
        XCTAssertEqual(events.first?["type"], "joined")
        XCTAssertEqual(events.first?["user_id"], "u1")
        XCTAssertEqual(events.first?["document_id"], "d1")
        XCTAssertEqual(events.first?["workspace_id"], "w1")
        XCTAssertEqual(Set(events.first?.keys.map { $0 } ?? []), ["type", "user_id", "document_id", "workspace_id", "timestamp"])
        let timestamp = UInt64(events.first?["timestamp"] ?? "") ?? 0
        XCTAssertGreaterThan(timestamp, 1_700_000_000_000)
    }

    func testUpdateRewritesRecordWithoutJoin() throws {
        let server = try RedisServerProcess()
        let redis = try BlockingRedisClient(port: server.port)
        let node = try StoreHarness(node: "gw-a", ports: [server.port])
        defer { node.shutDown() }
        XCTAssertTrue(eventually { node.isReady })

        var presence = samplePresence(user: "u1")
        node.store.store(presence)
        presence.state.typing = true
        presence.lastActiveAt += 1_000
        node.store.store(presence)
        XCTAssertTrue(try eventually {
            try redis.command("HGET", "presence:user:u1", "d1").string == String(presence.lastActiveAt)
        })
        let json = try redis.command("HGET", "presence:d1:users", "u1").string ?? ""
        XCTAssertEqual(try JSONDecoder().decode(UserPresence.self, from: Data(json.utf8)).state.typing, true)
        XCTAssertEqual(try redis.streamEvents().map { $0["type"] }, ["joined"])
    }

    func testLastLeaveRemovesDocumentFromWorkspace() throws {
        let server = try RedisServerProcess()
        let redis = try BlockingRedisClient(port: server.port)
        let node = try StoreHarness(node: "gw-a", ports: [server.port])
        defer { node.shutDown() }
        XCTAssertTrue(eventually { node.isReady })

        node.store.store(samplePresence(user: "u1"))
        node.store.store(samplePresence(user: "u2"))
        node.store.remove(userID: "u1", documentID: "d1", workspaceID: "w1")
        XCTAssertTrue(try eventually { try redis.command("HLEN", "presence:d1:users") == .integer(1) })
        XCTAssertEqual(try redis.command("SISMEMBER", "presence:workspace:w1:documents", "d1"), .integer(1))
        XCTAssertEqual(try redis.command("EXISTS", "presence:user:u1"), .integer(0))

        node.store.remove(userID: "u2", documentID: "d1", workspaceID: "w1")
        XCTAssertTrue(try eventually { try redis.command("EXISTS", "presence:d1:users") == .integer(0) })
        XCTAssertEqual(try redis.command("SISMEMBER", "presence:workspace:w1:documents", "d1"), .integer(0))
        XCTAssertEqual(try redis.command("EXISTS", "presence:d1:nodes"), .integer(0))
        XCTAssertEqual(try redis.command("HLEN", "presence:node:gw-a:members"), .integer(0))
        let events = try redis.streamEvents()
        XCTAssertEqual(events.map { $0["type"] }, ["joined", "joined", "left", "left"])
        XCTAssertEqual(events.map { $0["user_id"] }, ["u1", "u2", "u1", "u2"])
    }

    func testStreamStaysNearMaxLength() throws {
        let server = try RedisServerProcess()
        let redis = try BlockingRedisClient(port: server.port)
        let node = try StoreHarness(node: "gw-a", ports: [server.port], streamMaxLength: 10)
        defer { node.shutDown() }
        XCTAssertTrue(eventually { node.isReady })

        for index in 0..<500 {
            node.store.store(samplePresence(user: "u\(index)"))
            node.store.remove(userID: "u\(index)", documentID: "d1", workspaceID: "w1")
        }
        XCTAssertTrue(try eventually {
            let last = try redis.command("XREVRANGE", "materi:events:presence", "+", "-", "COUNT", "1")
            return last.array?.first?.array?.last?.array?.compactMap(\.string).contains("u499") == true
        })
        XCTAssertEqual(try redis.command("EXISTS", "presence:d1:users"), .integer(0))
        // MAXLEN ~ trims whole macro nodes (100 entries by default), so the length overshoots 10.
        let length = try redis.command("XLEN", "materi:events:presence").integer ?? 0
        XCTAssertLessThanOrEqual(length, 250)
        XCTAssertGreaterThanOrEqual(length, 10)
    }

    func testTabsOnTwoNodesKeepUserPresent() throws {
        let server = try RedisServerProcess()
        let redis = try BlockingRedisClient(port: server.port)
        let nodeA = try StoreHarness(node: "gw-a", ports: [server.port])
        let nodeB = try StoreHarness(node: "gw-b", ports: [server.port])
        defer {
            nodeA.shutDown()
            nodeB.shutDown()
        }
        XCTAssertTrue(eventually { nodeA.isReady && nodeB.isReady })

        nodeA.store.store(samplePresence(user: "u1"))
        XCTAssertTrue(try eventually { try redis.command("HGET", "presence:d1:nodes", "u1").string == "gw-a" })
        nodeB.store.store(samplePresence(user: "u1"))
        XCTAssertTrue(try eventually { try redis.command("HGET", "presence:d1:nodes", "u1").string == "gw-a gw-b" })

        nodeA.store.remove(userID: "u1", documentID: "d1", workspaceID: "w1")
        XCTAssertTrue(try eventually { try redis.command("HGET", "presence:d1:nodes", "u1").string == "gw-b" })
        XCTAssertEqual(try redis.command("HEXISTS", "presence:d1:users", "u1"), .integer(1))
        XCTAssertEqual(try redis.streamEvents().map { $0["type"] }, ["joined"])

        nodeB.store.remove(userID: "u1", documentID: "d1", workspaceID: "w1")
        XCTAssertTrue(try eventually { try redis.command("EXISTS", "presence:d1:users") == .integer(0) })
        XCTAssertEqual(try redis.streamEvents().map { $0["type"] }, ["joined", "left"])
    }

    func testRelayDeliversOtherNodesEvents() throws {
        let server = try RedisServerProcess()
        let nodeA = try StoreHarness(node: "gw-a", ports: [server.port])
        let nodeB = try StoreHarness(node: "gw-b", ports: [server.port])
        defer {
            nodeA.shutDown()
            nodeB.shutDown()
        }
        XCTAssertTrue(eventually { nodeA.isReady && nodeB.isReady })
        nodeA.store.subscribe(documentID: "d1")
        nodeB.store.subscribe(documentID: "d1")
        XCTAssertTrue(eventually { nodeA.snapshot.subscribed == ["d1"] && nodeB.snapshot.subscribed == ["d1"] })

        let cursor = PresenceEvent.cursorMoved(
            userID: "u1", cursor: CursorPosition(line: 3, column: 7, offset: 42), selection: nil)
        nodeA.store.publish(documentID: "d1", event: cursor)
        nodeA.store.publish(documentID: "d1", event: .typingChanged(userID: "u1", isTyping: true))
        XCTAssertTrue(eventually { nodeB.snapshot.messages.count == 2 })
        let received = nodeB.snapshot.messages
        XCTAssertEqual(received.map(\.documentID), ["d1", "d1"])
        XCTAssertEqual(received.map(\.message.nodeID), ["gw-a", "gw-a"])
        XCTAssertEqual(received.map(\.message.event), [cursor, .typingChanged(userID: "u1", isTyping: true)])
        usleep(100_000)
        XCTAssertTrue(nodeA.snapshot.messages.isEmpty, "a node must not receive its own events")
        XCTAssertNotNil(nodeB.registry.render().range(of: "test_presence_relay_latency_seconds_count 2"))
    }

    func testUnsubscribeStopsDelivery() throws {
        let server = try RedisServerProcess()
        let redis = try BlockingRedisClient(port: server.port)
        let nodeA = try StoreHarness(node: "gw-a", ports: [server.port])
        let nodeB = try StoreHarness(node: "gw-b", ports: [server.port])
        defer {
            nodeA.shutDown()
            nodeB.shutDown()
        }
        XCTAssertTrue(eventually { nodeA.isReady && nodeB.isReady })
        nodeB.store.subscribe(documentID: "d1")
        XCTAssertTrue(eventually { nodeB.snapshot.subscribed == ["d1"] })
        XCTAssertEqual(try redis.command("PUBSUB", "NUMSUB", "presence:channel:d1").array?.last, .integer(1))

        nodeB.store.unsubscribe(documentID: "d1")
        XCTAssertTrue(try eventually {
            try redis.command("PUBSUB", "NUMSUB", "presence:channel:d1").array?.last == .integer(0)
        })
        nodeA.store.publish(documentID: "d1", event: .userIdle(userID: "u1"))
        usleep(200_000)
        XCTAssertTrue(nodeB.snapshot.messages.isEmpty)
    }

    func testDeadNodeUsersAreSweptOnce() throws {
        let server = try RedisServerProcess()
        let redis = try BlockingRedisClient(port: server.port)
        let dead = try StoreHarness(node: "gw-dead", ports: [server.port])
        let nodeB = try StoreHarness(node: "gw-b", ports: [server.port])
        let nodeC = try StoreHarness(node: "gw-c", ports: [server.port])
        defer {
            nodeB.shutDown()
            nodeC.shutDown()
        }
        XCTAssertTrue(eventually { dead.isReady && nodeB.isReady && nodeC.isReady })
        nodeB.store.subscribe(documentID: "d1")
        XCTAssertTrue(eventually { nodeB.snapshot.subscribed == ["d1"] })

        dead.store.store(samplePresence(user: "u1"))
        dead.store.store(samplePresence(user: "u2", document: "d2"))
        dead.store.store(samplePresence(user: "shared"))
        nodeC.store.store(samplePresence(user: "shared"))
        XCTAssertTrue(try eventually {
            let holders = try redis.command("HGET", "presence:d1:nodes", "shared").string ?? ""
            return Set(holders.split(separator: " ")) == ["gw-dead", "gw-c"]
        })

        dead.crash()
        let crashedAt = Date()
        XCTAssertTrue(try eventually { try redis.command("EXISTS", "presence:d2:users") == .integer(0) })
        XCTAssertTrue(try eventually { try redis.command("HEXISTS", "presence:d1:users", "u1") == .integer(0) })
        // The node timeout is 1000 ms. The bound leaves a second for a busy machine, and still fails
        // if the sweep waited for another timeout or never ran.
        XCTAssertLessThan(Date().timeIntervalSince(crashedAt), 2.0)

        XCTAssertEqual(try redis.command("HGET", "presence:d1:nodes", "shared").string, "gw-c")
        XCTAssertEqual(try redis.command("HEXISTS", "presence:d1:users", "shared"), .integer(1))
        XCTAssertEqual(try redis.command("ZSCORE", "presence:nodes", "gw-dead"), .null)
        XCTAssertEqual(try redis.command("EXISTS", "presence:node:gw-dead:members"), .integer(0))
        XCTAssertEqual(try redis.command("SMEMBERS", "presence:workspace:w1:documents"), .array([.bulk(Array("d1".utf8))]))

        // Two survivors checked; the stream still has exactly one leave per user.
        usleep(600_000)
        let leaves = try redis.streamEvents().filter { $0["type"] == "left" }.compactMap { $0["user_id"] }
        XCTAssertEqual(leaves.sorted(), ["u1", "u2"])

        XCTAssertTrue(eventually { nodeB.snapshot.messages.count == 2 })
        let relayed = nodeB.snapshot.messages.map(\.message)
        XCTAssertEqual(Set(relayed.map(\.nodeID)), ["gw-dead"])
        XCTAssertEqual(Set(relayed.map(\.event.name)), ["UserLeft"])
        XCTAssertEqual(Set(relayed.map(\.event.userID)), ["u1", "shared"])
        XCTAssertFalse(nodeB.snapshot.liveNodes.contains("gw-dead"))
        XCTAssertTrue(nodeB.snapshot.liveNodes.isSuperset(of: ["gw-b", "gw-c"]))
    }

    func testRestartedNodeRemovesItsPreviousUsers() throws {
        let server = try RedisServerProcess()
        let redis = try BlockingRedisClient(port: server.port)
        let first = try StoreHarness(node: "gw-a", ports: [server.port], heartbeatIntervalMs: 5_000, nodeTimeoutMs: 60_000)
        XCTAssertTrue(eventually { first.isReady })
        first.store.store(samplePresence(user: "u1"))
        XCTAssertTrue(try eventually { try redis.command("HEXISTS", "presence:d1:users", "u1") == .integer(1) })
        first.crash()

        let second = try StoreHarness(node: "gw-a", ports: [server.port], heartbeatIntervalMs: 5_000, nodeTimeoutMs: 60_000)
        defer { second.shutDown() }
        XCTAssertTrue(eventually { second.isReady })
        XCTAssertEqual(try redis.command("EXISTS", "presence:d1:users"), .integer(0))
        XCTAssertEqual(try redis.streamEvents().map { $0["type"] }, ["joined", "left"])
    }

    func testWriteBackAfterRedisRestart() throws {
        let server = try RedisServerProcess()
        let nodeA = try StoreHarness(node: "gw-a", ports: [server.port])
        let nodeB = try StoreHarness(node: "gw-b", ports: [server.port])
        defer {
            nodeA.shutDown()
            nodeB.shutDown()
        }
        XCTAssertTrue(eventually { nodeA.isReady && nodeB.isReady })
        nodeB.store.subscribe(documentID: "d1")
        nodeA.store.store(samplePresence(user: "u1"))
        XCTAssertTrue(eventually { nodeB.snapshot.subscribed == ["d1"] })

        try server.restart()
        XCTAssertTrue(eventually { nodeA.store.isDegraded })
        let redis = try BlockingRedisClient(port: server.port)
        XCTAssertTrue(try eventually(timeout: 5) {
            try redis.command("HEXISTS", "presence:d1:users", "u1") == .integer(1)
        })
        XCTAssertTrue(eventually { !nodeA.store.isDegraded && !nodeB.store.isDegraded })
        XCTAssertEqual(try redis.command("SISMEMBER", "presence:workspace:w1:documents", "d1"), .integer(1))
        XCTAssertEqual(try redis.streamEvents().map { $0["type"] }, ["joined"])
        XCTAssertTrue(eventually { nodeA.snapshot.resynchronized.contains(["d1"]) })
        // Node B subscribed again; it may have missed node A's write-back, so it can load it.
        XCTAssertTrue(eventually { nodeB.snapshot.subscribed == ["d1", "d1"] })
        XCTAssertEqual(try nodeB.load("d1").holders, ["u1": ["gw-a"]])
    }

    func testLeaveDuringOutageIsReleasedOnReconnect() throws {
        let server = try RedisServerProcess()
        let redis = try BlockingRedisClient(port: server.port)
        let node = try StoreHarness(node: "gw-a", ports: [server.port])
        defer { node.shutDown() }
        XCTAssertTrue(eventually { node.isReady })
        node.store.store(samplePresence(user: "u1"))
        node.store.store(samplePresence(user: "u2", document: "d2"))
        node.store.store(samplePresence(user: "u3", document: "d2"))
        XCTAssertTrue(try eventually { try redis.command("HLEN", "presence:d2:users") == .integer(2) })

        node.onLoop { [store = node.store] in
            for shard in store.shards { shard.close() }
        }
        node.store.remove(userID: "u1", documentID: "d1", workspaceID: "w1")
        node.store.remove(userID: "u2", documentID: "d2", workspaceID: "w1")
        usleep(100_000)
        XCTAssertEqual(try redis.command("HLEN", "presence:d2:users"), .integer(2), "nothing is sent while down")

        node.onLoop { [store = node.store] in
            for shard in store.shards { shard.start() }
        }
        XCTAssertTrue(try eventually { try redis.command("EXISTS", "presence:d1:users") == .integer(0) })
        XCTAssertTrue(try eventually { try redis.command("HLEN", "presence:d2:users") == .integer(1) })
        XCTAssertEqual(try redis.command("HEXISTS", "presence:d2:users", "u3"), .integer(1))
        XCTAssertEqual(try redis.command("SMEMBERS", "presence:workspace:w1:documents"), .array([.bulk(Array("d2".utf8))]))
        let leaves = try redis.streamEvents().filter { $0["type"] == "left" }.compactMap { $0["user_id"] }
        XCTAssertEqual(leaves.sorted(), ["u1", "u2"])
    }

    func testRefreshRestoresLostRecord() throws {
        let server = try RedisServerProcess()
        let redis = try BlockingRedisClient(port: server.port)
        let node = try StoreHarness(node: "gw-a", ports: [server.port])
        defer { node.shutDown() }
        XCTAssertTrue(eventually { node.isReady })
        node.store.store(samplePresence(user: "u1"))
        XCTAssertTrue(try eventually { try redis.command("HEXISTS", "presence:d1:users", "u1") == .integer(1) })

        try redis.command("DEL", "presence:d1:users")
        node.store.refresh(documentID: "d1", workspaceID: "w1", userIDs: ["u1"])
        XCTAssertTrue(try eventually { try redis.command("HEXISTS", "presence:d1:users", "u1") == .integer(1) })
    }

    func testShardingPlacesDocumentOnItsServer() throws {
        let first = try RedisServerProcess()
        let second = try RedisServerProcess()
        let clients = [try BlockingRedisClient(port: first.port), try BlockingRedisClient(port: second.port)]
        let node = try StoreHarness(node: "gw-a", ports: [first.port, second.port])
        let listener = try StoreHarness(node: "gw-b", ports: [first.port, second.port])
        defer {
            node.shutDown()
            listener.shutDown()
        }
        XCTAssertTrue(eventually { node.isReady && listener.isReady })

        let documents = (0..<20).map { "doc-\($0)" }
        for document in documents {
            node.store.store(samplePresence(user: "u1", document: document))
            listener.store.subscribe(documentID: document)
        }
        let ring = node.store.ring
        XCTAssertEqual(Set(documents.map { ring.server(for: $0) }), [0, 1], "20 documents should use both shards")
        for document in documents {
            let owner = ring.server(for: document)
            XCTAssertTrue(try eventually {
                try clients[owner].command("HEXISTS", "presence:\(document):users", "u1") == .integer(1)
            })
            XCTAssertEqual(try clients[1 - owner].command("EXISTS", "presence:\(document):users"), .integer(0), document)
            XCTAssertEqual(
                try clients[owner].command("HGET", "presence:user:u1", document).string, "1733300000500", document)
        }
        XCTAssertTrue(eventually { listener.snapshot.subscribed.count == documents.count })
        for document in documents {
            let owner = ring.server(for: document)
            XCTAssertEqual(
                try clients[owner].command("PUBSUB", "NUMSUB", "presence:channel:\(document)").array?.last, .integer(1))
            XCTAssertEqual(
                try clients[1 - owner].command("PUBSUB", "NUMSUB", "presence:channel:\(document)").array?.last,
                .integer(0))
        }

        for document in documents { node.store.publish(documentID: document, event: .userIdle(userID: "u1")) }
        XCTAssertTrue(eventually { listener.snapshot.messages.count == documents.count })

        let expectation = expectation(description: "documents listed")
        node.store.documents(userID: "u1") { result in
            XCTAssertEqual((try? result.get())?.map(\.documentID), documents.sorted())
            expectation.fulfill()
        }
        wait(for: [expectation], timeout: 5)
    }

    func testQueriesReadOtherNodesUsers() throws {
        let server = try RedisServerProcess()
        let nodeA = try StoreHarness(node: "gw-a", ports: [server.port])
        let nodeB = try StoreHarness(node: "gw-b", ports: [server.port])
        defer {
            nodeA.shutDown()
            nodeB.shutDown()
        }
        XCTAssertTrue(eventually { nodeA.isReady && nodeB.isReady })
        nodeA.store.store(samplePresence(user: "u1"))
        nodeA.store.store(samplePresence(user: "u2", document: "d2"))
        XCTAssertTrue(eventually { (try? nodeB.load("d2").users.count) == 1 })

        let presence = expectation(description: "presence")
        nodeB.store.documentPresence(documentID: "d1") { result in
            XCTAssertEqual((try? result.get())?.map(\.userID), ["u1"])
            presence.fulfill()
        }
        let active = expectation(description: "active documents")
        nodeB.store.activeDocuments(workspaceID: "w1") { result in
            XCTAssertEqual(
                try? result.get(),
                [DocumentUserCount(documentID: "d1", userCount: 1), DocumentUserCount(documentID: "d2", userCount: 1)])
            active.fulfill()
        }
        wait(for: [presence, active], timeout: 5)

        let snapshot = try nodeB.load("d1")
        XCTAssertEqual(snapshot.users.map(\.userID), ["u1"])
        XCTAssertEqual(snapshot.holders, ["u1": ["gw-a"]])
        // Node B sees node A as live from its first heartbeat check after node A's first heartbeat.
        XCTAssertTrue(eventually { (try? nodeB.load("d1").liveNodes.isSuperset(of: ["gw-a", "gw-b"])) == true })
    }

    func testQueriesFallBackToLocalUsersWhileDown() throws {
        let port = try RedisServerProcess.freePort()
        let node = try StoreHarness(node: "gw-a", ports: [port])
        defer { node.shutDown() }
        XCTAssertTrue(node.store.isDegraded)
        node.store.store(samplePresence(user: "u1"))
        let presence = expectation(description: "presence")
        node.store.documentPresence(documentID: "d1") { result in
            XCTAssertEqual((try? result.get())?.map(\.userID), ["u1"])
            presence.fulfill()
        }
        wait(for: [presence], timeout: 5)
        XCTAssertNotNil(node.registry.render().range(of: "test_redis_degraded 1"))
    }
}
