import Transport

/// Echoes every message back unchanged, for WebSocket conformance runs only (`[server] echo_path`).
final class EchoHandler: WebSocketDelegate {
    func webSocketDidOpen(_ connection: Connection) {}

    func webSocket(_ connection: Connection, didReceive message: WebSocketMessage) {
        switch message {
        case .text(let payload): connection.sendText(payload)
        case .binary(let payload): connection.sendBinary(payload)
        default: return
        }
    }

    func webSocketDidClose(_ connection: Connection, code: UInt16, reason: String) {}
}
