/// Settings of `RedisPresenceStore`, from the gateway's `[redis]` and `[presence]` sections.
public struct RedisStoreConfiguration: Sendable {
    /// One server, or the shards in configuration order.
    public var servers: [RedisServerAddress]
    /// Stream that joins and leaves are appended to.
    public var stream: String
    /// Approximate cap of the stream (`XADD … MAXLEN ~`), in entries.
    public var streamMaxLength: Int
    /// This node's id, unique among the nodes sharing these servers.
    public var nodeID: String
    /// Time between heartbeats, in ms. The node writes its heartbeat and checks the others twice
    /// per interval.
    public var heartbeatIntervalMs: UInt64
    /// Time without a heartbeat after which a node's users are removed, in ms; at least twice
    /// `heartbeatIntervalMs`.
    public var nodeTimeoutMs: UInt64
    /// TTL of the presence keys, refreshed while a document has users, in seconds.
    public var presenceTTLSeconds: UInt64
    public var backoff: ReconnectBackoff
    public var connectTimeoutMs: UInt64
    /// Time the oldest command may wait for its reply before the connection counts as dead, in ms.
    public var commandTimeoutMs: UInt64
    /// Commands that may await replies on one connection; more are not sent and are written back later.
    public var maxPendingCommands: Int

    public init(
        servers: [RedisServerAddress], stream: String = "materi:events:presence", streamMaxLength: Int = 100_000,
        nodeID: String, heartbeatIntervalMs: UInt64 = 2_000, nodeTimeoutMs: UInt64 = 10_000,
        presenceTTLSeconds: UInt64 = 30, backoff: ReconnectBackoff = ReconnectBackoff(),
        connectTimeoutMs: UInt64 = 2_000, commandTimeoutMs: UInt64 = 5_000, maxPendingCommands: Int = 100_000
    ) {
        precondition(!servers.isEmpty, "the Redis store needs at least one server")
        precondition(!nodeID.isEmpty, "the Redis store needs a node id")
        precondition(nodeTimeoutMs >= 2 * heartbeatIntervalMs, "node timeout must be at least two heartbeat intervals")
        self.servers = servers
        self.stream = stream
        self.streamMaxLength = streamMaxLength
        self.nodeID = nodeID
        self.heartbeatIntervalMs = heartbeatIntervalMs
        self.nodeTimeoutMs = nodeTimeoutMs
        self.presenceTTLSeconds = presenceTTLSeconds
        self.backoff = backoff
        self.connectTimeoutMs = connectTimeoutMs
        self.commandTimeoutMs = commandTimeoutMs
        self.maxPendingCommands = maxPendingCommands
    }

    /// Age of a heartbeat after which its node counts as dead, in ms. Half an interval below the
    /// timeout, because survivors check only every half interval, so a dead node's users are
    /// removed within `nodeTimeoutMs` of its last heartbeat.
    var stalenessThresholdMs: UInt64 { nodeTimeoutMs - heartbeatIntervalMs / 2 }

    /// TTL of a node's members hash, in seconds. Long, so that a node restarting after the whole
    /// cluster was down still finds and removes what its previous run held.
    static let nodeMembersTTLSeconds: UInt64 = 86_400
}
