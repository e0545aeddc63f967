import Observability
import Transport

/// One Redis server of the store: a command connection, a pub/sub connection, and whether this
/// node's presence there is current.
///
/// Owned by the store's event loop, like everything it holds.
final class RedisShard: RedisConnectionDelegate, RedisSubscriberDelegate {
    let index: Int
    let address: RedisServerAddress
    let commands: RedisConnection
    let subscriber: RedisSubscriber
    unowned let store: RedisPresenceStore

    /// True once the write-back after a connect has been sent, so later writes follow it in order.
    var isReady = false
    /// Whether this node has already removed what a previous run with the same node id left here.
    var sweptPreviousRun = false
    /// True until the first heartbeat after a connect has been answered.
    var awaitingFirstHeartbeat = true
    /// Documents whose writes failed while the connection was up; written back on the next tick.
    var dirtyDocuments: Set<String> = []
    /// True while SCRIPT LOAD commands are awaiting replies, so that a burst of NOSCRIPT replies
    /// loads the scripts once.
    private var loadingScripts = false

    init(index: Int, address: RedisServerAddress, store: RedisPresenceStore, configuration: RedisStoreConfiguration,
         loop: EventLoop, metrics: RedisMetrics, logger: Logger) {
        self.index = index
        self.address = address
        self.store = store
        commands = RedisConnection(
            loop: loop, address: address, mode: .commands, name: "shard\(index)", metrics: metrics, logger: logger)
        let pubsub = RedisConnection(
            loop: loop, address: address, mode: .subscriber, name: "shard\(index)-pubsub", metrics: metrics,
            logger: logger)
        for connection in [commands, pubsub] {
            connection.backoff = configuration.backoff
            connection.commandTimeoutMs = configuration.commandTimeoutMs
            connection.connectTimeoutMs = configuration.connectTimeoutMs
            connection.maxPendingCommands = configuration.maxPendingCommands
        }
        subscriber = RedisSubscriber(connection: pubsub)
        commands.delegate = self
        subscriber.delegate = self
    }

    func start() {
        commands.start()
        subscriber.connection.start()
    }

    func close() {
        isReady = false
        commands.close()
        subscriber.connection.close()
    }

    /// Runs `script` with EVALSHA.
    ///
    /// A NOSCRIPT reply goes to `completion` as a `.server` error and is not retried with EVAL,
    /// because a retry would reach Redis after the commands sent behind it and apply one user's
    /// writes out of order (a store after its remove leaves the user present). The callers write
    /// the document again from the local copy instead. A NOSCRIPT also loads every script again.
    func run(
        _ script: RedisScript, keys: [String], arguments: [String],
        completion: ((Result<RedisReply, RedisError>) -> Void)? = nil
    ) {
        let tail = [String(keys.count)] + keys + arguments
        commands.send(["EVALSHA", script.sha] + tail) { [weak self] result in
            if case .failure(let error) = result, error.isMissingScript {
                self?.loadScripts()
            }
            completion?(result)
        }
    }

    /// Sends SCRIPT LOAD for every script, unless a load is already in flight. Redis runs the
    /// commands of one connection in order, so every EVALSHA sent after this on the same
    /// connection finds its script, unless the script cache is flushed again.
    private func loadScripts() {
        guard !loadingScripts else { return }
        loadingScripts = true
        var remaining = RedisScript.all.count
        for script in RedisScript.all {
            commands.send(["SCRIPT", "LOAD", script.source]) { [weak self] result in
                guard let self else { return }
                remaining -= 1
                if remaining == 0 { self.loadingScripts = false }
                if case .failure(let error) = result, !error.isConnectionFailure {
                    self.store.logger.warning(
                        "loading a Lua script into Redis failed",
                        metadata: ["redis.shard": "\(self.index)", "script": script.name, "error": "\(error)"])
                }
            }
        }
    }

    // MARK: - RedisConnectionDelegate (command connection)

    func redisConnectionDidConnect(_ connection: RedisConnection) {
        awaitingFirstHeartbeat = true
        // A new connection may reach a server with an empty script cache (a fresh start or a
        // restart). Loading the scripts before the first EVALSHA keeps every write in order.
        loadingScripts = false
        loadScripts()
        store.shardDidConnect(self)
    }

    func redisConnectionDidDisconnect(_ connection: RedisConnection) {
        isReady = false
        // A server that stopped answering leaves the pub/sub connection open but silent, so start
        // it again together with the command connection.
        if subscriber.connection.isConnected {
            subscriber.connection.close()
            subscriber.connection.start()
        }
        store.shardDidDisconnect(self)
    }

    func redisConnection(_ connection: RedisConnection, didReceivePush reply: RedisReply) {}

    // MARK: - RedisSubscriberDelegate

    func subscriber(_ subscriber: RedisSubscriber, didSubscribe channel: String) {
        store.channelSubscribed(channel)
    }

    func subscriber(_ subscriber: RedisSubscriber, didReceive message: [UInt8], on channel: String) {
        store.received(message, on: channel)
    }

    func subscriberDidConnect(_ subscriber: RedisSubscriber) {
        store.subscriberDidChange(self)
    }

    func subscriberDidDisconnect(_ subscriber: RedisSubscriber) {
        store.subscriberDidChange(self)
    }
}
