/// Settings of one listener. Times are milliseconds of monotonic time.
public struct HTTPServerConfiguration: Sendable {
    public var name: String
    public var listen: SocketAddress
    /// Largest WebSocket message accepted; a larger one closes the connection with 1009.
    public var maxMessageBytes: Int = 65536
    public var pingIntervalMs: UInt64 = 10_000
    /// A WebSocket peer that sends nothing for this long (not even a pong) is disconnected.
    public var pongTimeoutMs: UInt64 = 20_000
    /// Bound of each connection's send queue; a connection whose queue passes it is closed with 1008.
    public var sendQueueBytes: Int = 1 << 20
    /// `Origin` values allowed to open a WebSocket; `"*"` allows all. A request without `Origin`
    /// (a non-browser client) is allowed.
    public var allowedOrigins: [String] = ["*"]
    /// A connection that has not completed its request head, or an idle keep-alive connection, is
    /// closed after this long.
    public var handshakeTimeoutMs: UInt64 = 10_000
    public var maxHeadBytes: Int = 8192
    public var maxBodyBytes: Int = 1 << 20
    /// How long to wait for the peer's close frame after sending ours.
    public var closeTimeoutMs: UInt64 = 2000

    public init(name: String, listen: SocketAddress) {
        self.name = name
        self.listen = listen
    }
}

/// A request with its body, as handed to a router.
public struct HTTPRequest: Sendable {
    public var head: HTTPRequestHead
    public var body: [UInt8]
}

/// A router's decision for one request.
public enum HTTPRouteResult {
    case respond(HTTPResponse)
    /// Accept the WebSocket handshake (after the transport validates it) and attach the delegate
    /// that `makeDelegate` returns; it is called on the connection's loop.
    case webSocket(makeDelegate: (Connection) -> WebSocketDelegate)
    /// Respond later, from any thread, through the responder (a query to a remote store, say).
    /// Later requests on the same connection wait until it responds.
    case deferred((HTTPResponder) -> Void)
}

/// Completes a deferred response; callable once from any thread.
public struct HTTPResponder: @unchecked Sendable {
    // @unchecked Sendable: the connection is only touched inside `loop.execute`, on its own loop.
    let connection: Connection
    let keepAlive: Bool
    let headOnly: Bool

    public func respond(_ response: HTTPResponse) {
        // Used only inside `loop.execute`, on the connection's own loop.
        nonisolated(unsafe) let connection = self.connection
        let keepAlive = self.keepAlive
        let headOnly = self.headOnly
        connection.loop.execute {
            connection.completeDeferred(response.serialized(keepAlive: keepAlive, headOnly: headOnly), keepAlive: keepAlive)
        }
    }
}

/// Receives a WebSocket connection's messages on the connection's event loop.
public protocol WebSocketDelegate: AnyObject {
    func webSocketDidOpen(_ connection: Connection)
    /// Called with `.text` and `.binary` messages only; the transport replies to pings and handles
    /// the close handshake itself.
    func webSocket(_ connection: Connection, didReceive message: WebSocketMessage)
    /// Called once when the connection ends, with the close code received or sent (1006 when the
    /// socket ended without a close frame).
    func webSocketDidClose(_ connection: Connection, code: UInt16, reason: String)
}
