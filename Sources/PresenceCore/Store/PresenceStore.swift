/// A document with users present, as listed for a workspace.
public struct DocumentUserCount: Sendable, Equatable {
    public var documentID: String
    public var userCount: Int

    public init(documentID: String, userCount: Int) {
        self.documentID = documentID
        self.userCount = userCount
    }
}

/// A document a user is present in, with the user's last activity there (ms since the Unix epoch).
public struct UserDocumentActivity: Sendable, Equatable {
    public var documentID: String
    public var lastActiveAt: UInt64

    public init(documentID: String, lastActiveAt: UInt64) {
        self.documentID = documentID
        self.lastActiveAt = lastActiveAt
    }
}

/// Storage of presence for queries from outside the room: the admin listener and, with a shared
/// store, other gateway nodes.
///
/// Rooms on several event loops call the writes, so they must be cheap and must not block: a
/// networked store queues them and reports its own failures. Writes for one user in one document
/// come from one room, in order. Implementations must call the `completion` of a read exactly
/// once, on any thread.
public protocol PresenceStore: AnyObject, Sendable {
    /// Stores or replaces the record of `presence.userID` in `presence.documentID`, adds the
    /// document to its workspace's active documents, sets the user's last activity there, and
    /// starts the record's time to live again.
    func store(_ presence: UserPresence)
    /// Removes the user's record from the document. The document leaves the workspace's active
    /// documents when its last user goes.
    func remove(userID: String, documentID: String, workspaceID: String)
    /// Starts the time to live of these users' records again without rewriting them. Rooms call it
    /// at least every third of `presenceTTLSeconds`.
    func refresh(documentID: String, workspaceID: String, userIDs: [String])

    func documentPresence(
        documentID: String, completion: @escaping @Sendable (Result<[UserPresence], PresenceError>) -> Void
    )
    func activeDocuments(
        workspaceID: String, completion: @escaping @Sendable (Result<[DocumentUserCount], PresenceError>) -> Void
    )
    func documents(
        userID: String, completion: @escaping @Sendable (Result<[UserDocumentActivity], PresenceError>) -> Void
    )
}
