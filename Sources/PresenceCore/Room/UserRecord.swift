/// A cursor update that arrived within the throttle interval and waits for it to end.
struct PendingCursor {
    var cursor: CursorPosition
    var selection: Selection?
    /// Monotonic ms at which the gateway read the message, for the latency metric.
    var receivedMonotonicMs: UInt64
    /// The connection that sent it, which does not receive the resulting event.
    var origin: MemberID
    var dueMs: UInt64
}

/// How the user's current typing state was set, which decides how it ends.
enum TypingMode {
    case notTyping
    /// Started by keystrokes, so it ends `typingDebounceMs` after the last one.
    case keystrokes(lastKeystrokeMs: UInt64)
    /// Started by `is_typing: true`, so it ends on `is_typing: false` or when the typing connection leaves.
    case explicit
}

/// One connection's membership.
struct MemberState {
    var userID: String
    var focused: Bool
}

/// Everything a room keeps about one user. `presence` is the published state: what the members
/// have been sent, and so what a joiner's snapshot contains.
struct UserRecord {
    var presence: UserPresence
    /// Distinguishes this stay from an earlier one of the same user, so that old timers are skipped.
    let incarnation: UInt64
    /// The user's connections to this document, in join order.
    var members: [MemberID]
    /// Monotonic ms of the last activity, the start of the idle and away timeouts.
    var lastActiveMonotonicMs: UInt64

    /// Monotonic ms at which the user's next `CursorMoved` is on schedule: the theoretical arrival
    /// time of a generic cell rate algorithm with period `cursorThrottleMs`. Nil before the first.
    var nextCursorMs: UInt64?
    var pendingCursor: PendingCursor?

    var typingMode: TypingMode = .notTyping
    /// The connection whose keystrokes or `is_typing` started typing. Its leave stops typing.
    var typingMember: MemberID?
    var typingDebounceDueMs: UInt64?

    var activityCheckDueMs: UInt64?

    /// Monotonic ms of the last write to the store.
    var lastStoreMs: UInt64?
    /// Set while a cursor or viewport change waits for the one-second store interval.
    var positionStoreDueMs: UInt64?

    init(presence: UserPresence, incarnation: UInt64, member: MemberID, nowMs: UInt64) {
        self.presence = presence
        self.incarnation = incarnation
        self.members = [member]
        self.lastActiveMonotonicMs = nowMs
    }
}
