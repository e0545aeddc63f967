/// An error sent to a client as `{"event_type":"error",...}`. The connection stays open after any of them.
public struct PresenceError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The error codes of the wire protocol. The raw values are the wire names.
    public enum ErrorCode: String, Sendable, CaseIterable, Codable {
        /// The document already has its maximum number of distinct users.
        case documentAtCapacity = "DocumentAtCapacity"
        /// The connection sent a message for a document it has not joined.
        case notJoined = "NotJoined"
        /// The message is not valid JSON or a field has the wrong type, size or value.
        case invalidMessage = "InvalidMessage"
        /// The message's `type` is not a known message type.
        case unknownMessageType = "UnknownMessageType"
        case unauthorized = "Unauthorized"
        case forbidden = "Forbidden"
        case rateLimited = "RateLimited"
        /// The presence policy plugin rejected the request.
        case pluginRejected = "PluginRejected"
        case `internal` = "Internal"
    }

    public var code: ErrorCode
    /// A sentence for people, naming the value at fault and what to do.
    public var message: String

    public init(code: ErrorCode, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String {
        "\(code.rawValue): \(message)"
    }

    /// Returns the error for a join beyond the document's maximum of `maximumUsers` distinct users.
    public static func documentAtCapacity(maximumUsers: Int) -> PresenceError {
        PresenceError(code: .documentAtCapacity, message: "Document at capacity: maximum \(maximumUsers) users")
    }

    /// Returns the error for a message about a document the connection has not joined.
    public static func notJoined(documentID: String) -> PresenceError {
        PresenceError(
            code: .notJoined,
            message: "not joined to document \"\(documentID)\"; send a join message for it first"
        )
    }

    public static func invalidMessage(_ message: String) -> PresenceError {
        PresenceError(code: .invalidMessage, message: message)
    }
}
