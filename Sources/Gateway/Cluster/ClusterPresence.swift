import CLinux
import Foundation
import Observability
import PresenceCore
import Redis
import Synchronization
import Transport

/// Presence shared with the other gateway nodes through Redis: the store, the relay of each room's
/// events to the other nodes, and the application of their events to the local rooms.
///
/// A room publishes what its members cause (`RoomRelay`). The store delivers what other nodes
/// publish on the document's channel, and this class hands each such event to the loop that owns
/// the room. When a room opens, its channel is subscribed and the document's state loaded from Redis,
/// and after Redis comes back every open document is loaded again, so members see the joins and
/// leaves that happened elsewhere meanwhile.
final class ClusterPresence: RedisPresenceStoreDelegate, RoomRelay, @unchecked Sendable {
    // @unchecked Sendable: `store` is Sendable. `service` is set once in `start` before any room
    // exists. `liveNodes`, `checkTimerID` and `nextLoadID` are touched only on the store's loop, and
    // each `NodeAbsences` only on its client loop.
    let store: RedisPresenceStore
    private let redisLoops: EventLoopGroup
    private let logger: Logger
    private unowned(unsafe) var service: PresenceService!
    private var liveNodes: Set<String> = []
    /// One record per client loop, each read and written only on its loop.
    private var absences: [NodeAbsences] = []
    private var checkTimerID: UInt64?
    /// The id of the last load from Redis, counted on the store's loop.
    private var nextLoadID: UInt64 = 0

    /// Creates the store on an event loop of its own, so Redis replies are not read behind client work.
    init(configuration: RedisStoreConfiguration, registry: MetricsRegistry, logger: Logger) throws {
        redisLoops = try EventLoopGroup(count: 1)
        self.logger = logger
        store = RedisPresenceStore(
            configuration: configuration, loop: redisLoops.loops[0], metrics: RedisMetrics(registry: registry),
            logger: logger)
    }

    var nodeID: String { store.nodeID }

    /// Whether a Redis server is unreachable, so each node serves only its own clients' presence.
    var isDegraded: Bool { store.isDegraded }

    /// Connects to Redis. Call once, before the listeners accept connections.
    func start(service: PresenceService) {
        self.service = service
        absences = service.loops.map { _ in NodeAbsences() }
        store.delegate = self
        store.start()
        store.loop.execute { [self] in scheduleNodeCheck() }
        logger.notice(
            "sharing presence through Redis",
            metadata: ["node.id": store.nodeID, "redis.shards": "\(store.configuration.servers.count)"])
    }

    /// Removes this node from Redis and closes the connections, waiting at most two seconds. Call
    /// after every local member has left, so their leaves reach Redis first.
    func shutdown() {
        let done = DispatchSemaphore(value: 0)
        store.loop.execute { [self] in
            if let checkTimerID { store.loop.cancelTimer(checkTimerID) }
            checkTimerID = nil
        }
        store.shutdown(timeoutMs: 2_000) { done.signal() }
        _ = done.wait(timeout: .now() + 3)
        redisLoops.stop()
    }

    // MARK: - Rooms (called on the room's loop)

    /// Longest time a new room holds its first snapshots back while the document loads from Redis.
    static let firstLoadTimeoutMs: UInt64 = 1_000

    /// Connects a new room to the other nodes: its events are published, and its channel is
    /// subscribed, which loads the document's users from Redis once the subscription is confirmed.
    /// Until then, at most `firstLoadTimeoutMs`, the room holds its snapshots back so that they
    /// include the users on other nodes. While Redis is unreachable nothing is held back.
    func attach(_ room: DocumentRoom) {
        room.relay = self
        store.subscribe(documentID: room.documentID)
        guard !store.isDegraded else { return }
        room.beginRemoteLoad()
        let owner = service.owner(of: room.documentID)
        owner.loop.scheduleTimer(afterMs: Self.firstLoadTimeoutMs) { [weak room] in
            guard let room else { return }
            owner.finishRemoteLoad(documentID: room.documentID)
        }
    }

    /// Stops listening to a document whose last local member left.
    func detach(documentID: String) {
        store.unsubscribe(documentID: documentID)
    }

    /// Loads a document again, for a room that had to apply a load without the relayed events
    /// that followed it. Called on the room's loop.
    // NOTE: only unit tests reach the condition that calls this (10,000 relayed events during one
    // load, or a load for a closed room); no cluster test runs it against redis-server.
    func reload(documentID: String) {
        store.loop.execute { [self] in
            guard store.isSubscribed(documentID: documentID) else { return }
            load(documentID)
        }
    }

    func room(_ room: DocumentRoom, publish event: PresenceEvent) {
        store.publish(documentID: room.documentID, event: event)
    }

    // MARK: - RedisPresenceStoreDelegate (called on the store's loop)

    func presenceStore(_ store: RedisPresenceStore, didReceive message: RelayMessage, documentID: String) {
        let owner = service.owner(of: documentID)
        owner.loop.execute {
            owner.applyRemote(documentID: documentID, event: message.event, from: message.nodeID)
        }
    }

    func presenceStore(_ store: RedisPresenceStore, didSubscribe documentID: String) {
        load(documentID)
    }

    func presenceStore(_ store: RedisPresenceStore, didResynchronize documentIDs: [String]) {
        for documentID in documentIDs where store.isSubscribed(documentID: documentID) {
            load(documentID)
        }
    }

    /// Records the live nodes. A node that becomes live again has written its presence back, so
    /// the documents where it held users are loaded again: a room kept those users unverified, and
    /// only a fresh load shows which of them left while Redis was away.
    func presenceStore(_ store: RedisPresenceStore, liveNodesChanged liveNodes: Set<String>) {
        let returned = liveNodes.subtracting(self.liveNodes)
        self.liveNodes = liveNodes
        guard !returned.isEmpty else { return }
        for state in service.loops {
            state.loop.execute { [self] in
                let documentIDs = state.documents(heldBy: returned)
                guard !documentIDs.isEmpty else { return }
                store.loop.execute { [self] in
                    for documentID in documentIDs { load(documentID) }
                }
            }
        }
    }

    /// Reads the document from Redis and makes the owning room match it. Redis may run the read
    /// before another node's join, while the join's relay message reaches this node before the
    /// read's reply. So the room first marks where the load was sent among the relayed events, and
    /// applies the events after the mark on top of what the load read.
    private func load(_ documentID: String) {
        nextLoadID += 1
        let loadID = nextLoadID
        let owner = service.owner(of: documentID)
        owner.loop.execute { owner.remoteLoadSent(documentID: documentID, loadID: loadID) }
        store.loadDocument(documentID: documentID) { [self] result in
            switch result {
            case .success(let snapshot):
                let nodeID = store.nodeID
                owner.loop.execute {
                    owner.reconcileRemote(documentID: documentID, snapshot: snapshot, selfNodeID: nodeID, loadID: loadID)
                }
            case .failure(let error):
                owner.loop.execute { owner.remoteLoadFailed(documentID: documentID, loadID: loadID) }
                // The next reconnect or subscription loads the document again.
                logger.warning(
                    "loading a document's presence from Redis failed",
                    metadata: ["document.id": documentID, "error": "\(error)"])
            }
        }
    }

    /// Every heartbeat interval, forgets the holdings of nodes that have been missing from the live
    /// set for the node timeout. The sweeper normally announces a dead node's leaves; this covers
    /// leaves this node missed while its pub/sub connection was down.
    private func scheduleNodeCheck() {
        let configuration = store.configuration
        checkTimerID = store.loop.scheduleTimer(afterMs: configuration.heartbeatIntervalMs) { [self] in
            checkTimerID = nil
            if !store.isDegraded {
                let live = liveNodes
                let timeoutMs = configuration.nodeTimeoutMs
                for (state, record) in zip(service.loops, absences) {
                    state.loop.execute {
                        state.dropMissingNodes(live: live, timeoutMs: timeoutMs, absences: record)
                    }
                }
            }
            scheduleNodeCheck()
        }
    }
}

/// When each remote node was first seen missing from the live set, for one client loop.
final class NodeAbsences: @unchecked Sendable {
    // @unchecked Sendable: created on the main thread, then read and written only on its loop.
    var firstMissingMs: [String: UInt64] = [:]
}

extension RedisStoreConfiguration {
    /// The store's settings from `[redis]` and `[presence]`. An empty `node_id` becomes a random
    /// one, which is fine because a restarted node has new connections anyway.
    init(gateway config: GatewayConfig) {
        let redis = config.redis
        let nodeID = redis.nodeID.isEmpty ? Self.randomNodeID() : redis.nodeID
        self.init(
            servers: redis.endpoints.map {
                RedisServerAddress(host: $0.host, port: $0.port, password: $0.password, database: $0.database)
            },
            stream: redis.stream, streamMaxLength: redis.streamMaxLength, nodeID: nodeID,
            heartbeatIntervalMs: UInt64(redis.heartbeatIntervalMs), nodeTimeoutMs: UInt64(redis.nodeTimeoutMs),
            presenceTTLSeconds: UInt64(config.presence.presenceTTLSeconds))
    }

    static func randomNodeID() -> String {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() as UInt64
        return "node-" + String(value, radix: 16)
    }
}
