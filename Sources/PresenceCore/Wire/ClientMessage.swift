/// A request from a client: one JSON object per WebSocket text frame, distinguished by its `type`.
public enum ClientMessage: Sendable, Equatable {
    /// `{"type":"join","document_id":..,"workspace_id":..,"user_id":..,"name":..,"avatar_url":..|null}`.
    /// `user_id` and `name` may be absent, because a connection with a token takes them from the
    /// token. The gateway rejects a join without them on a connection without a token.
    case join(documentID: String, workspaceID: String, userID: String?, name: String?, avatarURL: String?)
    /// `{"type":"leave","document_id":..}`
    case leave(documentID: String)
    /// `{"type":"cursor","document_id":..,"cursor":{..},"selection":{..}|null}`
    case cursor(documentID: String, cursor: CursorPosition, selection: Selection?)
    /// `{"type":"typing","document_id":..,"is_typing":true|false}`, or without `is_typing` for a
    /// keystroke, which starts typing and restarts the debounce timer.
    case typing(documentID: String, isTyping: Bool?)
    /// `{"type":"viewport","document_id":..,"viewport":{"top_line":..,"bottom_line":..,"scroll_percentage":..}}`
    case viewport(documentID: String, viewport: Viewport)
    /// `{"type":"focus","document_id":..,"focused":true|false}`
    case focus(documentID: String, focused: Bool)
    /// `{"type":"ping"}`. The gateway replies with a pong.
    case ping

    /// The document the message is about, nil for `ping`.
    public var documentID: String? {
        switch self {
        case .join(let documentID, _, _, _, _),
            .leave(let documentID),
            .cursor(let documentID, _, _),
            .typing(let documentID, _),
            .viewport(let documentID, _),
            .focus(let documentID, _):
            documentID
        case .ping:
            nil
        }
    }

    /// The wire names of the message types, in protocol order.
    public static let typeNames = ["join", "leave", "cursor", "typing", "viewport", "focus", "ping"]
}

/// A decoded client message with the request reference it carried.
public struct DecodedClientMessage: Sendable, Equatable {
    public var message: ClientMessage
    /// The message's `ref`, a JSON scalar that the server echoes in any error the message causes.
    public var ref: JSONValue?

    public init(message: ClientMessage, ref: JSONValue?) {
        self.message = message
        self.ref = ref
    }
}

/// A client message that was not accepted, with what could still be read from it for the reply.
public struct ClientMessageRejection: Error, Sendable, Equatable {
    /// An `InvalidMessage` or `UnknownMessageType` error whose message names the field at fault.
    public var error: PresenceError
    /// The message's `ref` when it was a valid scalar, nil otherwise.
    public var ref: JSONValue?
    /// The message's `document_id` when it was a valid id, nil otherwise.
    public var documentID: String?

    public init(error: PresenceError, ref: JSONValue?, documentID: String?) {
        self.error = error
        self.ref = ref
        self.documentID = documentID
    }
}

/// Size limits of client messages. The defaults are the protocol's.
public struct ClientMessageLimits: Sendable, Equatable {
    /// Maximum size of one message in bytes.
    public var maxMessageBytes: Int
    /// Maximum nesting of arrays and objects in a message.
    public var maxDepth: Int
    /// Maximum length of `document_id`, `workspace_id` and `user_id` in UTF-8 bytes.
    public var maxIDBytes: Int
    /// Maximum length of `name` in Unicode code points.
    public var maxNameCharacters: Int
    /// Maximum length of `avatar_url` in UTF-8 bytes.
    public var maxAvatarURLBytes: Int

    public init(
        maxMessageBytes: Int = 16_384, maxDepth: Int = 32, maxIDBytes: Int = 128, maxNameCharacters: Int = 256,
        maxAvatarURLBytes: Int = 2048
    ) {
        self.maxMessageBytes = maxMessageBytes
        self.maxDepth = maxDepth
        self.maxIDBytes = maxIDBytes
        self.maxNameCharacters = maxNameCharacters
        self.maxAvatarURLBytes = maxAvatarURLBytes
    }
}
