/// A failed Redis request or connection.
public enum RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The connection is down or still being set up, so the command was not sent.
    case notConnected(server: String)
    /// The connection closed or timed out before the reply arrived; the command may or may not
    /// have run.
    case connectionLost(server: String, reason: String)
    /// Too many commands await replies on this connection, so the command was not sent.
    case overloaded(server: String, pending: Int)
    /// Redis answered with an error reply.
    case server(message: String)
    /// The reply did not have the shape the caller expected.
    case unexpectedReply(command: String, reply: String)

    public var description: String {
        switch self {
        case .notConnected(let server):
            return "Redis at \(server) is not connected; the command was not sent"
        case .connectionLost(let server, let reason):
            return "the connection to Redis at \(server) was lost before the reply arrived: \(reason)"
        case .overloaded(let server, let pending):
            return "\(pending) commands already await replies from Redis at \(server); the command was not sent"
        case .server(let message):
            return "Redis returned an error: \(message)"
        case .unexpectedReply(let command, let reply):
            return "Redis returned an unexpected reply to \(command): \(reply)"
        }
    }

    /// A short label for the errors metric.
    public var kind: String {
        switch self {
        case .notConnected: "not_connected"
        case .connectionLost: "connection_lost"
        case .overloaded: "overloaded"
        case .server: "server"
        case .unexpectedReply: "unexpected_reply"
        }
    }

    /// Whether Redis returned NOSCRIPT: its script cache lacks the script (SCRIPT FLUSH, or a
    /// server that started after the scripts were loaded).
    var isMissingScript: Bool {
        if case .server(let message) = self { return message.hasPrefix("NOSCRIPT") }
        return false
    }

    /// Whether the command failed because the connection was down or dropped.
    var isConnectionFailure: Bool {
        switch self {
        case .notConnected, .connectionLost: true
        case .overloaded, .server, .unexpectedReply: false
        }
    }
}
