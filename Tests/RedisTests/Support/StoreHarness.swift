import Foundation
import Observability
import PresenceCore
import Synchronization
import Transport
import XCTest

@testable import Redis

/// One gateway node's Redis store on its own event loop, with everything its delegate receives
/// recorded for assertions.
final class StoreHarness: RedisPresenceStoreDelegate, @unchecked Sendable {
    // @unchecked Sendable: `recorded` is guarded by its mutex; the store is Sendable itself.
    struct Recorded {
        var messages: [(documentID: String, message: RelayMessage)] = []
        var subscribed: [String] = []
        var resynchronized: [[String]] = []
        var liveNodes: Set<String> = []
    }

    let group: EventLoopGroup
    let store: RedisPresenceStore
    let registry = MetricsRegistry(namespace: "test")
    let logs = CapturingLogWriter()
    private let recorded = Mutex(Recorded())

    init(
        node: String, ports: [UInt16], heartbeatIntervalMs: UInt64 = 200, nodeTimeoutMs: UInt64 = 1_000,
        presenceTTLSeconds: UInt64 = 30, streamMaxLength: Int = 1_000
    ) throws {
        group = try EventLoopGroup(count: 1)
        let configuration = RedisStoreConfiguration(
            servers: ports.map { RedisServerAddress(host: "127.0.0.1", port: $0) }, stream: "materi:events:presence",
            streamMaxLength: streamMaxLength, nodeID: node, heartbeatIntervalMs: heartbeatIntervalMs,
            nodeTimeoutMs: nodeTimeoutMs, presenceTTLSeconds: presenceTTLSeconds,
            backoff: ReconnectBackoff(initialMs: 20, maxMs: 200), commandTimeoutMs: 2_000)
        store = RedisPresenceStore(
            configuration: configuration, loop: group.loops[0], metrics: RedisMetrics(registry: registry),
            logger: testLogger(logs))
        store.delegate = self
        store.start()
    }

    /// Removes this node from Redis and closes its connections, as a clean shutdown does.
    func shutDown() {
        let done = DispatchSemaphore(value: 0)
        store.shutdown(timeoutMs: 1_000) { done.signal() }
        _ = done.wait(timeout: .now() + 5)
        group.stop()
    }

    /// Stops heartbeating and drops every connection without a word to Redis, as `kill -9` does.
    func crash() {
        onLoop { [store] in
            if let timer = store.heartbeatTimerID { store.loop.cancelTimer(timer) }
            store.heartbeatTimerID = nil
            for shard in store.shards { shard.close() }
        }
        group.stop()
    }

    var snapshot: Recorded { recorded.withLock { $0 } }

    /// Whether every shard has written this node's presence back and answered a heartbeat.
    var isReady: Bool {
        onLoop { [store] in store.shards.allSatisfy { $0.isReady && !$0.awaitingFirstHeartbeat } }
    }

    func onLoop<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
        let box = Mutex<T?>(nil)
        let done = DispatchSemaphore(value: 0)
        store.loop.execute {
            let value = body()
            box.withLock { $0 = value }
            done.signal()
        }
        done.wait()
        return box.withLock { $0! }
    }

    /// Loads a document through the store and waits for the result.
    func load(_ documentID: String) throws -> DocumentSnapshot {
        let box = Mutex<Result<DocumentSnapshot, RedisError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        store.loop.execute { [store] in
            store.loadDocument(documentID: documentID) { result in
                box.withLock { $0 = result }
                done.signal()
            }
        }
        guard done.wait(timeout: .now() + 5) == .success else {
            throw RedisError.connectionLost(server: "test", reason: "no snapshot within 5 s")
        }
        return try box.withLock { $0! }.get()
    }

    func presenceStore(_ store: RedisPresenceStore, didReceive message: RelayMessage, documentID: String) {
        recorded.withLock { $0.messages.append((documentID, message)) }
    }

    func presenceStore(_ store: RedisPresenceStore, didSubscribe documentID: String) {
        recorded.withLock { $0.subscribed.append(documentID) }
    }

    func presenceStore(_ store: RedisPresenceStore, didResynchronize documentIDs: [String]) {
        recorded.withLock { $0.resynchronized.append(documentIDs) }
    }

    func presenceStore(_ store: RedisPresenceStore, liveNodesChanged liveNodes: Set<String>) {
        recorded.withLock { $0.liveNodes = liveNodes }
    }
}

/// Polls `condition` every 10 ms until it holds or `timeout` seconds pass.
func eventually(timeout: TimeInterval = 10, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        usleep(10_000)
    }
    return try condition()
}

/// A presence record with fixed timestamps, as a room would store it.
func samplePresence(
    user: String, document: String = "d1", workspace: String = "w1", lastActiveAt: UInt64 = 1_733_300_000_500
) -> UserPresence {
    UserPresence(
        userID: user, documentID: document, workspaceID: workspace, name: "Name \(user)", avatarURL: nil,
        color: defaultColor(forUserID: user),
        state: PresenceState(online: true, typing: false, focused: true, activity: .viewing, viewport: nil),
        cursor: nil, selection: nil, connectedAt: 1_733_300_000_000, lastActiveAt: lastActiveAt,
        lastCursorUpdate: 1_733_300_000_000)
}

extension BlockingRedisClient {
    /// The stream's entries as (type, user, document, workspace) tuples, oldest first.
    func streamEvents(_ stream: String = "materi:events:presence") throws -> [[String: String]] {
        let reply = try command("XRANGE", stream, "-", "+")
        return (reply.array ?? []).map { entry in
            let fields = entry.array?[1].array?.compactMap(\.string) ?? []
            var result: [String: String] = [:]
            var index = 0
            while index + 1 < fields.count {
                result[fields[index]] = fields[index + 1]
                index += 2
            }
            return result
        }
    }
}
