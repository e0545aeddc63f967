/// The `[presence]` settings, plus the per-connection document limit that the gateway enforces.
/// Every duration is in milliseconds unless its name says otherwise.
public struct PresenceConfig: Sendable, Equatable {
    /// Minimum time between two `CursorMoved` events of one user. The latest position is still sent
    /// when the interval ends.
    public var cursorThrottleMs: UInt64
    /// Time after the last keystroke at which typing stops.
    public var typingDebounceMs: UInt64
    /// Lifetime of a stored presence record that is not refreshed.
    public var presenceTTLSeconds: UInt64
    /// Inactivity after which a user becomes `Idle`.
    public var activityTimeoutMs: UInt64
    /// Inactivity after which a user becomes `Away`.
    public var awayTimeoutMs: UInt64
    /// Maximum distinct users in one document, unless the policy sets another capacity.
    public var maxUsersPerDocument: Int
    /// Interval of a room's flush tick, which sends cursor, viewport, typing and activity events
    /// together. 0 sends each event at the end of the operation that caused it.
    public var flushIntervalMs: UInt64
    /// Maximum documents one connection may join at once.
    public var maxDocumentsPerConnection: Int

    public init(
        cursorThrottleMs: UInt64 = 50,
        typingDebounceMs: UInt64 = 500,
        presenceTTLSeconds: UInt64 = 30,
        activityTimeoutMs: UInt64 = 30_000,
        awayTimeoutMs: UInt64 = 300_000,
        maxUsersPerDocument: Int = 1000,
        flushIntervalMs: UInt64 = 16,
        maxDocumentsPerConnection: Int = 32
    ) {
        self.cursorThrottleMs = cursorThrottleMs
        self.typingDebounceMs = typingDebounceMs
        self.presenceTTLSeconds = presenceTTLSeconds
        self.activityTimeoutMs = activityTimeoutMs
        self.awayTimeoutMs = awayTimeoutMs
        self.maxUsersPerDocument = maxUsersPerDocument
        self.flushIntervalMs = flushIntervalMs
        self.maxDocumentsPerConnection = maxDocumentsPerConnection
    }
}
