/// The Redis key names. The first four are the design's layout, which other services read; the rest
/// are this gateway's bookkeeping for several nodes.
public enum RedisKeys {
    /// Hash of user id to `UserPresence` JSON, with the presence TTL.
    public static func documentUsers(_ documentID: String) -> String { "presence:\(documentID):users" }
    /// Set of the workspace's document ids that have users.
    public static func workspaceDocuments(_ workspaceID: String) -> String {
        "presence:workspace:\(workspaceID):documents"
    }
    /// Hash of document id to the user's last activity there (ms since the Unix epoch, as text).
    public static func user(_ userID: String) -> String { "presence:user:\(userID)" }
    /// Pub/sub channel of a document's presence events between nodes.
    public static func channel(_ documentID: String) -> String { "presence:channel:\(documentID)" }

    /// Hash of user id to the space-separated ids of the nodes that hold a connection of that user
    /// in the document. A user leaves the document when the last node lets go.
    public static func documentNodes(_ documentID: String) -> String { "presence:\(documentID):nodes" }
    /// Sorted set of node id to its last heartbeat, in ms of the Redis server's clock.
    public static let nodes = "presence:nodes"
    /// Hash of everything one node holds on this server: field `memberField(...)` to the workspace
    /// id. A survivor reads it to remove a dead node's users.
    public static func nodeMembers(_ nodeID: String) -> String { "presence:node:\(nodeID):members" }

    /// The field of `nodeMembers` for one user in one document: the document id's length in UTF-8
    /// bytes, a colon, the document id, then the user id. The Lua scripts split it the same way, so
    /// ids may contain any character.
    static func memberField(documentID: String, userID: String) -> String {
        "\(documentID.utf8.count):\(documentID)\(userID)"
    }
}
