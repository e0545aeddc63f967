import CLinux
import Observability

#if canImport(Glibc)
import Glibc
#endif

/// One accepted TCP connection (plain or TLS): HTTP/1.1 requests, then optionally WebSocket frames.
///
/// A connection belongs to the event loop that accepted it; every method must be called on that
/// loop. Output is queued and written once at the end of the loop's wake-up.
public final class Connection: EventLoopHandler, EventLoopFlushable {
    public enum State: Equatable {
        case tlsHandshake
        case http
        case webSocket
        /// A close frame was sent; waiting for the peer's, at most `closeTimeoutMs`.
        case closing
        case closed
    }

    public let id: UInt64
    public let loop: EventLoop
    public let remoteAddress: SocketAddress
    /// The upgrade request of a WebSocket connection.
    public internal(set) var upgradeRequest: HTTPRequestHead?
    public internal(set) var state: State
    /// Free for the layer above (the gateway keeps its session here).
    public var userData: AnyObject?

    let fd: Int32
    let server: ServerLoopContext
    var tls: TLSSession?
    var requestBuffer: [UInt8] = []
    var pendingHead: (HTTPRequestHead, Int)?
    var decoder: WebSocketFrameDecoder?
    var delegate: WebSocketDelegate?
    var queue = SendQueue()
    var flushScheduled = false
    var pollingForWrite = false
    var tlsWriteWantsRead = false
    var closeAfterFlush = false
    var awaitingResponse = false
    /// Set while an HTTP connection cannot process the requests it has (a response is deferred or
    /// will close the connection, or the send queue is over its bound). Reading stops meanwhile, so
    /// a client that pipelines requests without reading the responses meets TCP back-pressure
    /// instead of growing the request buffer and the send queue without bound.
    var readPaused = false
    /// The epoll events currently registered for `fd`.
    var registeredEvents = CLINUX_EPOLLIN | CLINUX_EPOLLRDHUP
    var closeReported = false
    var closeCode: UInt16 = WebSocketCloseCode.abnormal
    var closeReason = ""

    var lastActivityNs: UInt64
    var lastPingNs: UInt64
    var stateSinceNs: UInt64

    init(id: UInt64, fd: Int32, remoteAddress: SocketAddress, loop: EventLoop, server: ServerLoopContext, tls: TLSContext?) {
        self.id = id
        self.fd = fd
        self.remoteAddress = remoteAddress
        self.loop = loop
        self.server = server
        let now = clinux_monotonic_ns()
        lastActivityNs = now
        lastPingNs = now
        stateSinceNs = now
        if let tls, let session = TLSSession(context: tls, fd: fd) {
            self.tls = session
            state = .tlsHandshake
        } else {
            state = .http
        }
    }

    /// Bytes queued for this connection and not yet written.
    public var queuedBytes: Int { queue.byteCount }

    /// Frames replaced by newer ones with the same coalescing key.
    public var coalescedFrames: Int { queue.coalescedCount }

    // MARK: - Sending

    /// Queues an already framed WebSocket message (from `WebSocketFrameEncoder`). A non-zero
    /// `coalesceKey` lets a later frame with the same key replace this one while it is unsent.
    /// Returns false when the connection is closing or the queue passed its bound, in which case
    /// the connection is closed with 1008.
    @discardableResult
    public func sendFrame(_ frame: [UInt8], coalesceKey: UInt64 = 0) -> Bool {
        guard state == .webSocket else { return false }
        let coalescedBefore = queue.coalescedCount
        queue.append(frame, key: coalesceKey)
        if queue.coalescedCount != coalescedBefore { server.metrics.coalescedFrames.increment() }
        if queue.byteCount > server.configuration.sendQueueBytes {
            server.metrics.slowConsumerCloses.increment()
            queue.dropUnsent()
            close(code: WebSocketCloseCode.policyViolation,
                  reason: "send queue passed \(server.configuration.sendQueueBytes) bytes: the client reads too slowly")
            return false
        }
        requestFlush()
        return true
    }

    public func sendText(_ payload: [UInt8]) {
        sendFrame(WebSocketFrameEncoder.frame(.text, payload: payload))
    }

    public func sendBinary(_ payload: [UInt8]) {
        sendFrame(WebSocketFrameEncoder.frame(.binary, payload: payload))
    }

    /// Starts the closing handshake with `code`; the socket closes when the peer replies or after
    /// `closeTimeoutMs`.
    public func close(code: UInt16, reason: String) {
        guard state == .webSocket else {
            if state == .http || state == .tlsHandshake { shutdownAfterFlush() }
            return
        }
        closeCode = code
        closeReason = reason
        queue.append(WebSocketFrameEncoder.closeFrame(code: code, reason: reason), key: 0)
        enter(.closing)
        requestFlush()
    }

    func enter(_ next: State) {
        state = next
        stateSinceNs = clinux_monotonic_ns()
    }

    func requestFlush() {
        if !flushScheduled {
            flushScheduled = true
            loop.scheduleFlush(self)
        }
    }

    // MARK: - Events

    public func handleEvents(_ events: UInt32) {
        if readPaused && events & (CLINUX_EPOLLERR | CLINUX_EPOLLHUP) != 0 {
            // Reading is off, so nothing else would consume these level-triggered events, and a
            // peer that hung up cannot receive the queued responses anyway.
            teardown()
            return
        }
        if events & (CLINUX_EPOLLIN | CLINUX_EPOLLERR | CLINUX_EPOLLHUP) != 0 {
            if state == .tlsHandshake { continueHandshake() } else { readAvailable() }
            if tlsWriteWantsRead { flushPendingOutput() }
        }
        if events & CLINUX_EPOLLOUT != 0 && state != .closed {
            if state == .tlsHandshake {
                continueHandshake()
            } else {
                flushPendingOutput()
                if tls != nil { readAvailable() }
            }
        }
    }

    func continueHandshake() {
        guard let tls else { return }
        switch tls.handshake() {
        case .done:
            enter(.http)
            setWritePolling(false)
            readAvailable()
        case .wantRead:
            setWritePolling(false)
        case .wantWrite:
            setWritePolling(true)
        case .closed, .failed:
            server.metrics.tlsHandshakeFailures.increment()
            teardown()
        }
    }

    func readAvailable() {
        let buffer = server.readBuffer
        // A bounded number of reads per wake-up keeps one fast sender from starving the loop;
        // epoll is level-triggered, so the rest is read on the next wake-up.
        for _ in 0..<8 {
            guard state != .closed && state != .tlsHandshake && !readPaused else { return }
            let count: Int
            if let tls {
                switch tls.read(into: buffer) {
                case .done(let n): count = n
                case .wantRead: return
                case .wantWrite:
                    setWritePolling(true)
                    return
                case .closed:
                    peerClosed()
                    return
                case .failed:
                    teardown()
                    return
                }
            } else {
                let n = read(fd, buffer.baseAddress, buffer.count)
                if n < 0 {
                    if errno == EAGAIN || errno == EINTR { return }
                    teardown()
                    return
                }
                if n == 0 {
                    peerClosed()
                    return
                }
                count = n
            }
            lastActivityNs = clinux_monotonic_ns()
            server.metrics.bytesRead.increment(by: count)
            received(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            if count < buffer.count && tls == nil { return }
        }
    }

    func peerClosed() {
        if state == .http && !queue.isEmpty {
            shutdownAfterFlush()
        } else {
            teardown()
        }
    }

    func received(_ bytes: UnsafeRawBufferPointer) {
        switch state {
        case .http:
            requestBuffer.append(contentsOf: bytes)
            processRequests()
        case .webSocket, .closing:
            decodeFrames(bytes)
        case .tlsHandshake, .closed:
            return
        }
    }

    // MARK: - Writing

    public func flushPendingOutput() {
        flushScheduled = false
        guard state != .closed else { return }
        if !queue.isEmpty {
            let before = queue.byteCount
            let error: Int32? = tls == nil ? queue.write(to: fd) : writeTLS()
            server.metrics.bytesWritten.increment(by: before - queue.byteCount)
            if let error {
                if error == EAGAIN {
                    setWritePolling(true)
                    updateInterest()
                    resumeRequestsIfPossible()
                    return
                }
                teardown()
                return
            }
        }
        setWritePolling(false)
        if closeAfterFlush {
            teardown()
            return
        }
        resumeRequestsIfPossible()
    }

    /// Handles buffered requests again, and so resumes reading, once the send queue has drained
    /// below its bound.
    func resumeRequestsIfPossible() {
        if readPaused && canProcessRequests { processRequests() }
    }

    /// Writes through TLS in records of up to 16 KiB; returns nil when the queue emptied.
    func writeTLS() -> Int32? {
        guard let tls else { return nil }
        tlsWriteWantsRead = false
        let scratch = server.tlsWriteBuffer
        while !queue.isEmpty {
            let count = queue.copyPending(into: scratch)
            switch tls.write(UnsafeRawBufferPointer(rebasing: scratch[0..<count])) {
            case .done(let n): queue.advance(by: n)
            case .wantWrite: return EAGAIN
            case .wantRead:
                tlsWriteWantsRead = true
                return EAGAIN
            case .closed, .failed: return EPIPE
            }
        }
        return nil
    }

    func setWritePolling(_ enabled: Bool) {
        guard enabled != pollingForWrite, state != .closed else { return }
        pollingForWrite = enabled
        updateInterest()
    }

    func setReadPaused(_ paused: Bool) {
        guard paused != readPaused, state != .closed else { return }
        readPaused = paused
        updateInterest()
    }

    /// Registers the events the connection waits for. A TLS write that needs to read keeps
    /// `EPOLLIN` on even while reading is paused, because only a read can complete it.
    func updateInterest() {
        guard state != .closed else { return }
        let reading = !readPaused || tlsWriteWantsRead
        let events = (reading ? CLINUX_EPOLLIN | CLINUX_EPOLLRDHUP : 0) | (pollingForWrite ? CLINUX_EPOLLOUT : 0)
        guard events != registeredEvents else { return }
        registeredEvents = events
        loop.modify(fd: fd, events: events)
    }

    /// Closes the socket at once and calls the delegate's `webSocketDidClose` once.
    func teardown() {
        guard state != .closed else { return }
        if let tls, state != .tlsHandshake { tls.shutdown() }
        state = .closed
        loop.unregister(fd: fd)
        Glibc.close(fd)
        queue = SendQueue()
        reportClose()
        delegate = nil
        userData = nil
        server.connectionClosed(self)
    }
}
