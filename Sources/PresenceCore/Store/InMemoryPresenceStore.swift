import Synchronization

/// A `PresenceStore` in this process's memory, shared by the rooms of every event loop.
///
/// Records expire `ttlSeconds` after their last store or refresh, as in a Redis store, so a record
/// that a room failed to remove does not stay forever. Expired records are dropped when a query or
/// a write touches their document.
public final class InMemoryPresenceStore: PresenceStore {
    private struct Record {
        var presence: UserPresence
        var expiresAtMs: UInt64
    }

    private struct DocumentEntry {
        var workspaceID: String
        var records: [String: Record] = [:]
    }

    private struct Contents {
        var documents: [String: DocumentEntry] = [:]
        var documentsByWorkspace: [String: Set<String>] = [:]
        var documentsByUser: [String: Set<String>] = [:]
    }

    /// All records and indexes, guarded by one mutex because rooms on several threads write here.
    private let contents = Mutex(Contents())
    private let clock: any PresenceClock & Sendable
    private let ttlMs: UInt64

    public init(ttlSeconds: UInt64 = 30, clock: any PresenceClock & Sendable = SystemClock()) {
        self.ttlMs = ttlSeconds * 1000
        self.clock = clock
    }

    public func store(_ presence: UserPresence) {
        let expiresAtMs = clock.monotonicMs + ttlMs
        contents.withLock { contents in
            let documentID = presence.documentID
            var entry = contents.documents[documentID] ?? DocumentEntry(workspaceID: presence.workspaceID)
            entry.records[presence.userID] = Record(presence: presence, expiresAtMs: expiresAtMs)
            contents.documents[documentID] = entry
            contents.documentsByWorkspace[presence.workspaceID, default: []].insert(documentID)
            contents.documentsByUser[presence.userID, default: []].insert(documentID)
        }
    }

    public func remove(userID: String, documentID: String, workspaceID: String) {
        contents.withLock { contents in
            Self.removeRecord(userID: userID, documentID: documentID, from: &contents)
        }
    }

    public func refresh(documentID: String, workspaceID: String, userIDs: [String]) {
        let expiresAtMs = clock.monotonicMs + ttlMs
        contents.withLock { contents in
            guard var entry = contents.documents[documentID] else { return }
            for userID in userIDs {
                entry.records[userID]?.expiresAtMs = expiresAtMs
            }
            contents.documents[documentID] = entry
        }
    }

    public func documentPresence(
        documentID: String, completion: @escaping @Sendable (Result<[UserPresence], PresenceError>) -> Void
    ) {
        completion(.success(documentPresence(documentID: documentID)))
    }

    public func activeDocuments(
        workspaceID: String, completion: @escaping @Sendable (Result<[DocumentUserCount], PresenceError>) -> Void
    ) {
        completion(.success(activeDocuments(workspaceID: workspaceID)))
    }

    public func documents(
        userID: String, completion: @escaping @Sendable (Result<[UserDocumentActivity], PresenceError>) -> Void
    ) {
        completion(.success(documents(userID: userID)))
    }

    /// Returns the document's live records, oldest connection first.
    public func documentPresence(documentID: String) -> [UserPresence] {
        let nowMs = clock.monotonicMs
        return contents.withLock { contents in
            Self.dropExpired(documentID: documentID, nowMs: nowMs, from: &contents)
            let records = contents.documents[documentID]?.records.values.map(\.presence) ?? []
            return records.sorted { ($0.connectedAt, $0.userID) < ($1.connectedAt, $1.userID) }
        }
    }

    /// Returns the workspace's documents that have users, ordered by document id.
    public func activeDocuments(workspaceID: String) -> [DocumentUserCount] {
        let nowMs = clock.monotonicMs
        return contents.withLock { contents in
            let documentIDs = contents.documentsByWorkspace[workspaceID] ?? []
            for documentID in documentIDs {
                Self.dropExpired(documentID: documentID, nowMs: nowMs, from: &contents)
            }
            return documentIDs.sorted().compactMap { documentID in
                guard let entry = contents.documents[documentID], entry.workspaceID == workspaceID else {
                    return nil
                }
                return DocumentUserCount(documentID: documentID, userCount: entry.records.count)
            }
        }
    }

    /// Returns the documents the user is present in, ordered by document id.
    public func documents(userID: String) -> [UserDocumentActivity] {
        let nowMs = clock.monotonicMs
        return contents.withLock { contents in
            let documentIDs = contents.documentsByUser[userID] ?? []
            for documentID in documentIDs {
                Self.dropExpired(documentID: documentID, nowMs: nowMs, from: &contents)
            }
            return documentIDs.sorted().compactMap { documentID in
                guard let record = contents.documents[documentID]?.records[userID] else { return nil }
                return UserDocumentActivity(documentID: documentID, lastActiveAt: record.presence.lastActiveAt)
            }
        }
    }

    /// Removes one record and every index entry that pointed only at it. The workspace comes from
    /// the stored document, never from the removed record, so the index shrinks even when the caller
    /// no longer has the user's presence.
    private static func removeRecord(userID: String, documentID: String, from contents: inout Contents) {
        guard var entry = contents.documents[documentID] else { return }
        entry.records[userID] = nil
        if entry.records.isEmpty {
            contents.documents[documentID] = nil
            contents.documentsByWorkspace[entry.workspaceID]?.remove(documentID)
            if contents.documentsByWorkspace[entry.workspaceID]?.isEmpty == true {
                contents.documentsByWorkspace[entry.workspaceID] = nil
            }
        } else {
            contents.documents[documentID] = entry
        }
        contents.documentsByUser[userID]?.remove(documentID)
        if contents.documentsByUser[userID]?.isEmpty == true {
            contents.documentsByUser[userID] = nil
        }
    }

    private static func dropExpired(documentID: String, nowMs: UInt64, from contents: inout Contents) {
        guard let entry = contents.documents[documentID] else { return }
        for (userID, record) in entry.records where record.expiresAtMs <= nowMs {
            removeRecord(userID: userID, documentID: documentID, from: &contents)
        }
    }
}
