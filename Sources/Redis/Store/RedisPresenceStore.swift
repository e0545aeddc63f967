import CLinux
import Foundation
import Observability
import PresenceCore
import Synchronization
import Transport

/// The receiver of the store's cluster events, called on the store's loop.
public protocol RedisPresenceStoreDelegate: AnyObject {
    /// Another node published `message` on the channel of `documentID`.
    func presenceStore(_ store: RedisPresenceStore, didReceive message: RelayMessage, documentID: String)
    /// Reports that the channel of `documentID` is subscribed. Later messages arrive, so a load
    /// from now on is complete.
    func presenceStore(_ store: RedisPresenceStore, didSubscribe documentID: String)
    /// A shard came back and this node's presence there was written back; the documents listed
    /// may have changed elsewhere meanwhile and should be loaded again.
    func presenceStore(_ store: RedisPresenceStore, didResynchronize documentIDs: [String])
    /// Reports the nodes with a fresh heartbeat, after each check that changed them.
    func presenceStore(_ store: RedisPresenceStore, liveNodesChanged liveNodes: Set<String>)
}

/// A `PresenceStore` in Redis, shared by several gateway nodes, in the design's key layout.
///
/// Every write runs one Lua script (`RedisScript`), so the record, the workspace set, the user's
/// documents and the stream entry change together. The store keeps a copy of this node's records
/// (`localDocuments`): while a shard is down, writes only update the copy, and on reconnect the copy
/// is written back, so an outage neither queues commands nor loses what happened meanwhile.
///
/// Everything mutable is confined to `loop`. The `PresenceStore` methods may be called on any
/// thread and hop to it.
public final class RedisPresenceStore: PresenceStore, @unchecked Sendable {
    // @unchecked Sendable: all mutable state is read and written only on `loop` (every public
    // entry point hops there with `execute`), except `degraded`, which is atomic.

    struct LocalDocument {
        var workspaceID: String
        var users: [String: UserPresence] = [:]
    }

    public let configuration: RedisStoreConfiguration
    public let loop: EventLoop
    public var nodeID: String { configuration.nodeID }
    let logger: Logger
    let metrics: RedisMetrics
    let ring: ConsistentHashRing
    private(set) var shards: [RedisShard] = []
    /// Set before `start()`, read only on `loop` afterwards.
    public weak var delegate: RedisPresenceStoreDelegate?

    var localDocuments: [String: LocalDocument] = [:]
    /// Node id to heartbeat (server ms) per shard, from the last heartbeat reply.
    var heartbeats: [[String: UInt64]]
    var lastLiveNodes: Set<String> = []
    var heartbeatTimerID: UInt64?
    var started = false
    private let degraded = Atomic<Bool>(true)

    public init(configuration: RedisStoreConfiguration, loop: EventLoop, metrics: RedisMetrics, logger: Logger) {
        self.configuration = configuration
        self.loop = loop
        self.metrics = metrics
        self.logger = logger.with(["node.id": configuration.nodeID])
        ring = ConsistentHashRing(serverNames: configuration.servers.map { "\($0.host):\($0.port)/\($0.database)" })
        heartbeats = Array(repeating: [:], count: configuration.servers.count)
        shards = configuration.servers.enumerated().map { index, address in
            RedisShard(
                index: index, address: address, store: self, configuration: configuration, loop: loop,
                metrics: metrics, logger: self.logger)
        }
        metrics.degraded.labels().set(1)
    }

    /// Whether any shard is unreachable, so presence is served from this node only. Any thread.
    public var isDegraded: Bool { degraded.load(ordering: .relaxed) }

    /// Connects to every shard and starts heartbeating. Any thread.
    public func start() {
        loop.execute { [self] in
            guard !started else { return }
            started = true
            logger.info(
                "starting the Redis presence store",
                metadata: ["redis.shards": "\(shards.count)", "redis.url": shards.map { "\($0.address)" }.joined(separator: ",")])
            for shard in shards { shard.start() }
            scheduleHeartbeat()
        }
    }

    /// Removes this node from the heartbeat set and closes every connection, waiting at most
    /// `timeoutMs` for the replies. Call after the rooms have removed their users, so their leaves
    /// are sent first. `completion` runs on the loop.
    public func shutdown(timeoutMs: UInt64 = 2_000, completion: @escaping @Sendable () -> Void) {
        loop.execute { [self] in
            if let heartbeatTimerID { loop.cancelTimer(heartbeatTimerID) }
            heartbeatTimerID = nil
            let ready = shards.filter { $0.isReady }
            var remaining = ready.count
            var finished = false
            let finish = { [self] in
                guard !finished else { return }
                finished = true
                for shard in shards { shard.close() }
                completion()
            }
            guard remaining > 0 else {
                finish()
                return
            }
            loop.scheduleTimer(afterMs: timeoutMs) { finish() }
            for shard in ready {
                shard.commands.send(["ZREM", RedisKeys.nodes, nodeID]) { _ in
                    remaining -= 1
                    if remaining == 0 { finish() }
                }
            }
        }
    }

    // MARK: - PresenceStore writes

    public func store(_ presence: UserPresence) {
        loop.execute { [self] in
            var document = localDocuments[presence.documentID] ?? LocalDocument(workspaceID: presence.workspaceID)
            document.users[presence.userID] = presence
            localDocuments[presence.documentID] = document
            let shard = shard(for: presence.documentID)
            guard shard.isReady else {
                metrics.droppedWrites.labels().increment()
                return
            }
            shard.run(
                .store, keys: [configuration.stream],
                arguments: storeArguments(presence)
            ) { [weak self, weak shard] result in
                guard let self, let shard, case .failure(let error) = result else { return }
                self.writeFailed(documentID: presence.documentID, shard: shard, error: error)
            }
        }
    }

    public func remove(userID: String, documentID: String, workspaceID: String) {
        loop.execute { [self] in
            if var document = localDocuments[documentID] {
                document.users[userID] = nil
                localDocuments[documentID] = document.users.isEmpty ? nil : document
            }
            let shard = shard(for: documentID)
            guard shard.isReady else {
                metrics.droppedWrites.labels().increment()
                return
            }
            shard.run(
                .remove, keys: [configuration.stream],
                arguments: [
                    documentID, userID, workspaceID, nodeID, String(configuration.streamMaxLength), Self.wallMsText,
                ]
            ) { [weak self, weak shard] result in
                guard let self, let shard, case .failure(let error) = result else { return }
                self.writeFailed(documentID: documentID, shard: shard, error: error)
            }
        }
    }

    public func refresh(documentID: String, workspaceID: String, userIDs: [String]) {
        loop.execute { [self] in
            let shard = shard(for: documentID)
            guard shard.isReady, !userIDs.isEmpty else { return }
            shard.run(
                .refresh, keys: [],
                arguments: [documentID, workspaceID, String(configuration.presenceTTLSeconds), nodeID] + userIDs
            ) { [weak self, weak shard] result in
                guard let self, let shard else { return }
                switch result {
                case .success(let reply):
                    let missing = reply.array?.compactMap(\.string) ?? []
                    guard !missing.isEmpty else { return }
                    self.logger.notice(
                        "presence records were missing in Redis; writing them again",
                        metadata: ["document.id": documentID, "users.count": "\(missing.count)"])
                    self.resynchronize(documentID: documentID, on: shard)
                case .failure(let error):
                    self.writeFailed(documentID: documentID, shard: shard, error: error)
                }
            }
        }
    }

    func storeArguments(_ presence: UserPresence) -> [String] {
        [
            presence.documentID, presence.userID, presence.workspaceID,
            String(decoding: ServerMessageEncoder.encode(presence), as: UTF8.self), String(presence.lastActiveAt),
            String(configuration.presenceTTLSeconds), nodeID, String(configuration.streamMaxLength), Self.wallMsText,
        ]
    }

    /// Marks a document for a write-back on the next tick. A write that failed because the
    /// connection went down needs nothing: the reconnect writes everything back.
    private func writeFailed(documentID: String, shard: RedisShard, error: RedisError) {
        metrics.droppedWrites.labels().increment()
        switch error {
        case .notConnected, .connectionLost:
            break
        case .overloaded, .server, .unexpectedReply:
            shard.dirtyDocuments.insert(documentID)
            logger.log(
                .warning, "a presence write to Redis failed; it will be written again",
                metadata: ["document.id": documentID, "error": "\(error)"], limitedBy: Self.writeLogLimiter,
                key: "redis.write")
        }
    }

    // MARK: - Cluster operations (for the gateway's relay)

    /// Subscribes to the channel of `documentID`; `didSubscribe` follows once Redis confirms, and
    /// again after every reconnect.
    public func subscribe(documentID: String) {
        loop.execute { [self] in
            shard(for: documentID).subscriber.subscribe(RedisKeys.channel(documentID))
        }
    }

    /// Whether the channel of `documentID` is wanted. Call on the store's loop.
    public func isSubscribed(documentID: String) -> Bool {
        loop.preconditionInEventLoop()
        return shard(for: documentID).subscriber.wanted.contains(RedisKeys.channel(documentID))
    }

    public func unsubscribe(documentID: String) {
        loop.execute { [self] in
            shard(for: documentID).subscriber.unsubscribe(RedisKeys.channel(documentID))
        }
    }

    /// Publishes `event` from this node on the channel of `documentID`. The event is dropped while
    /// the shard is down, because the write-back after the reconnect publishes what the other
    /// nodes need.
    public func publish(documentID: String, event: PresenceEvent) {
        let message = RelayMessage(nodeID: nodeID, sentAtMs: clinux_wall_ms(), event: event).encoded()
        loop.execute { [self] in
            let shard = shard(for: documentID)
            guard shard.isReady else { return }
            shard.commands.send(
                [Array("PUBLISH".utf8), Array(RedisKeys.channel(documentID).utf8), message], command: "PUBLISH",
                completion: nil)
        }
    }

    /// Reads a document's presence and holders from Redis. `completion` runs on the store's loop.
    public func loadDocument(
        documentID: String, completion: @escaping (Result<DocumentSnapshot, RedisError>) -> Void
    ) {
        loop.preconditionInEventLoop()
        let shard = shard(for: documentID)
        shard.commands.send(["HGETALL", RedisKeys.documentUsers(documentID)]) { [weak self] usersResult in
            shard.commands.send(["HGETALL", RedisKeys.documentNodes(documentID)]) { nodesResult in
                guard let self else { return }
                do {
                    let users = try Self.decodeUsers(usersResult.get())
                    var holders: [String: [String]] = [:]
                    for (userID, list) in try Self.pairs(nodesResult.get(), command: "HGETALL") {
                        holders[userID] = list.split(separator: " ").map(String.init)
                    }
                    completion(.success(DocumentSnapshot(users: users, holders: holders, liveNodes: self.lastLiveNodes)))
                } catch let error as RedisError {
                    completion(.failure(error))
                } catch {
                    completion(.failure(.unexpectedReply(command: "HGETALL", reply: "\(error)")))
                }
            }
        }
    }

    // MARK: - Shard events

    func shard(for documentID: String) -> RedisShard {
        shards[ring.server(for: documentID)]
    }

    func shardDidConnect(_ shard: RedisShard) {
        if !shard.sweptPreviousRun {
            // A previous run with this node id may have died without cleaning up. Its users are not
            // here any more, so remove them before writing this run's presence.
            shard.sweptPreviousRun = true
            shard.run(
                .sweep, keys: [RedisKeys.nodes, configuration.stream],
                arguments: [nodeID, "0", String(configuration.streamMaxLength), Self.wallMsText, nodeID]
            ) { [weak self] result in
                if case .success(let reply) = result, let parts = reply.array, parts.count > 1 {
                    self?.logger.notice(
                        "removed the users a previous run of this node left in Redis",
                        metadata: ["users.count": "\((parts.count - 1) / 2)"])
                }
            }
        }
        writeBack(shard)
        updateDegraded()
    }

    func shardDidDisconnect(_ shard: RedisShard) {
        heartbeats[shard.index] = [:]
        updateDegraded()
    }

    func subscriberDidChange(_ shard: RedisShard) {
        updateDegraded()
    }

    func channelSubscribed(_ channel: String) {
        guard let documentID = Self.documentID(fromChannel: channel) else { return }
        updateDegraded()
        delegate?.presenceStore(self, didSubscribe: documentID)
    }

    func received(_ bytes: [UInt8], on channel: String) {
        guard let documentID = Self.documentID(fromChannel: channel) else { return }
        let message: RelayMessage
        do {
            message = try RelayMessage(decoding: bytes)
        } catch {
            metrics.error(kind: "invalid_message")
            logger.log(
                .warning, "ignored an invalid relay message", metadata: ["document.id": documentID, "error": "\(error)"],
                limitedBy: Self.writeLogLimiter, key: "redis.relay")
            return
        }
        guard message.nodeID != nodeID else { return }
        let now = clinux_wall_ms()
        metrics.relayLatency.labels().observe(Double(now &- min(now, message.sentAtMs)) / 1000)
        delegate?.presenceStore(self, didReceive: message, documentID: documentID)
    }

    private func updateDegraded() {
        let isDegraded = shards.contains { !$0.commands.isConnected || !$0.subscriber.connection.isConnected }
        if degraded.exchange(isDegraded, ordering: .relaxed) != isDegraded {
            metrics.degraded.labels().set(isDegraded ? 1 : 0)
            if isDegraded {
                logger.warning("Redis is unreachable; serving presence of this node's clients only")
            } else {
                logger.notice("every Redis shard is reachable again")
            }
        }
    }

    // MARK: - Helpers

    static var wallMsText: String { String(clinux_wall_ms()) }

    static let writeLogLimiter = LogRateLimiter(maxPerInterval: 5, intervalMs: 60_000)

    static func documentID(fromChannel channel: String) -> String? {
        let prefix = "presence:channel:"
        guard channel.hasPrefix(prefix) else { return nil }
        return String(channel.dropFirst(prefix.count))
    }

    static func pairs(_ reply: RedisReply, command: String) throws(RedisError) -> [(String, String)] {
        guard let elements = reply.array, elements.count % 2 == 0 else {
            throw .unexpectedReply(command: command, reply: "\(reply)")
        }
        var result: [(String, String)] = []
        result.reserveCapacity(elements.count / 2)
        var index = 0
        while index < elements.count {
            guard let key = elements[index].string, let value = elements[index + 1].string else {
                throw .unexpectedReply(command: command, reply: "\(reply)")
            }
            result.append((key, value))
            index += 2
        }
        return result
    }

    /// Decodes an HGETALL of a document's users hash; records that fail to decode are skipped.
    static func decodeUsers(_ reply: RedisReply) throws(RedisError) -> [UserPresence] {
        let decoder = JSONDecoder()
        let users = try pairs(reply, command: "HGETALL").compactMap { _, json in
            try? decoder.decode(UserPresence.self, from: Data(json.utf8))
        }
        return users.sorted { ($0.connectedAt, $0.userID) < ($1.connectedAt, $1.userID) }
    }
}
