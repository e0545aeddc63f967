/// The facts about a document that policy hooks receive.
public struct DocumentInfo: Sendable, Equatable {
    public var id: String
    public var workspaceID: String
    /// Distinct users in the document. A user with several connections counts once.
    public var userCount: Int
    /// The colours of the users in the document, in join order.
    public var colorsInUse: [String]

    public init(id: String, workspaceID: String, userCount: Int, colorsInUse: [String]) {
        self.id = id
        self.workspaceID = workspaceID
        self.userCount = userCount
        self.colorsInUse = colorsInUse
    }
}

/// The result of `PresencePolicy.admit`.
public enum AdmitDecision: Sendable, Equatable {
    case admit
    /// Rejects the join, so the client gets a `PluginRejected` error with this reason as its message.
    case reject(reason: String)
}

/// Hooks that change the default presence rules per workspace or document.
///
/// A room calls its policy only on the thread that owns the room, so implementations need not be
/// `Sendable`. The Lua bridge implements it, and `DefaultPresencePolicy` keeps the built-in rules.
public protocol PresencePolicy: AnyObject {
    /// Returns the colour for a new user of the document, or nil for the default SeaHash colour
    /// (already set in `user.color`).
    func color(for user: UserPresence, in document: DocumentInfo) -> String?
    /// Returns the maximum number of distinct users, or nil for `PresenceConfig.maxUsersPerDocument`.
    func capacity(of document: DocumentInfo) -> Int?
    func admit(_ user: UserPresence, to document: DocumentInfo) -> AdmitDecision
    /// Returns the activity of a user who has been inactive for `idleMs` milliseconds, or nil to apply
    /// the default idle and away timeouts. Called about once a second per user, and only when
    /// `hasActivityRule(workspaceID:)` is true.
    func activity(for user: UserPresence, in document: DocumentInfo, idleMs: UInt64) -> ActivityType?
    /// Returns the event to broadcast in its place, or nil to drop it for everyone.
    func filter(_ event: PresenceEvent, in document: DocumentInfo) -> PresenceEvent?
    /// Returns the event to send to one recipient, or nil to drop it for that recipient. Called only
    /// when `filtersPerRecipient(workspaceID:)` is true.
    func filter(_ event: PresenceEvent, for recipient: UserPresence, in document: DocumentInfo) -> PresenceEvent?
    /// Returns false to let the room encode each event once for all members.
    func filtersPerRecipient(workspaceID: String) -> Bool
    /// Returns false to let the room schedule idle and away checks from deadlines instead of asking
    /// `activity(for:in:idleMs:)` every second.
    func hasActivityRule(workspaceID: String) -> Bool
}

/// The built-in rules: default colours and capacity, everyone admitted, events unchanged.
public final class DefaultPresencePolicy: PresencePolicy, Sendable {
    public init() {}

    public func color(for user: UserPresence, in document: DocumentInfo) -> String? { nil }
    public func capacity(of document: DocumentInfo) -> Int? { nil }
    public func admit(_ user: UserPresence, to document: DocumentInfo) -> AdmitDecision { .admit }

    public func activity(for user: UserPresence, in document: DocumentInfo, idleMs: UInt64) -> ActivityType? {
        nil
    }

    public func filter(_ event: PresenceEvent, in document: DocumentInfo) -> PresenceEvent? { event }

    public func filter(
        _ event: PresenceEvent, for recipient: UserPresence, in document: DocumentInfo
    ) -> PresenceEvent? {
        event
    }

    public func filtersPerRecipient(workspaceID: String) -> Bool { false }
    public func hasActivityRule(workspaceID: String) -> Bool { false }
}
