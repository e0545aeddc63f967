/// The presence of one user in one document, shared by all of that user's connections to it.
/// Timestamps are milliseconds since the Unix epoch.
public struct UserPresence: Codable, Sendable, Equatable {
    public var userID: String
    public var documentID: String
    public var workspaceID: String
    public var name: String
    public var avatarURL: String?
    /// A CSS colour, by default `hsl(H, 70%, 50%)` from the SeaHash of the user id.
    public var color: String
    public var state: PresenceState
    public var cursor: CursorPosition?
    public var selection: Selection?
    public var connectedAt: UInt64
    public var lastActiveAt: UInt64
    public var lastCursorUpdate: UInt64

    public init(
        userID: String, documentID: String, workspaceID: String, name: String, avatarURL: String?,
        color: String, state: PresenceState, cursor: CursorPosition?, selection: Selection?,
        connectedAt: UInt64, lastActiveAt: UInt64, lastCursorUpdate: UInt64
    ) {
        self.userID = userID
        self.documentID = documentID
        self.workspaceID = workspaceID
        self.name = name
        self.avatarURL = avatarURL
        self.color = color
        self.state = state
        self.cursor = cursor
        self.selection = selection
        self.connectedAt = connectedAt
        self.lastActiveAt = lastActiveAt
        self.lastCursorUpdate = lastCursorUpdate
    }

    enum CodingKeys: String, CodingKey {
        case userID = "user_id"
        case documentID = "document_id"
        case workspaceID = "workspace_id"
        case name
        case avatarURL = "avatar_url"
        case color
        case state
        case cursor
        case selection
        case connectedAt = "connected_at"
        case lastActiveAt = "last_active_at"
        case lastCursorUpdate = "last_cursor_update"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        userID = try container.decode(String.self, forKey: .userID)
        documentID = try container.decode(String.self, forKey: .documentID)
        workspaceID = try container.decode(String.self, forKey: .workspaceID)
        name = try container.decode(String.self, forKey: .name)
        avatarURL = try container.decodeIfPresent(String.self, forKey: .avatarURL)
        color = try container.decode(String.self, forKey: .color)
        state = try container.decode(PresenceState.self, forKey: .state)
        cursor = try container.decodeIfPresent(CursorPosition.self, forKey: .cursor)
        selection = try container.decodeIfPresent(Selection.self, forKey: .selection)
        connectedAt = try container.decode(UInt64.self, forKey: .connectedAt)
        lastActiveAt = try container.decode(UInt64.self, forKey: .lastActiveAt)
        lastCursorUpdate = try container.decode(UInt64.self, forKey: .lastCursorUpdate)
    }

    /// Encodes every field, writing `null` for missing optionals as the wire form does.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(userID, forKey: .userID)
        try container.encode(documentID, forKey: .documentID)
        try container.encode(workspaceID, forKey: .workspaceID)
        try container.encode(name, forKey: .name)
        try container.encode(avatarURL, forKey: .avatarURL)
        try container.encode(color, forKey: .color)
        try container.encode(state, forKey: .state)
        try container.encode(cursor, forKey: .cursor)
        try container.encode(selection, forKey: .selection)
        try container.encode(connectedAt, forKey: .connectedAt)
        try container.encode(lastActiveAt, forKey: .lastActiveAt)
        try container.encode(lastCursorUpdate, forKey: .lastCursorUpdate)
    }
}

/// The identity a connection gives when it joins a document.
public struct UserIdentity: Sendable, Equatable {
    public var userID: String
    public var workspaceID: String
    public var name: String
    public var avatarURL: String?

    public init(userID: String, workspaceID: String, name: String, avatarURL: String?) {
        self.userID = userID
        self.workspaceID = workspaceID
        self.name = name
        self.avatarURL = avatarURL
    }
}
