import Observability

/// Counters of one listener, registered under `transport_*` names with a `listener` label.
public struct TransportMetrics: Sendable {
    let acceptedConnections: Counter
    let rejectedConnections: Counter
    let requests: Counter
    let badRequests: Counter
    let badHandshakes: Counter
    let webSocketsOpened: Counter
    let webSocketsClosed: Counter
    let messagesReceived: Counter
    let protocolErrors: Counter
    let pongTimeouts: Counter
    let handshakeTimeouts: Counter
    let slowConsumerCloses: Counter
    let coalescedFrames: Counter
    let tlsHandshakeFailures: Counter
    let bytesRead: Counter
    let bytesWritten: Counter
    let openConnections: Gauge

    public init(registry: MetricsRegistry, listener: String) {
        func counter(_ name: String, _ help: String) -> Counter {
            registry.counter(name, help: help, labels: ["listener"]).labels(listener)
        }
        acceptedConnections = counter("transport_connections_accepted_total", "TCP connections accepted")
        rejectedConnections = counter("transport_connections_rejected_total", "TCP connections closed at once because a connection limit was reached")
        requests = counter("transport_http_requests_total", "HTTP requests routed")
        badRequests = counter("transport_http_bad_requests_total", "HTTP requests rejected as malformed or too large")
        badHandshakes = counter("transport_websocket_bad_handshakes_total", "WebSocket upgrade requests rejected")
        webSocketsOpened = counter("transport_websockets_opened_total", "WebSocket connections opened")
        webSocketsClosed = counter("transport_websockets_closed_total", "WebSocket connections closed")
        messagesReceived = counter("transport_websocket_messages_received_total", "WebSocket data messages received")
        protocolErrors = counter("transport_websocket_protocol_errors_total", "WebSocket connections failed for a protocol violation")
        pongTimeouts = counter("transport_websocket_pong_timeouts_total", "WebSocket peers dropped for not answering pings")
        handshakeTimeouts = counter("transport_handshake_timeouts_total", "connections closed for not completing a request in time")
        slowConsumerCloses = counter("transport_send_queue_overflows_total", "connections closed because their send queue passed its bound")
        coalescedFrames = counter("transport_frames_coalesced_total", "unsent frames replaced by a newer frame with the same key (a slow reader's older cursor, say)")
        tlsHandshakeFailures = counter("transport_tls_handshake_failures_total", "TLS handshakes that failed")
        bytesRead = counter("transport_bytes_read_total", "bytes read from sockets")
        bytesWritten = counter("transport_bytes_written_total", "bytes written to sockets")
        openConnections = registry.gauge("transport_open_connections", help: "open TCP connections", labels: ["listener"]).labels(listener)
    }
}

extension Counter {
    func increment(by amount: Int) {
        if amount > 0 { increment(by: UInt64(amount)) }
    }
}
