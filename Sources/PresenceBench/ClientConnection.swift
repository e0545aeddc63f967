#if canImport(Glibc)
import Glibc
#endif

/// Identifies a connection inside its loop. The generation changes each time a slot is reused, so an
/// id kept after a close never reaches a newer connection in the same slot.
struct ConnectionID: Hashable {
    var slot: Int
    var generation: UInt32

    var epollData: UInt64 { UInt64(UInt32(slot)) | UInt64(generation) << 32 }

    init(slot: Int, generation: UInt32) {
        self.slot = slot
        self.generation = generation
    }

    init(epollData: UInt64) {
        slot = Int(epollData & 0xFFFF_FFFF)
        generation = UInt32(epollData >> 32)
    }
}

/// The cause of a connection ending without a close request from the workload.
enum ConnectionFailure: Error, CustomStringConvertible {
    case connectFailed(errno: Int32)
    case upgradeRejected(String)
    case protocolViolation(String)
    case closedByServer(code: UInt16?)
    case endOfStream
    case socketError(errno: Int32)
    /// The server stopped reading and the generator's queue for it passed its bound.
    case sendQueueFull(bytes: Int)

    /// A short name to count failures of one kind under.
    var category: String {
        switch self {
        case .connectFailed: return "connect failed"
        case .upgradeRejected: return "upgrade rejected"
        case .protocolViolation: return "protocol violation"
        case .closedByServer: return "closed by server"
        case .endOfStream: return "closed without close frame"
        case .socketError: return "socket error"
        case .sendQueueFull: return "send queue full"
        }
    }

    var description: String {
        switch self {
        case .connectFailed(let code): return "connect failed: \(errorText(code))"
        case .upgradeRejected(let reason): return "upgrade rejected: \(reason)"
        case .protocolViolation(let reason): return "protocol violation: \(reason)"
        case .closedByServer(let code): return "server sent close frame with code \(code.map(String.init) ?? "none")"
        case .endOfStream: return "server closed the TCP connection without a close frame"
        case .socketError(let code): return "socket error: \(errorText(code))"
        case .sendQueueFull(let bytes): return "server stopped reading; \(bytes) bytes queued for it"
        }
    }
}

/// The way the generator ends a connection.
enum CloseMode {
    /// Sends a close frame with code 1000 and closes the socket when the server's close frame or
    /// end of stream arrives.
    case graceful
    /// Resets the TCP connection (SO_LINGER 0) without a close frame, as when a browser's
    /// process dies.
    case abortive
    /// Closes the socket (TCP FIN) without a close frame.
    case immediate
}

/// One client connection. Owned by the loop that opened it and touched only on that loop's thread.
final class ClientConnection {
    enum State {
        /// Waiting for one of the loop's connect slots.
        case queued
        /// Non-blocking connect in progress.
        case connecting
        /// Upgrade request sent; waiting for the 101 response.
        case upgrading(expectedAccept: String)
        case open
        /// Close frame sent; waiting for the server's close frame or end of stream.
        case closing
        case closed
    }

    let id: ConnectionID
    /// The workload's own number for this connection, passed back in every callback.
    let tag: Int
    let endpointIndex: Int
    var fd: Int32 = -1
    var state: State = .queued
    /// Bytes received and not yet parsed: a partial handshake response or frame.
    var inbound: [UInt8] = []
    /// Bytes not yet written, from `outboundStart` on.
    var outbound: [UInt8] = []
    var outboundStart = 0
    /// The payload of an unfinished fragmented message.
    var fragments: [UInt8] = []
    var watchesWritable = false
    /// Whether this connection counts against the loop's connect concurrency (connecting or upgrading).
    var holdsConnectSlot = false

    init(id: ConnectionID, tag: Int, endpointIndex: Int) {
        self.id = id
        self.tag = tag
        self.endpointIndex = endpointIndex
    }

    var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    var isOpen: Bool {
        if case .open = state { return true }
        return false
    }

    var pendingOutboundBytes: Int { outbound.count - outboundStart }
}

/// Formats an errno value as text, such as "Connection refused (errno 111)".
func errorText(_ code: Int32) -> String {
    let message = strerror(code).map { String(cString: $0) } ?? "unknown error"
    return "\(message) (errno \(code))"
}
