import CLinux
import Observability

#if canImport(Glibc)
import Glibc
#endif

/// Frames, control messages, the close handshake and keep-alive, once the connection is a WebSocket.
extension Connection {
    // MARK: - WebSocket

    func decodeFrames(_ bytes: UnsafeRawBufferPointer) {
        guard var decoder else { return }
        self.decoder = nil
        var messages: [WebSocketMessage] = []
        var failure: WebSocketProtocolError?
        do {
            try decoder.decode(bytes) { messages.append($0) }
        } catch {
            failure = error
        }
        self.decoder = decoder
        for message in messages {
            guard state == .webSocket || state == .closing else { break }
            handleMessage(message)
        }
        if let failure, state == .webSocket || state == .closing {
            server.metrics.protocolErrors.increment()
            server.logger.debug("closing WebSocket after a protocol error", metadata: [
                "connection.id": "\(id)", "error": failure.reason, "close.code": "\(failure.closeCode)",
            ])
            fail(code: failure.closeCode, reason: failure.reason)
        }
    }

    func handleMessage(_ message: WebSocketMessage) {
        switch message {
        case .text, .binary:
            guard state == .webSocket else { return }
            server.metrics.messagesReceived.increment()
            delegate?.webSocket(self, didReceive: message)
        case .ping(let payload):
            guard state == .webSocket else { return }
            // Through sendFrame, so that a client flooding pings without reading the pongs meets
            // the send queue bound (and 1008) like any other slow reader.
            sendFrame(WebSocketFrameEncoder.frame(.pong, payload: payload))
        case .pong:
            return
        case .close(let code, let reason):
            if state == .closing {
                // The peer replied to our close frame; the server closes the TCP connection first
                // (RFC 6455 section 7.1.1).
                shutdownAfterFlush()
                return
            }
            closeCode = code ?? WebSocketCloseCode.noStatus
            closeReason = reason
            let echo: [UInt8] = code.map { WebSocketFrameEncoder.closeFrame(code: $0, reason: "") }
                ?? WebSocketFrameEncoder.frame(.close, payload: [])
            queue.append(echo, key: 0)
            enter(.closing)
            reportClose()
            shutdownAfterFlush()
        }
    }

    /// Fails the connection: sends a close frame with `code` and closes the socket once it is written.
    func fail(code: UInt16, reason: String) {
        closeCode = code
        closeReason = reason
        if state == .webSocket {
            queue.append(WebSocketFrameEncoder.closeFrame(code: code, reason: reason), key: 0)
            enter(.closing)
        }
        reportClose()
        shutdownAfterFlush()
    }

    func reportClose() {
        guard !closeReported, let delegate else { return }
        closeReported = true
        server.metrics.webSocketsClosed.increment()
        delegate.webSocketDidClose(self, code: closeCode, reason: closeReason)
    }

    /// Periodic check, driven by the listener's sweep timer: pings, dead peers, stuck handshakes.
    func sweep(nowNs: UInt64) {
        let config = server.configuration
        switch state {
        case .tlsHandshake, .http:
            if nowNs - lastActivityNs > config.handshakeTimeoutMs * 1_000_000 {
                server.metrics.handshakeTimeouts.increment()
                teardown()
            }
        case .webSocket:
            if nowNs - lastActivityNs > config.pongTimeoutMs * 1_000_000 {
                server.metrics.pongTimeouts.increment()
                closeCode = WebSocketCloseCode.abnormal
                closeReason = "no data or pong within \(config.pongTimeoutMs) ms"
                teardown()
            } else if nowNs - lastPingNs >= config.pingIntervalMs * 1_000_000
                        && nowNs - lastActivityNs >= config.pingIntervalMs * 1_000_000 / 2 {
                lastPingNs = nowNs
                queue.append(WebSocketFrameEncoder.frame(.ping, payload: []), key: 0)
                requestFlush()
            }
        case .closing:
            if nowNs - stateSinceNs > config.closeTimeoutMs * 1_000_000 { teardown() }
        case .closed:
            return
        }
    }
}
