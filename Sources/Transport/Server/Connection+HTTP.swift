import CLinux
import Observability

#if canImport(Glibc)
import Glibc
#endif

/// Request heads, bodies, routing and the WebSocket upgrade, while the connection speaks HTTP/1.1.
extension Connection {
    // MARK: - HTTP

    /// Whether the next buffered request may be handled now.
    var canProcessRequests: Bool {
        state == .http && !closeAfterFlush && !awaitingResponse && queue.byteCount < server.configuration.sendQueueBytes
    }

    func processRequests() {
        defer { setReadPaused(state == .http && !canProcessRequests) }
        while canProcessRequests {
            if pendingHead == nil {
                do {
                    guard let parsed = try server.headParser.parse(requestBuffer) else {
                        if requestBuffer.count > server.configuration.maxHeadBytes {
                            respondAndClose(.text(431, "request head exceeds \(server.configuration.maxHeadBytes) bytes"))
                        }
                        return
                    }
                    pendingHead = parsed
                } catch {
                    server.metrics.badRequests.increment()
                    respondAndClose(.text(error.status, "bad request: \(error.reason)"))
                    return
                }
            }
            guard let (head, headLength) = pendingHead else { return }
            let bodyLength: Int
            if let lengthText = head.header("Content-Length") {
                guard let length = Int(lengthText), length >= 0 else {
                    respondAndClose(.text(400, "bad request: invalid Content-Length \"\(lengthText)\""))
                    return
                }
                guard length <= server.configuration.maxBodyBytes else {
                    respondAndClose(.text(413, "request body of \(length) bytes exceeds \(server.configuration.maxBodyBytes)"))
                    return
                }
                bodyLength = length
            } else {
                bodyLength = 0
            }
            guard requestBuffer.count >= headLength + bodyLength else { return }
            let body = Array(requestBuffer[headLength..<(headLength + bodyLength)])
            requestBuffer.removeFirst(headLength + bodyLength)
            pendingHead = nil
            handle(HTTPRequest(head: head, body: body))
        }
    }

    func handle(_ request: HTTPRequest) {
        server.metrics.requests.increment()
        switch server.router(request, self) {
        case .respond(let response):
            let keepAlive = request.head.keepAlive
            queue.append(response.serialized(keepAlive: keepAlive, headOnly: request.head.method == "HEAD"), key: 0)
            requestFlush()
            if !keepAlive { closeAfterFlush = true }
        case .deferred(let start):
            awaitingResponse = true
            start(HTTPResponder(connection: self, keepAlive: request.head.keepAlive,
                                headOnly: request.head.method == "HEAD"))
        case .webSocket(let makeDelegate):
            switch WebSocketHandshake.validate(request.head, allowedOrigins: server.configuration.allowedOrigins) {
            case .failure(let error):
                server.metrics.badHandshakes.increment()
                respondAndClose(error.response)
            case .success(let response):
                queue.append(response.serialized(keepAlive: true), key: 0)
                upgradeRequest = request.head
                decoder = WebSocketFrameDecoder(maxMessageBytes: server.configuration.maxMessageBytes)
                enter(.webSocket)
                lastPingNs = clinux_monotonic_ns()
                requestFlush()
                let delegate = makeDelegate(self)
                self.delegate = delegate
                server.metrics.webSocketsOpened.increment()
                delegate.webSocketDidOpen(self)
                let rest = requestBuffer
                requestBuffer = []
                if !rest.isEmpty { rest.withUnsafeBytes { decodeFrames($0) } }
            }
        }
    }

    /// Writes a deferred response and resumes reading pipelined requests.
    func completeDeferred(_ bytes: [UInt8], keepAlive: Bool) {
        guard state == .http, awaitingResponse else { return }
        awaitingResponse = false
        queue.append(bytes, key: 0)
        requestFlush()
        if !keepAlive {
            closeAfterFlush = true
            setReadPaused(true)
            return
        }
        processRequests()
    }

    func respondAndClose(_ response: HTTPResponse) {
        queue.append(response.serialized(keepAlive: false), key: 0)
        shutdownAfterFlush()
    }

    func shutdownAfterFlush() {
        closeAfterFlush = true
        requestFlush()
    }
}
