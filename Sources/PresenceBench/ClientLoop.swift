import CLinux

#if canImport(Glibc)
import Glibc
#endif

/// The scenario-specific half of a loop: decides whom to connect, what to send and how to read what
/// arrives. Every method runs on the loop's thread.
protocol LoopWorkload: AnyObject {
    /// Runs once before the loop's first wait, to open the initial connections.
    func start(loop: ClientLoop)
    /// Handles a finished upgrade of `connection`, typically by sending the join.
    func connectionOpened(_ connection: ConnectionID, tag: Int, loop: ClientLoop)
    /// Handles a text or binary message. `text` is valid only during the call.
    func messageReceived(_ text: UnsafeRawBufferPointer, connection: ConnectionID, tag: Int, loop: ClientLoop)
    /// Handles the end of `connection` when the workload did not close it.
    func connectionFailed(_ connection: ConnectionID, tag: Int, failure: ConnectionFailure, loop: ClientLoop)
    /// Runs due work and returns the run clock time of the next due work, or nil for none.
    func tick(nowUs: UInt64, phase: RunPhase, loop: ClientLoop) -> UInt64?
}

/// One epoll loop that drives many client connections on one thread.
///
/// The loop and its workload belong to the loop's thread from `run()` until it returns. The
/// coordinator reads their counters only after joining that thread.
final class ClientLoop {
    let index: Int
    let control: RunControl
    let endpoints: [ServerEndpoint]
    /// At most this many connections are connecting or upgrading at once, so that a burst of opens
    /// does not overflow the server's accept backlog.
    let connectConcurrency: Int
    /// Number of loopback source addresses (127.0.0.1, 127.0.0.2, ...) to spread connections to an
    /// IPv4 loopback server over. Linux finds a free ephemeral port for each connect by a search
    /// that grows with the connections already open to the same address and port, which with
    /// 20,000 connections from one source address costs the generator seconds of CPU.
    let sourceAddressCount: Int
    private var nextSourceAddress = 0
    /// A connection whose unsent bytes pass this bound is failed with `sendQueueFull`.
    static let maxQueuedBytes = 4 << 20
    /// Time the servers get to reply to the close frames sent when a run ends, in seconds.
    static let closeTimeoutSeconds = 3.0
    private static let readChunkBytes = 256 << 10

    var random: SeededGenerator
    var workload: LoopWorkload?
    var counters = LoopCounters()

    let epollFD: Int32
    private(set) var connections: [ClientConnection?] = []
    private var generations: [UInt32] = []
    private var freeSlots: [Int] = []
    private var connectQueue: [ConnectionID] = []
    private var connectQueueHead = 0
    private var connectsInFlight = 0
    private var pendingFailures: [(ConnectionID, Int, ConnectionFailure)] = []
    private var sawActivity = false
    /// Set once the run has ended, after which failures are no longer counted or reported.
    private var isShuttingDown = false
    let readBuffer: UnsafeMutableRawBufferPointer
    /// Scratch space for encoding one outgoing frame, reused to avoid an allocation per send.
    var frameBuffer: [UInt8] = []

    init(
        index: Int, control: RunControl, endpoints: [ServerEndpoint], seed: UInt64, connectConcurrency: Int,
        sourceAddressCount: Int
    ) throws(BenchError) {
        self.index = index
        self.control = control
        self.endpoints = endpoints
        self.connectConcurrency = connectConcurrency
        self.sourceAddressCount = sourceAddressCount
        nextSourceAddress = index
        self.random = SeededGenerator(seed: seed, stream: index)
        let epollFD = clinux_epoll_create()
        guard epollFD >= 0 else { throw BenchError("epoll_create failed: \(errorText(errno))") }
        self.epollFD = epollFD
        readBuffer = .allocate(byteCount: Self.readChunkBytes, alignment: 16)
        frameBuffer.reserveCapacity(1024)
    }

    deinit {
        for connection in connections.compactMap({ $0 }) where connection.fd >= 0 { Glibc.close(connection.fd) }
        Glibc.close(epollFD)
        readBuffer.deallocate()
    }

    /// Records that a message the scenario waits on arrived, for the coordinator's quiet check.
    func markActivity() {
        sawActivity = true
    }

    // MARK: - Running

    /// Runs until the coordinator enters `stopping`, then closes every connection.
    func run() {
        workload?.start(loop: self)
        var events = [clinux_ready_event](repeating: clinux_ready_event(), count: 512)
        while true {
            let phase = control.phase
            if phase == .stopping { break }
            startQueuedConnects()
            let now = control.clock.nowUs()
            let due = workload?.tick(nowUs: now, phase: phase, loop: self)
            deliverFailures()
            var timeoutMs: Int32 = 10
            if let due { timeoutMs = due <= now ? 0 : Int32(min(10, (due - now + 999) / 1000)) }
            if !pendingFailures.isEmpty || hasStartableConnects { timeoutMs = 0 }

            let count = events.withUnsafeMutableBufferPointer { buffer in
                clinux_epoll_wait(epollFD, buffer.baseAddress, Int32(buffer.count), timeoutMs)
            }
            if count < 0 {
                if errno == EINTR { continue }
                fatalError("epoll_wait failed on loop \(index): \(errorText(errno))")
            }
            for event in events[0..<Int(count)] { handle(event) }
            deliverFailures()
            if sawActivity {
                sawActivity = false
                control.noteActivity(atUs: control.clock.nowUs())
            }
        }
        closeAll(events: &events)
    }

    /// Closes every connection with a close frame and waits up to `closeTimeoutSeconds` for the
    /// servers to close TCP first, as RFC 6455 section 7.1.1 recommends. The side that closes TCP first keeps
    /// the port in TIME_WAIT for a minute, and thousands of those on the generator's side would
    /// slow the next run's connects. Connections still open at the deadline are closed at once.
    private func closeAll(events: inout [clinux_ready_event]) {
        isShuttingDown = true
        for connection in connections.compactMap({ $0 }) {
            close(connection.id, mode: connection.isOpen ? .graceful : .immediate)
        }
        let deadline = control.clock.nowUs() + UInt64(Self.closeTimeoutSeconds * 1_000_000)
        while connections.contains(where: { $0 != nil }) && control.clock.nowUs() < deadline {
            let count = events.withUnsafeMutableBufferPointer { buffer in
                clinux_epoll_wait(epollFD, buffer.baseAddress, Int32(buffer.count), 10)
            }
            for event in events[0..<max(0, Int(count))] { handle(event) }
        }
        for connection in connections.compactMap({ $0 }) {
            close(connection.id, mode: .immediate)
        }
    }

    private func handle(_ event: clinux_ready_event) {
        let id = ConnectionID(epollData: event.data)
        guard let connection = connection(id) else { return }
        if case .connecting = connection.state {
            finishConnect(connection)
            return
        }
        if event.events & (CLINUX_EPOLLIN | CLINUX_EPOLLHUP | CLINUX_EPOLLERR | CLINUX_EPOLLRDHUP) != 0 {
            readAvailable(connection)
        }
        if !connection.isClosed, event.events & CLINUX_EPOLLOUT != 0 {
            flush(connection)
        }
    }

    func connection(_ id: ConnectionID) -> ClientConnection? {
        guard id.slot < connections.count, let connection = connections[id.slot], connection.id == id else { return nil }
        return connection
    }

    // MARK: - Opening

    /// Queues a new connection to endpoint `endpointIndex`; the workload hears of it again through
    /// `connectionOpened` or `connectionFailed`.
    @discardableResult
    func open(tag: Int, endpointIndex: Int) -> ConnectionID {
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
        } else {
            slot = connections.count
            connections.append(nil)
            generations.append(0)
        }
        generations[slot] &+= 1
        let id = ConnectionID(slot: slot, generation: generations[slot])
        connections[slot] = ClientConnection(id: id, tag: tag, endpointIndex: endpointIndex)
        connectQueue.append(id)
        return id
    }

    private var hasStartableConnects: Bool {
        connectQueueHead < connectQueue.count && connectsInFlight < connectConcurrency
    }

    private func startQueuedConnects() {
        while hasStartableConnects {
            let id = connectQueue[connectQueueHead]
            connectQueueHead += 1
            if let connection = connection(id), case .queued = connection.state { startConnect(connection) }
        }
        if connectQueueHead > 4096 && connectQueueHead * 2 > connectQueue.count {
            connectQueue.removeFirst(connectQueueHead)
            connectQueueHead = 0
        }
    }

    private func startConnect(_ connection: ClientConnection) {
        let endpoint = endpoints[connection.endpointIndex]
        let socketType = Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue)
        let fd = socket(endpoint.family, socketType, 0)
        guard fd >= 0 else {
            fail(connection, .connectFailed(errno: errno))
            return
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        connection.fd = fd
        if sourceAddressCount > 1 && endpoint.isIPv4Loopback {
            guard bindSourceAddress(fd) else {
                fail(connection, .connectFailed(errno: errno))
                return
            }
        }
        connection.holdsConnectSlot = true
        connectsInFlight += 1
        var address = endpoint.address
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, endpoint.addressLength) }
        }
        if result != 0 && errno != EINPROGRESS {
            fail(connection, .connectFailed(errno: errno))
            return
        }
        connection.state = .connecting
        connection.watchesWritable = true
        let interest = CLINUX_EPOLLIN | CLINUX_EPOLLOUT | CLINUX_EPOLLRDHUP
        if clinux_epoll_ctl(epollFD, CLINUX_EPOLL_CTL_ADD, fd, interest, connection.id.epollData) != 0 {
            fail(connection, .socketError(errno: errno))
        }
    }

    /// Binds `fd` to the next loopback source address, leaving the port to connect(), which then
    /// only has to avoid ports used towards the same server from that address.
    private func bindSourceAddress(_ fd: Int32) -> Bool {
        // IP_BIND_ADDRESS_NO_PORT (Linux 4.2, <linux/in.h>), which Glibc's headers do not export.
        let bindAddressNoPort: Int32 = 24
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_IP), bindAddressNoPort, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = (UInt32(0x7F00_0001) + UInt32(nextSourceAddress % sourceAddressCount)).bigEndian
        nextSourceAddress += 1
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    private func finishConnect(_ connection: ClientConnection) {
        var socketError: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(connection.fd, SOL_SOCKET, SO_ERROR, &socketError, &length)
        guard socketError == 0 else {
            fail(connection, .connectFailed(errno: socketError))
            return
        }
        var key = [UInt8](repeating: 0, count: 16)
        for index in key.indices { key[index] = UInt8(truncatingIfNeeded: random.next()) }
        let endpoint = endpoints[connection.endpointIndex]
        let handshake = WebSocketClientCodec.handshake(hostHeader: endpoint.hostHeader, path: endpoint.path, key: key)
        connection.state = .upgrading(expectedAccept: handshake.expectedAccept)
        handshake.request.withUnsafeBytes { write($0, to: connection) }
        if !connection.isClosed { updateInterest(connection) }
    }

    /// Marks the end of the upgrade, which frees a connect slot.
    func releaseConnectSlot(_ connection: ClientConnection) {
        if connection.holdsConnectSlot {
            connection.holdsConnectSlot = false
            connectsInFlight -= 1
        }
    }

    // MARK: - Closing

    /// Ends a connection on the workload's request; the workload hears nothing more of it.
    func close(_ id: ConnectionID, mode: CloseMode) {
        guard let connection = connection(id), !connection.isClosed else { return }
        if mode == .graceful, connection.isOpen {
            var code = UInt16(1000).bigEndian
            withUnsafeBytes(of: &code) { sendFrame(.close, payload: $0, on: connection) }
            if !connection.isClosed { connection.state = .closing }
            return
        }
        if mode == .abortive, connection.fd >= 0 {
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(connection.fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        }
        release(connection)
    }

    /// Closes a failed connection now and reports the failure to the workload after the current event.
    func fail(_ connection: ClientConnection, _ failure: ConnectionFailure) {
        guard !connection.isClosed else { return }
        if !isShuttingDown {
            counters.record(failure)
            pendingFailures.append((connection.id, connection.tag, failure))
        }
        release(connection)
    }

    /// Closes the socket and frees the slot. Leaves `inbound` untouched, because the caller may be
    /// parsing it.
    func release(_ connection: ClientConnection) {
        releaseConnectSlot(connection)
        if connection.fd >= 0 {
            Glibc.close(connection.fd)
            connection.fd = -1
        }
        connection.state = .closed
        connections[connection.id.slot] = nil
        freeSlots.append(connection.id.slot)
    }

    private func deliverFailures() {
        while !pendingFailures.isEmpty {
            let failures = pendingFailures
            pendingFailures.removeAll()
            for (id, tag, failure) in failures {
                workload?.connectionFailed(id, tag: tag, failure: failure, loop: self)
            }
        }
    }
}
