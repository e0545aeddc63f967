import CLinux
import Observability
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Routes a request to a response or a WebSocket upgrade; called on the connection's loop.
public typealias HTTPRouter = @Sendable (HTTPRequest, Connection) -> HTTPRouteResult

/// The state every connection of one listener on one loop shares, confined to that loop.
final class ServerLoopContext: @unchecked Sendable {
    // @unchecked Sendable: created on the starting thread, then used only on `loop`'s thread.
    let loop: EventLoop
    let configuration: HTTPServerConfiguration
    let router: HTTPRouter
    let metrics: TransportMetrics
    let logger: Logger
    let headParser: HTTPHeadParser
    let tls: TLSContext?
    let readBuffer: UnsafeMutableRawBufferPointer
    let tlsWriteBuffer: UnsafeMutableRawBufferPointer
    var connections: [UInt64: Connection] = [:]
    weak var server: HTTPServer?

    init(loop: EventLoop, configuration: HTTPServerConfiguration, router: @escaping HTTPRouter,
         metrics: TransportMetrics, logger: Logger, tls: TLSContext?) {
        self.loop = loop
        self.configuration = configuration
        self.router = router
        self.metrics = metrics
        self.logger = logger
        self.tls = tls
        headParser = HTTPHeadParser(maxHeadBytes: configuration.maxHeadBytes)
        readBuffer = .allocate(byteCount: 64 * 1024, alignment: 16)
        tlsWriteBuffer = .allocate(byteCount: 16 * 1024, alignment: 16)
    }

    deinit {
        readBuffer.deallocate()
        tlsWriteBuffer.deallocate()
    }

    func connectionClosed(_ connection: Connection) {
        if connections.removeValue(forKey: connection.id) != nil {
            metrics.openConnections.decrement()
            server?.connectionEnded(remoteHost: connection.remoteAddress.host)
        }
    }
}

/// Accepts connections on one address and serves them on every loop of a group.
///
/// The listening socket is registered with each loop using `EPOLLEXCLUSIVE`, so one loop wakes per
/// pending connection and connections spread over the loops.
public final class HTTPServer: @unchecked Sendable {
    // @unchecked Sendable: `contexts` and `listeners` are written once in `start` before any loop
    // uses them; afterwards each context is used only on its loop. Counters are atomics or guarded
    // by `perHost`.
    public let configuration: HTTPServerConfiguration
    private let group: EventLoopGroup
    private let router: HTTPRouter
    private let tls: TLSContext?
    private let logger: Logger
    private let metrics: TransportMetrics
    private var contexts: [ServerLoopContext] = []
    private var listenFD: Int32 = -1
    private let nextID = Atomic<UInt64>(1)
    private let open = Atomic<Int>(0)
    private let perHost = Mutex<[String: Int]>([:])
    private let accepting = Atomic<Bool>(false)

    /// Limits checked at accept time; 0 disables a limit.
    public var maxConnections = 0
    public var maxConnectionsPerHost = 0

    /// The bound address, with the real port when the configuration asked for port 0.
    public private(set) var boundAddress: SocketAddress?

    public init(configuration: HTTPServerConfiguration, group: EventLoopGroup, tls: TLSContext? = nil,
                registry: MetricsRegistry, logger: Logger, router: @escaping HTTPRouter) {
        self.configuration = configuration
        self.group = group
        self.router = router
        self.tls = tls
        self.logger = logger
        metrics = TransportMetrics(registry: registry, listener: configuration.name)
    }

    /// Open connections of this listener.
    public var connectionCount: Int { open.load(ordering: .relaxed) }

    /// Binds, listens and starts accepting on every loop; returns the bound address.
    @discardableResult
    public func start() throws(TransportError) -> SocketAddress {
        let (fd, address) = try Socket.listen(on: configuration.listen)
        listenFD = fd
        boundAddress = address
        contexts = group.loops.map { loop in
            let context = ServerLoopContext(loop: loop, configuration: configuration, router: router,
                                            metrics: metrics, logger: logger, tls: tls)
            context.server = self
            return context
        }
        accepting.store(true, ordering: .releasing)
        let done = Atomic<Int>(0)
        for context in contexts {
            context.loop.execute { [self] in
                let acceptor = Acceptor(server: self, context: context, fd: fd)
                do {
                    try context.loop.register(fd: fd, events: CLINUX_EPOLLIN | CLINUX_EPOLLEXCLUSIVE, handler: acceptor)
                } catch {
                    logger.error("cannot watch the listening socket", metadata: ["listener": configuration.name, "error": "\(error)"])
                }
                scheduleSweep(context)
                done.add(1, ordering: .releasing)
            }
        }
        while done.load(ordering: .acquiring) < contexts.count { usleep(1000) }
        logger.info("listener started", metadata: [
            "listener": configuration.name, "listen.address": "\(address)", "tls": tls == nil ? "off" : "on",
        ])
        return address
    }

    private func scheduleSweep(_ context: ServerLoopContext) {
        let config = configuration
        let interval = max(10, min(1000, config.pingIntervalMs / 2, config.pongTimeoutMs / 4, config.handshakeTimeoutMs / 2))
        context.loop.scheduleTimer(afterMs: interval) { [weak self, weak context] in
            guard let self, let context else { return }
            let now = clinux_monotonic_ns()
            for connection in Array(context.connections.values) { connection.sweep(nowNs: now) }
            self.scheduleSweep(context)
        }
    }

    fileprivate func accept(on context: ServerLoopContext, fd: Int32) {
        while accepting.load(ordering: .relaxed), let (socket, remote) = Socket.accept(fd) {
            if !admit(remoteHost: remote.host) {
                metrics.rejectedConnections.increment()
                let response = HTTPResponse.text(503, "too many connections; try again later").serialized(keepAlive: false)
                _ = response.withUnsafeBytes { write(socket, $0.baseAddress, $0.count) }
                close(socket)
                continue
            }
            let id = nextID.add(1, ordering: .relaxed).newValue
            let connection = Connection(id: id, fd: socket, remoteAddress: remote, loop: context.loop,
                                        server: context, tls: tls)
            do {
                try context.loop.register(fd: socket, events: CLINUX_EPOLLIN | CLINUX_EPOLLRDHUP, handler: connection)
            } catch {
                close(socket)
                connectionEnded(remoteHost: remote.host)
                continue
            }
            context.connections[id] = connection
            metrics.acceptedConnections.increment()
            metrics.openConnections.increment()
        }
    }

    private func admit(remoteHost: String) -> Bool {
        let total = open.add(1, ordering: .relaxed).newValue
        if maxConnections > 0 && total > maxConnections {
            open.subtract(1, ordering: .relaxed)
            return false
        }
        let allowed = perHost.withLock { counts in
            let count = counts[remoteHost, default: 0] + 1
            if maxConnectionsPerHost > 0 && count > maxConnectionsPerHost { return false }
            counts[remoteHost] = count
            return true
        }
        if !allowed { open.subtract(1, ordering: .relaxed) }
        return allowed
    }

    fileprivate func connectionEnded(remoteHost: String) {
        open.subtract(1, ordering: .relaxed)
        perHost.withLock { counts in
            let count = counts[remoteHost, default: 1] - 1
            counts[remoteHost] = count > 0 ? count : nil
        }
    }

    /// Stops accepting new connections; open ones go on.
    public func stopAccepting() {
        guard accepting.exchange(false, ordering: .acquiringAndReleasing) else { return }
        let fd = listenFD
        let remaining = Atomic<Int>(contexts.count)
        for context in contexts {
            context.loop.execute {
                context.loop.unregister(fd: fd)
                if remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 { close(fd) }
            }
        }
        logger.info("listener stopped accepting", metadata: ["listener": configuration.name])
    }

    /// Closes every WebSocket with `code` and every other connection at once.
    public func closeAll(code: UInt16, reason: String) {
        for context in contexts {
            context.loop.execute {
                for connection in Array(context.connections.values) {
                    if connection.state == .webSocket {
                        connection.close(code: code, reason: reason)
                    } else if connection.state != .closing {
                        connection.teardown()
                    }
                }
            }
        }
    }
}

/// The epoll handler of the listening socket on one loop.
private final class Acceptor: EventLoopHandler {
    private unowned let server: HTTPServer
    private let context: ServerLoopContext
    private let fd: Int32

    init(server: HTTPServer, context: ServerLoopContext, fd: Int32) {
        self.server = server
        self.context = context
        self.fd = fd
    }

    func handleEvents(_ events: UInt32) {
        server.accept(on: context, fd: fd)
    }
}
