import Foundation
import Observability
import Synchronization
import XCTest
@testable import Transport

/// What the test router's WebSocket delegates saw, shared across loop threads. Owned by its lock.
final class WebSocketEventLog: Sendable {
    enum Event: Equatable {
        case opened(UInt64)
        case message(UInt64, WebSocketMessage)
        case closed(UInt64, code: UInt16, reason: String)
    }

    private let events = Mutex<[Event]>([])

    func record(_ event: Event) {
        events.withLock { $0.append(event) }
    }

    var all: [Event] { events.withLock { $0 } }

    /// The close code and reason reported for `connectionID`, if it closed.
    func closeReport(_ connectionID: UInt64) -> (code: UInt16, reason: String)? {
        for case .closed(let id, let code, let reason) in all where id == connectionID { return (code, reason) }
        return nil
    }

    var closedCount: Int { all.filter { if case .closed = $0 { true } else { false } }.count }

    /// Waits up to `timeout` seconds for `condition` to hold, polling every 10 ms.
    func wait(timeout: TimeInterval = 5, _ condition: (WebSocketEventLog) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition(self) { return true }
            usleep(10_000)
        }
        return condition(self)
    }
}

/// The test router's delegate: echoes every message, and obeys a few text commands.
///
/// - `close:<code>` starts the closing handshake with that code.
/// - `flood:<bytes>` sends binary frames of `bytes` each, one batch per loop wake-up, until the
///   send queue overflows or 20,000 frames went out.
final class EchoDelegate: WebSocketDelegate {
    private let log: WebSocketEventLog

    init(log: WebSocketEventLog) {
        self.log = log
    }

    func webSocketDidOpen(_ connection: Connection) {
        log.record(.opened(connection.id))
    }

    func webSocket(_ connection: Connection, didReceive message: WebSocketMessage) {
        log.record(.message(connection.id, message))
        switch message {
        case .text(let payload):
            let text = String(decoding: payload, as: UTF8.self)
            if text.hasPrefix("close:"), let code = UInt16(text.dropFirst(6)) {
                connection.close(code: code, reason: "requested by test")
            } else if text.hasPrefix("flood:"), let size = Int(text.dropFirst(6)) {
                flood(connection, frame: WebSocketFrameEncoder.frame(.binary, payload: [UInt8](repeating: 0x5A, count: size)), left: 20_000)
            } else {
                connection.sendText(payload)
            }
        case .binary(let payload):
            connection.sendBinary(payload)
        default:
            break
        }
    }

    private func flood(_ connection: Connection, frame: [UInt8], left: Int) {
        guard left > 0, connection.sendFrame(frame) else { return }
        // A timer of 0 ms runs on the next wake-up, after this one's flush, so the socket fills
        // the way it would under a steady stream of events.
        connection.loop.scheduleTimer(afterMs: 0) { [self] in
            flood(connection, frame: frame, left: left - 1)
        }
    }

    func webSocketDidClose(_ connection: Connection, code: UInt16, reason: String) {
        log.record(.closed(connection.id, code: code, reason: reason))
    }
}

/// A real `HTTPServer` on 127.0.0.1 port 0 with the test router: WebSocket echo on `/echo`, a
/// plain 200 on `/hello`, and 404 elsewhere.
final class TestServer {
    let group: EventLoopGroup
    let server: HTTPServer
    let port: UInt16
    let log = WebSocketEventLog()
    let registry = MetricsRegistry(namespace: "test")

    init(loops: Int = 1, tls: TLSContext? = nil, configure: (inout HTTPServerConfiguration) -> Void = { _ in }) throws {
        var configuration = HTTPServerConfiguration(name: "test", listen: try SocketAddress(parsing: "127.0.0.1:0"))
        configure(&configuration)
        group = try EventLoopGroup(count: loops)
        let log = self.log
        let quiet = LogSink(level: .critical)
        server = HTTPServer(configuration: configuration, group: group, tls: tls, registry: registry,
                            logger: Logger(label: "test", sink: quiet)) { request, _ in
            switch request.head.path {
            case "/echo":
                return .webSocket { _ in EchoDelegate(log: log) }
            case "/hello":
                return .respond(.text(200, "hello"))
            default:
                return .respond(.text(404, "no route for \(request.head.path)"))
            }
        }
        port = try server.start().port
    }

    /// Stops accepting, closes every connection and stops the loops.
    func stop() {
        server.stopAccepting()
        server.closeAll(code: WebSocketCloseCode.goingAway, reason: "test over")
        usleep(20_000)
        group.stop()
    }

    /// Waits up to `timeout` seconds until the server has no open connections.
    func waitForNoConnections(timeout: TimeInterval = 5) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if server.connectionCount == 0 { return true }
            usleep(10_000)
        }
        return server.connectionCount == 0
    }

    /// The id of the first WebSocket connection opened, waiting up to 5 seconds for it.
    func firstWebSocketID() -> UInt64? {
        var found: UInt64?
        _ = log.wait { log in
            for case .opened(let id) in log.all {
                found = id
                return true
            }
            return false
        }
        return found
    }
}
