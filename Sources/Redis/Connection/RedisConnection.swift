import CLinux
import Dispatch
import Observability
import Transport

#if canImport(Glibc)
import Glibc
#endif

/// What a `RedisConnection` reports to its owner, on the connection's loop.
protocol RedisConnectionDelegate: AnyObject {
    /// The connection is up and logged in; commands may be sent.
    func redisConnectionDidConnect(_ connection: RedisConnection)
    /// A connected connection was lost. Commands in flight have already failed.
    func redisConnectionDidDisconnect(_ connection: RedisConnection)
    /// A pub/sub message or (un)subscribe confirmation, on a connection in subscriber mode.
    func redisConnection(_ connection: RedisConnection, didReceivePush reply: RedisReply)
}

/// One logical connection to one Redis server that reconnects by itself.
///
/// Owned by one event loop: every method, callback and completion runs on `loop`. A lost or failed
/// connection waits a capped, jittered exponential backoff and tries again, logging each failure
/// once per backoff step. Commands are never queued while the connection is down: `send` fails at
/// once, so a Redis outage costs no memory. While up, at most `maxPendingCommands` commands await
/// replies, and a reply that takes longer than `commandTimeoutMs` drops the connection, because a
/// server that stopped answering looks the same as a dead one.
final class RedisConnection: HiredisAdapterDelegate {
    enum Mode {
        /// Replies are matched to the commands sent, in order.
        case commands
        /// Replies are pub/sub pushes for the delegate; SUBSCRIBE and UNSUBSCRIBE have no completion.
        case subscriber
    }

    enum State {
        /// Not started, or stopped by `close()`.
        case idle
        /// Resolving the host name on a background thread.
        case resolving
        /// TCP connect, AUTH and SELECT in progress.
        case connecting(adapter: HiredisAdapter, handshakeRepliesLeft: Int)
        case connected(adapter: HiredisAdapter)
        /// Waiting before the next attempt.
        case backingOff(timerID: UInt64)
    }

    typealias Completion = (Result<RedisReply, RedisError>) -> Void

    private struct Pending {
        let requestID: UInt64
        let command: String
        let sentAtMs: UInt64
        let completion: Completion?
    }

    let loop: EventLoop
    let address: RedisServerAddress
    let mode: Mode
    /// A short name for logs and metric labels, such as `shard0` or `shard0-pubsub`.
    let name: String
    weak var delegate: RedisConnectionDelegate?

    var backoff = ReconnectBackoff()
    var connectTimeoutMs: UInt64 = 2_000
    var commandTimeoutMs: UInt64 = 5_000
    var maxPendingCommands = 100_000

    private(set) var state: State = .idle
    /// Consecutive failed attempts since the last successful connect.
    private(set) var failedAttempts = 0
    private var lastLoggedCeilingMs: UInt64 = 0
    private var lastCapLogMs: UInt64 = 0
    private var nextRequestID: UInt64 = 1
    private var pending: [Pending] = []
    private var pendingHead = 0
    private var connectTimerID: UInt64?
    private var watchdogTimerID: UInt64?
    /// Increases on every attempt, so that a late resolver result for an old attempt is ignored.
    private var attemptGeneration: UInt64 = 0
    private let logger: Logger
    private let metrics: RedisMetrics

    init(
        loop: EventLoop, address: RedisServerAddress, mode: Mode, name: String, metrics: RedisMetrics,
        logger: Logger
    ) {
        self.loop = loop
        self.address = address
        self.mode = mode
        self.name = name
        self.metrics = metrics
        self.logger = logger.with(["redis.url": address.description, "redis.connection": name])
    }

    var isConnected: Bool {
        if case .connected = state { return true }
        return false
    }

    /// Number of commands sent and not yet answered.
    var pendingCount: Int { pending.count - pendingHead }

    /// Starts connecting; does nothing unless idle.
    func start() {
        loop.preconditionInEventLoop()
        guard case .idle = state else { return }
        attempt()
    }

    /// Closes the connection and stops reconnecting. Commands in flight fail with `connectionLost`.
    func close() {
        loop.preconditionInEventLoop()
        let wasConnected = isConnected
        tearDown()
        state = .idle
        failPending(reason: "the connection was closed")
        if wasConnected { metrics.connectedChanged(name: name, connected: false) }
    }

    /// Sends one command. `completion` runs exactly once on the loop, with the reply, a server
    /// error as `.server`, or the reason it was not sent or not answered. It may run before `send`
    /// returns when the command cannot be sent.
    func send(_ arguments: [String], completion: Completion? = nil) {
        send(arguments.map { Array($0.utf8) }, command: arguments.first ?? "", completion: completion)
    }

    func send(_ arguments: [[UInt8]], command: String, completion: Completion?) {
        loop.preconditionInEventLoop()
        guard case .connected(let adapter) = state else {
            metrics.error(kind: "not_connected")
            completion?(.failure(.notConnected(server: address.description)))
            return
        }
        if mode == .commands, pendingCount >= maxPendingCommands {
            metrics.error(kind: "overloaded")
            completion?(.failure(.overloaded(server: address.description, pending: pendingCount)))
            return
        }
        let requestID = nextRequestID
        nextRequestID += 1
        guard adapter.send(arguments, requestID: requestID) else {
            metrics.error(kind: "not_connected")
            completion?(.failure(.notConnected(server: address.description)))
            return
        }
        metrics.command(command)
        if mode == .commands {
            pending.append(Pending(requestID: requestID, command: command, sentAtMs: nowMs, completion: completion))
            armWatchdog()
        }
    }

    // MARK: - Attempts

    private func attempt() {
        attemptGeneration += 1
        if Self.isNumericAddress(address.host) {
            connect(ip: address.host)
            return
        }
        // getaddrinfo blocks, so a host name is resolved off the loop.
        state = .resolving
        let generation = attemptGeneration
        let host = address.host
        let loop = self.loop
        let resolved = UnsafeSendableBox(self)
        DispatchQueue.global().async {
            let ip = Self.resolve(host)
            loop.execute {
                let connection = resolved.value
                guard connection.attemptGeneration == generation, case .resolving = connection.state else { return }
                if let ip {
                    connection.connect(ip: ip)
                } else {
                    connection.attemptFailed("cannot resolve the host name \"\(host)\"")
                }
            }
        }
    }

    private func connect(ip: String) {
        let adapter: HiredisAdapter
        do {
            adapter = try HiredisAdapter(loop: loop, ip: ip, port: address.port, delegate: self)
        } catch {
            attemptFailed("\(error)")
            return
        }
        state = .connecting(adapter: adapter, handshakeRepliesLeft: 0)
        let generation = attemptGeneration
        connectTimerID = loop.scheduleTimer(afterMs: connectTimeoutMs) { [weak self] in
            guard let self, self.attemptGeneration == generation, case .connecting = self.state else { return }
            self.connectTimerID = nil
            self.attemptFailed("no connection after \(self.connectTimeoutMs) ms")
        }
    }

    func adapterDidConnect(_ adapter: HiredisAdapter) {
        guard case .connecting(let current, _) = state, current === adapter else { return }
        var handshake: [[String]] = []
        if let password = address.password { handshake.append(["AUTH", password]) }
        if address.database != 0 { handshake.append(["SELECT", String(address.database)]) }
        guard !handshake.isEmpty else {
            becomeConnected(adapter)
            return
        }
        state = .connecting(adapter: adapter, handshakeRepliesLeft: handshake.count)
        for command in handshake {
            let requestID = nextRequestID
            nextRequestID += 1
            // Handshake replies are matched by the `.connecting` state, never by `pending`.
            _ = adapter.send(command.map { Array($0.utf8) }, requestID: requestID)
        }
    }

    private func handshakeReply(_ reply: RedisReply?, adapter: HiredisAdapter, left: Int) {
        if let message = reply?.errorMessage {
            attemptFailed("the server rejected the login: \(message)")
            return
        }
        guard reply != nil else { return }
        if left <= 1 {
            becomeConnected(adapter)
        } else {
            state = .connecting(adapter: adapter, handshakeRepliesLeft: left - 1)
        }
    }

    private func becomeConnected(_ adapter: HiredisAdapter) {
        cancelConnectTimer()
        state = .connected(adapter: adapter)
        if failedAttempts > 0 {
            logger.notice("connected to Redis again", metadata: ["redis.failed_attempts": "\(failedAttempts)"])
        } else {
            logger.info("connected to Redis")
        }
        failedAttempts = 0
        lastLoggedCeilingMs = 0
        metrics.connectedChanged(name: name, connected: true)
        delegate?.redisConnectionDidConnect(self)
    }

    func adapter(_ adapter: HiredisAdapter, didFail reason: String) {
        switch state {
        case .connecting(let current, _) where current === adapter:
            attemptFailed(reason)
        case .connected(let current) where current === adapter:
            connectionLost(reason)
        default:
            break
        }
    }

    func adapter(_ adapter: HiredisAdapter, didReceive reply: RedisReply?, for requestID: UInt64) {
        switch state {
        case .connecting(let current, let left) where current === adapter:
            handshakeReply(reply, adapter: adapter, left: left)
        case .connected(let current) where current === adapter:
            if mode == .subscriber {
                if let reply { delegate?.redisConnection(self, didReceivePush: reply) }
                return
            }
            guard pendingHead < pending.count, pending[pendingHead].requestID == requestID else { return }
            let entry = pending[pendingHead]
            pendingHead += 1
            compactPending()
            guard let reply else {
                entry.completion?(.failure(.connectionLost(server: address.description, reason: "connection closed")))
                return
            }
            if let message = reply.errorMessage {
                if !message.hasPrefix("NOSCRIPT") { metrics.error(kind: "server") }
                entry.completion?(.failure(.server(message: message)))
            } else {
                entry.completion?(.success(reply))
            }
        default:
            break
        }
    }

    /// A connect attempt failed: log once per backoff step and schedule the next attempt.
    private func attemptFailed(_ reason: String) {
        tearDown()
        failedAttempts += 1
        metrics.error(kind: "connect")
        let delay = backoff.delayMs(attempt: failedAttempts)
        let ceiling = backoff.ceilingMs(attempt: failedAttempts)
        let now = nowMs
        if ceiling != lastLoggedCeilingMs || now >= lastCapLogMs + 60_000 {
            lastLoggedCeilingMs = ceiling
            lastCapLogMs = now
            logger.warning(
                "cannot connect to Redis; retrying",
                metadata: [
                    "error": reason, "redis.attempt": "\(failedAttempts)", "retry.delay_ms": "\(delay)",
                ])
        }
        scheduleRetry(afterMs: delay)
    }

    /// A working connection dropped: fail what was in flight, tell the owner, retry soon.
    private func connectionLost(_ reason: String) {
        tearDown()
        logger.warning("lost the connection to Redis; reconnecting", metadata: ["error": reason])
        metrics.connectedChanged(name: name, connected: false)
        failPending(reason: reason)
        failedAttempts = 1
        let delay = backoff.delayMs(attempt: 1)
        lastLoggedCeilingMs = backoff.ceilingMs(attempt: 1)
        lastCapLogMs = nowMs
        scheduleRetry(afterMs: delay)
        delegate?.redisConnectionDidDisconnect(self)
    }

    private func scheduleRetry(afterMs delay: UInt64) {
        let generation = attemptGeneration
        let timerID = loop.scheduleTimer(afterMs: delay) { [weak self] in
            guard let self, self.attemptGeneration == generation, case .backingOff = self.state else { return }
            self.metrics.reconnect(name: self.name)
            self.attempt()
        }
        state = .backingOff(timerID: timerID)
    }

    /// Releases the adapter and timers. The state is set by the caller.
    private func tearDown() {
        cancelConnectTimer()
        if let watchdogTimerID {
            loop.cancelTimer(watchdogTimerID)
            self.watchdogTimerID = nil
        }
        switch state {
        case .backingOff(let timerID):
            loop.cancelTimer(timerID)
        case .connecting(let adapter, _), .connected(let adapter):
            adapter.delegate = nil
        case .idle, .resolving:
            break
        }
        attemptGeneration += 1
        state = .idle
    }

    private func cancelConnectTimer() {
        if let connectTimerID {
            loop.cancelTimer(connectTimerID)
            self.connectTimerID = nil
        }
    }

    private func failPending(reason: String) {
        let failed = pending[pendingHead...]
        pending.removeAll()
        pendingHead = 0
        for entry in failed {
            metrics.error(kind: "connection_lost")
            entry.completion?(.failure(.connectionLost(server: address.description, reason: reason)))
        }
    }

    private func compactPending() {
        if pendingHead == pending.count {
            pending.removeAll(keepingCapacity: true)
            pendingHead = 0
        } else if pendingHead > 1024, pendingHead * 2 > pending.count {
            pending.removeFirst(pendingHead)
            pendingHead = 0
        }
    }

    // MARK: - Reply watchdog

    /// Checks once a second that the oldest command in flight is younger than `commandTimeoutMs`.
    private func armWatchdog() {
        guard watchdogTimerID == nil else { return }
        watchdogTimerID = loop.scheduleTimer(afterMs: 1_000) { [weak self] in
            guard let self else { return }
            self.watchdogTimerID = nil
            guard self.isConnected, self.pendingCount > 0 else { return }
            let waitedMs = self.nowMs &- self.pending[self.pendingHead].sentAtMs
            if waitedMs > self.commandTimeoutMs {
                self.metrics.error(kind: "timeout")
                self.connectionLost("no reply to \(self.pending[self.pendingHead].command) for \(waitedMs) ms")
            } else {
                self.armWatchdog()
            }
        }
    }

    // MARK: - Helpers

    private var nowMs: UInt64 { clinux_monotonic_ns() / 1_000_000 }

    static func isNumericAddress(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    /// Returns the first address of `host` as numeric text, preferring IPv4, or nil.
    static func resolve(_ host: String) -> String? {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return nil }
        defer { freeaddrinfo(list) }
        var candidates: [String] = []
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(
                current.pointee.ai_addr, current.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0,
                NI_NUMERICHOST) == 0
            {
                let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if current.pointee.ai_family == AF_INET { return text }
                candidates.append(text)
            }
            entry = current.pointee.ai_next
        }
        return candidates.first
    }
}

/// Carries a loop-confined object through a background thread that never touches it; the loop
/// task that unwraps it runs on the owning loop.
struct UnsafeSendableBox<Value>: @unchecked Sendable {
    // @unchecked Sendable: the value is only read inside a task on its owning loop.
    let value: Value
    init(_ value: Value) { self.value = value }
}
