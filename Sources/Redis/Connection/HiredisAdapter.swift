import CHiredis
import CLinux
import Transport

/// Events of one hiredis connection, delivered on the adapter's loop.
protocol HiredisAdapterDelegate: AnyObject {
    /// The TCP connect finished; commands may be sent.
    func adapterDidConnect(_ adapter: HiredisAdapter)
    /// The connect failed or the connection closed. The adapter sends nothing after this.
    func adapter(_ adapter: HiredisAdapter, didFail reason: String)
    /// The reply to `requestID`, or nil when the connection closed before it arrived.
    func adapter(_ adapter: HiredisAdapter, didReceive reply: RedisReply?, for requestID: UInt64)
}

/// One hiredis asynchronous context driven by an `EventLoop`: the socket is in the loop's epoll
/// set, and hiredis's read and write hooks (in the CHiredis shim) turn polling on and off.
///
/// The adapter owns the context: `init` starts the connect and `deinit` frees whatever is left.
/// hiredis frees the context itself when the connection fails; the shim's cleanup hook reports that
/// through `closing`, after which the adapter never touches it. Every method and every callback runs
/// on `loop`. One adapter is one connection attempt; reconnecting creates a new adapter.
final class HiredisAdapter: EventLoopHandler {
    let loop: EventLoop
    weak var delegate: HiredisAdapterDelegate?
    /// The shim's connection, nil after `deinit` started.
    private var connection: OpaquePointer?
    private var registeredFD: Int32 = -1
    private var failed = false

    /// Starts a non-blocking connect to the numeric address `ip` (IPv4 or IPv6).
    init(loop: EventLoop, ip: String, port: UInt16, delegate: HiredisAdapterDelegate) throws(RedisError) {
        loop.preconditionInEventLoop()
        self.loop = loop
        self.delegate = delegate
        var callbacks = chiredis_callbacks()
        callbacks.interest_changed = { owner, fd, wantRead, wantWrite in
            HiredisAdapter.from(owner)?.interestChanged(fd: fd, read: wantRead != 0, write: wantWrite != 0)
        }
        callbacks.closing = { owner, fd in
            HiredisAdapter.from(owner)?.closing(fd: fd)
        }
        callbacks.connected = { owner, status, error in
            HiredisAdapter.from(owner)?.connectFinished(status: status, error: error)
        }
        callbacks.disconnected = { owner, status, error in
            HiredisAdapter.from(owner)?.disconnected(status: status, error: error)
        }
        callbacks.reply = { owner, requestID, reply in
            HiredisAdapter.from(owner)?.received(reply, for: requestID)
        }
        var errorText = [CChar](repeating: 0, count: 256)
        let owner = Unmanaged.passUnretained(self).toOpaque()
        let created = withUnsafePointer(to: &callbacks) { callbacksPointer in
            chiredis_connect(ip, Int32(port), owner, callbacksPointer, &errorText, errorText.count)
        }
        guard let created else {
            let reason = String(decoding: errorText.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw RedisError.connectionLost(server: "\(ip):\(port)", reason: reason)
        }
        connection = created
    }

    deinit {
        loop.preconditionInEventLoop()
        if registeredFD >= 0 {
            loop.unregister(fd: registeredFD)
            registeredFD = -1
        }
        // Detaches this object first, so hiredis's final callbacks reach no one.
        chiredis_release(connection)
    }

    /// Whether the context still exists and may take commands.
    var isOpen: Bool {
        guard let connection, !failed else { return false }
        return chiredis_is_open(connection) != 0
    }

    /// Queues one command; returns false when the context is closed.
    func send(_ arguments: [[UInt8]], requestID: UInt64) -> Bool {
        guard let connection, isOpen else { return false }
        return Self.withCArguments(arguments) { argv, lengths in
            chiredis_command(connection, requestID, Int32(arguments.count), argv, lengths) == 0
        }
    }

    func handleEvents(_ events: UInt32) {
        // The delegate may drop its reference from inside a callback; keep this object alive until
        // hiredis has returned to the shim.
        withExtendedLifetime(self) {
            guard let connection else { return }
            if events & (CLINUX_EPOLLIN | CLINUX_EPOLLERR | CLINUX_EPOLLHUP) != 0 {
                chiredis_handle_read(connection)
            }
            if events & CLINUX_EPOLLOUT != 0, chiredis_is_open(connection) != 0 {
                chiredis_handle_write(connection)
            }
        }
    }

    // MARK: - Callbacks from the shim

    private static func from(_ owner: UnsafeMutableRawPointer?) -> HiredisAdapter? {
        guard let owner else { return nil }
        return Unmanaged<HiredisAdapter>.fromOpaque(owner).takeUnretainedValue()
    }

    private func interestChanged(fd: Int32, read: Bool, write: Bool) {
        var events: UInt32 = 0
        if read { events |= CLINUX_EPOLLIN }
        if write { events |= CLINUX_EPOLLOUT }
        if registeredFD < 0 {
            do {
                try loop.register(fd: fd, events: events, handler: self)
                registeredFD = fd
            } catch {
                fail("cannot poll the Redis socket: \(error)")
            }
        } else {
            loop.modify(fd: fd, events: events)
        }
    }

    private func closing(fd: Int32) {
        if registeredFD >= 0 {
            loop.unregister(fd: registeredFD)
            registeredFD = -1
        }
    }

    private func connectFinished(status: Int32, error: UnsafePointer<CChar>?) {
        if status == 0 {
            delegate?.adapterDidConnect(self)
        } else {
            fail(error.map { String(cString: $0) } ?? "connect failed")
        }
    }

    private func disconnected(status: Int32, error: UnsafePointer<CChar>?) {
        fail(status == 0 ? "connection closed" : (error.map { String(cString: $0) } ?? "connection closed"))
    }

    private func received(_ reply: UnsafeMutablePointer<redisReply>?, for requestID: UInt64) {
        let copied = reply.map { RedisReply(UnsafePointer($0)) }
        delegate?.adapter(self, didReceive: copied, for: requestID)
    }

    /// Reports the first failure only; hiredis may report one loss through several hooks.
    private func fail(_ reason: String) {
        guard !failed else { return }
        failed = true
        delegate?.adapter(self, didFail: reason)
    }

    // MARK: - Arguments

    /// Calls `body` with C views of `arguments` that stay valid for the call. hiredis copies them.
    private static func withCArguments<Result>(
        _ arguments: [[UInt8]], _ body: (UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> Result
    ) -> Result {
        let total = arguments.reduce(0) { $0 + $1.count }
        var joined = [UInt8]()
        joined.reserveCapacity(max(total, 1))
        var offsets: [Int] = []
        var lengths: [Int] = []
        for argument in arguments {
            offsets.append(joined.count)
            lengths.append(argument.count)
            joined.append(contentsOf: argument)
        }
        if joined.isEmpty { joined.append(0) }
        return joined.withUnsafeBufferPointer { buffer in
            let base = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
            var pointers: [UnsafePointer<CChar>?] = offsets.map { base + $0 }
            return pointers.withUnsafeMutableBufferPointer { argv in
                lengths.withUnsafeBufferPointer { lengthBuffer in
                    body(argv.baseAddress!, lengthBuffer.baseAddress!)
                }
            }
        }
    }
}
