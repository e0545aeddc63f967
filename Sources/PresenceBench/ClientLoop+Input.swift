#if canImport(Glibc)
import Glibc
#endif

/// Traffic and failure counts of one loop, merged across loops at the end of a run.
struct LoopCounters {
    var messagesReceived = 0
    var bytesReceived = 0
    var messagesSent = 0
    var bytesSent = 0
    var pingsAnswered = 0
    /// Failures by `ConnectionFailure.category`.
    var failures: [String: Int] = [:]
    /// The first few failures in full, to show what went wrong.
    var failureExamples: [String] = []

    mutating func record(_ failure: ConnectionFailure) {
        failures[failure.category, default: 0] += 1
        if failureExamples.count < 5 { failureExamples.append(failure.description) }
    }

    mutating func merge(_ other: LoopCounters) {
        messagesReceived += other.messagesReceived
        bytesReceived += other.bytesReceived
        messagesSent += other.messagesSent
        bytesSent += other.bytesSent
        pingsAnswered += other.pingsAnswered
        failures.merge(other.failures, uniquingKeysWith: +)
        for example in other.failureExamples where failureExamples.count < 5 { failureExamples.append(example) }
    }

    var failureCount: Int { failures.values.reduce(0, +) }
}

extension ClientLoop {
    /// Reads what the socket holds, at most four chunks per wake-up so one busy connection cannot
    /// starve the others, and parses the handshake response and frames in it.
    func readAvailable(_ connection: ClientConnection) {
        for _ in 0..<4 {
            let count = recv(connection.fd, readBuffer.baseAddress, readBuffer.count, 0)
            if count > 0 {
                counters.bytesReceived += count
                consume(UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]), on: connection)
                if connection.isClosed || count < readBuffer.count { return }
            } else if count == 0 {
                if case .closing = connection.state {
                    release(connection)
                } else {
                    fail(connection, .endOfStream)
                }
                return
            } else {
                if errno == EAGAIN { return }
                if errno == EINTR { continue }
                if case .closing = connection.state {
                    release(connection)
                } else {
                    fail(connection, .socketError(errno: errno))
                }
                return
            }
        }
    }

    private func consume(_ bytes: UnsafeRawBufferPointer, on connection: ClientConnection) {
        if connection.inbound.isEmpty {
            guard let used = parse(bytes, on: connection), !connection.isClosed else { return }
            if used < bytes.count { connection.inbound.append(contentsOf: bytes[used...]) }
            return
        }
        connection.inbound.append(contentsOf: bytes)
        // Parse from a copy-on-write reference, so that nothing called from `parse` can conflict with
        // an access to `inbound`.
        let buffered = connection.inbound
        let used = buffered.withUnsafeBytes { parse($0, on: connection) }
        guard let used, !connection.isClosed else { return }
        connection.inbound.removeFirst(used)
    }

    /// Parses the handshake response (while upgrading) and then whole frames; returns the bytes
    /// used, or nil when the connection ended.
    private func parse(_ bytes: UnsafeRawBufferPointer, on connection: ClientConnection) -> Int? {
        var position = 0
        if case .upgrading(let expectedAccept) = connection.state {
            switch WebSocketClientCodec.parseResponse(bytes, expectedAccept: expectedAccept) {
            case .incomplete:
                return 0
            case .rejected(let reason):
                fail(connection, .upgradeRejected(reason))
                return nil
            case .accepted(let headLength):
                position = headLength
                connection.state = .open
                releaseConnectSlot(connection)
                workload?.connectionOpened(connection.id, tag: connection.tag, loop: self)
                if connection.isClosed { return nil }
            }
        }
        while true {
            switch WebSocketClientCodec.parseFrame(bytes, at: position) {
            case .incomplete:
                return position
            case .invalid(let reason):
                fail(connection, .protocolViolation(reason))
                return nil
            case .frame(let frame):
                position += frame.length
                handleFrame(frame, in: bytes, on: connection)
                if connection.isClosed { return nil }
            }
        }
    }

    private func handleFrame(_ frame: WebSocketClientCodec.Frame, in bytes: UnsafeRawBufferPointer, on connection: ClientConnection) {
        let payload = UnsafeRawBufferPointer(rebasing: bytes[frame.payload])
        switch WebSocketClientCodec.Opcode(rawValue: frame.opcode) {
        case .text, .binary:
            guard connection.fragments.isEmpty else {
                fail(connection, .protocolViolation("new data frame while a fragmented message is unfinished"))
                return
            }
            if frame.isFinal {
                deliver(payload, on: connection)
            } else {
                connection.fragments.append(contentsOf: payload)
            }
        case .continuation:
            connection.fragments.append(contentsOf: payload)
            guard connection.fragments.count <= WebSocketClientCodec.maxMessageBytes else {
                fail(connection, .protocolViolation("fragmented message exceeds \(WebSocketClientCodec.maxMessageBytes) bytes"))
                return
            }
            if frame.isFinal {
                let message = connection.fragments
                connection.fragments = []
                message.withUnsafeBytes { deliver($0, on: connection) }
            }
        case .ping:
            counters.pingsAnswered += 1
            sendFrame(.pong, payload: payload, on: connection)
        case .pong:
            break
        case .close:
            if case .closing = connection.state {
                release(connection)
                return
            }
            let code = payload.count >= 2 ? UInt16(payload[0]) << 8 | UInt16(payload[1]) : nil
            sendFrame(.close, payload: UnsafeRawBufferPointer(rebasing: payload.prefix(2)), on: connection)
            fail(connection, .closedByServer(code: code))
        case nil:
            fail(connection, .protocolViolation("unknown opcode 0x\(String(frame.opcode, radix: 16))"))
        }
    }

    private func deliver(_ message: UnsafeRawBufferPointer, on connection: ClientConnection) {
        guard connection.isOpen else { return }
        counters.messagesReceived += 1
        workload?.messageReceived(message, connection: connection.id, tag: connection.tag, loop: self)
    }
}
