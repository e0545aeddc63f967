import PresenceCore

/// The design's `UserPresenceSummary`: one user in a document, as other services read it.
struct UserPresenceSummary: Encodable {
    let userID: String
    let name: String
    let avatarURL: String?
    let activity: String
    let lastActiveAt: UInt64

    init(_ presence: UserPresence) {
        userID = presence.userID
        name = presence.name
        avatarURL = presence.avatarURL
        activity = presence.state.activity.rawValue
        lastActiveAt = presence.lastActiveAt
    }

    enum CodingKeys: String, CodingKey {
        case userID = "user_id", name, avatarURL = "avatar_url", activity, lastActiveAt = "last_active_at"
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(userID, forKey: .userID)
        try container.encode(name, forKey: .name)
        // Written as null rather than left out, as the design's Option<String> serializes.
        try container.encode(avatarURL, forKey: .avatarURL)
        try container.encode(activity, forKey: .activity)
        try container.encode(lastActiveAt, forKey: .lastActiveAt)
    }
}

/// The design's `DocumentPresenceResponse` for `GET /internal/presence/{document_id}`.
struct DocumentPresenceResponse: Encodable {
    let documentID: String
    let activeUsers: [UserPresenceSummary]
    let totalCount: Int
    let timestamp: UInt64

    enum CodingKeys: String, CodingKey {
        case documentID = "document_id", activeUsers = "active_users", totalCount = "total_count", timestamp
    }
}

/// `GET /internal/presence/workspace/{workspace_id}/documents`.
struct WorkspaceDocumentsResponse: Encodable {
    struct Document: Encodable {
        let documentID: String
        let activeUsers: Int
        enum CodingKeys: String, CodingKey { case documentID = "document_id", activeUsers = "active_users" }
    }

    let workspaceID: String
    let documents: [Document]
    let timestamp: UInt64

    enum CodingKeys: String, CodingKey { case workspaceID = "workspace_id", documents, timestamp }
}

/// `GET /internal/presence/user/{user_id}`.
struct UserDocumentsResponse: Encodable {
    struct Document: Encodable {
        let documentID: String
        let lastActiveAt: UInt64
        enum CodingKeys: String, CodingKey { case documentID = "document_id", lastActiveAt = "last_active_at" }
    }

    let userID: String
    let documents: [Document]
    let timestamp: UInt64

    enum CodingKeys: String, CodingKey { case userID = "user_id", documents, timestamp }
}
