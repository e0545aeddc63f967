import CLinux

#if canImport(Glibc)
import Glibc
#endif

extension ClientLoop {
    /// Sends one masked text frame, and returns false when the connection is not open.
    @discardableResult
    func sendText(_ payload: UnsafeRawBufferPointer, on id: ConnectionID) -> Bool {
        guard let connection = connection(id), connection.isOpen else { return false }
        sendFrame(.text, payload: payload, on: connection)
        counters.messagesSent += 1
        return true
    }

    func sendFrame(_ opcode: WebSocketClientCodec.Opcode, payload: UnsafeRawBufferPointer, on connection: ClientConnection) {
        frameBuffer.removeAll(keepingCapacity: true)
        let maskKey = UInt32(truncatingIfNeeded: random.next())
        WebSocketClientCodec.appendMaskedFrame(opcode: opcode, payload: payload, maskKey: maskKey, to: &frameBuffer)
        let frame = frameBuffer
        frame.withUnsafeBytes { write($0, to: connection) }
    }

    /// Writes `bytes` now if nothing is queued ahead of them, and queues what the socket does not take.
    func write(_ bytes: UnsafeRawBufferPointer, to connection: ClientConnection) {
        var written = 0
        if connection.pendingOutboundBytes == 0 {
            let result = send(connection.fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
            if result < 0 && errno != EAGAIN && errno != EINTR {
                fail(connection, .socketError(errno: errno))
                return
            }
            written = max(0, result)
            counters.bytesSent += written
            if written == bytes.count { return }
        }
        connection.outbound.append(contentsOf: bytes[written...])
        guard connection.pendingOutboundBytes <= Self.maxQueuedBytes else {
            fail(connection, .sendQueueFull(bytes: connection.pendingOutboundBytes))
            return
        }
        if !connection.watchesWritable { updateInterest(connection) }
    }

    func flush(_ connection: ClientConnection) {
        while connection.pendingOutboundBytes > 0 {
            let result = connection.outbound.withUnsafeBytes { bytes in
                send(connection.fd, bytes.baseAddress! + connection.outboundStart, connection.pendingOutboundBytes, Int32(MSG_NOSIGNAL))
            }
            if result < 0 {
                if errno == EAGAIN { break }
                if errno == EINTR { continue }
                fail(connection, .socketError(errno: errno))
                return
            }
            connection.outboundStart += result
            counters.bytesSent += result
        }
        if connection.pendingOutboundBytes == 0 {
            connection.outbound.removeAll(keepingCapacity: connection.outbound.capacity <= 4096)
            connection.outboundStart = 0
        } else if connection.outboundStart > 65536 {
            connection.outbound.removeFirst(connection.outboundStart)
            connection.outboundStart = 0
        }
        updateInterest(connection)
    }

    func updateInterest(_ connection: ClientConnection) {
        let wantsWritable = connection.pendingOutboundBytes > 0
        guard wantsWritable != connection.watchesWritable else { return }
        connection.watchesWritable = wantsWritable
        let interest = CLINUX_EPOLLIN | CLINUX_EPOLLRDHUP | (wantsWritable ? CLINUX_EPOLLOUT : 0)
        _ = clinux_epoll_ctl(epollFD, CLINUX_EPOLL_CTL_MOD, connection.fd, interest, connection.id.epollData)
    }
}
