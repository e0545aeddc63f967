/// The presence of one document on this node: its members, their users' published state, and the
/// timers for cursor throttling, typing debounce, idle and away detection and store writes.
///
/// A room is owned by one event loop thread and every call, including those to its policy, store
/// and output, happens on that thread. It never blocks or sleeps: the owner calls `tick()` when
/// `nextDeadlineMs` arrives. Each change is applied in one order, and every member receives the
/// resulting events in that order. Joins and leaves go out at once, after anything queued before
/// them. Cursor, viewport, typing, activity and focus events wait for the flush tick, every
/// `flushIntervalMs`, so that one write carries them all to a member.
public final class DocumentRoom {
    public let documentID: String
    public let workspaceID: String
    let config: PresenceConfig
    var policy: PresencePolicy
    let clock: PresenceClock
    let store: PresenceStore
    let output: RoomOutput

    var members: [MemberID: MemberState] = [:]
    /// Member ids in join order, the order recipients are listed in.
    var memberOrder: [MemberID] = []
    var records: [String: UserRecord] = [:]
    /// User ids in the order they joined, the order of `users` and snapshots.
    var userOrder: [String] = []
    var nextIncarnation: UInt64 = 1

    var deadlines = DeadlineQueue()
    /// When the queued frames must go out, nil while none are queued.
    var flushDueMs: UInt64?
    var storeRefreshDueMs: UInt64?
    /// When the policy's activity rule runs next, nil unless the policy has one.
    var activityPollDueMs: UInt64?

    var outgoing: [(frame: OutgoingFrame, recipients: [MemberID])] = []
    var isDelivering = false
    var deliveredSinceEndOfBatch = false
    var operationDepth = 0

    var cachedDocumentInfo: DocumentInfo?
    var policyFiltersPerRecipient: Bool
    var policyHasActivityRule: Bool

    /// Users connected to other gateway nodes (see `DocumentRoom+Remote.swift`).
    var remote = RemotePresence()
    /// Receives the events this node causes, for the other nodes; nil on a single node.
    public weak var relay: RoomRelay?

    /// Interval of the policy's activity rule. One second meets the promise that idle and away are
    /// detected within one second.
    static let activityPollIntervalMs: UInt64 = 1000
    /// Minimum time between two store writes caused by cursor or viewport changes of one user.
    static let positionStoreIntervalMs: UInt64 = 1000

    public init(
        documentID: String, workspaceID: String, config: PresenceConfig, policy: PresencePolicy,
        clock: PresenceClock, store: PresenceStore, output: RoomOutput
    ) {
        self.documentID = documentID
        self.workspaceID = workspaceID
        self.config = config
        self.policy = policy
        self.clock = clock
        self.store = store
        self.output = output
        policyFiltersPerRecipient = policy.filtersPerRecipient(workspaceID: workspaceID)
        policyHasActivityRule = policy.hasActivityRule(workspaceID: workspaceID)
    }

    /// True when no connection is in the room, so the owner may discard it.
    public var isEmpty: Bool { members.isEmpty }

    /// The published presence of every user, in join order.
    public var users: [UserPresence] {
        userOrder.compactMap { records[$0]?.presence }
    }

    /// The number of users connected to this node, without building `users`.
    public var userCount: Int { records.count }

    /// The number of connections in the room.
    public var memberCount: Int { members.count }

    /// Returns the user id a member joined as, nil when it has not joined.
    public func userID(of member: MemberID) -> String? {
        members[member]?.userID
    }

    /// Monotonic ms of the earliest due work, nil when there is none. The owner calls `tick()` then.
    public var nextDeadlineMs: UInt64? {
        var earliest = deadlines.earliestDueMs
        for due in [flushDueMs, storeRefreshDueMs, activityPollDueMs] {
            if let due, earliest == nil || due < earliest! {
                earliest = due
            }
        }
        return earliest
    }

    /// Replaces the policy, as after a plugin reload. Colours already given keep their value.
    public func replacePolicy(_ policy: PresencePolicy) {
        self.policy = policy
        policyFiltersPerRecipient = policy.filtersPerRecipient(workspaceID: workspaceID)
        policyHasActivityRule = policy.hasActivityRule(workspaceID: workspaceID)
        if policyHasActivityRule, activityPollDueMs == nil, !records.isEmpty {
            activityPollDueMs = clock.monotonicMs + Self.activityPollIntervalMs
        } else if !policyHasActivityRule {
            activityPollDueMs = nil
        }
    }

    // MARK: - Join and leave

    /// Adds a connection to the room and sends it a snapshot of everyone present, itself included.
    ///
    /// The first connection of a user adds the user and sends `UserJoined` to everyone else. A later
    /// connection of the same user (another tab) gets only the snapshot and does not count against
    /// the capacity. Joining again on the same connection as the same user resends the snapshot.
    ///
    /// - Throws: `DocumentAtCapacity` when the document has its maximum of distinct users,
    ///   `PluginRejected` when the policy rejects the user, and `InvalidMessage` when the workspace
    ///   differs from the document's or the connection already joined as another user.
    @discardableResult
    public func join(member: MemberID, identity: UserIdentity) throws(PresenceError) -> UserPresence {
        beginOperation()
        defer { endOperation() }

        guard identity.workspaceID == workspaceID else {
            throw .invalidMessage(
                "document \"\(documentID)\" belongs to workspace \"\(workspaceID)\", not \"\(identity.workspaceID)\""
            )
        }
        if let existing = members[member] {
            guard existing.userID == identity.userID else {
                throw .invalidMessage(
                    "this connection already joined document \"\(documentID)\" as user \"\(existing.userID)\"; send leave first"
                )
            }
            let presence = records[identity.userID]!.presence
            sendSnapshot(to: member, selfPresence: presence)
            return presence
        }

        let nowMs = clock.monotonicMs
        if var record = records[identity.userID] {
            if case .reject(let reason) = policy.admit(record.presence, to: documentInfo) {
                throw PresenceError(code: .pluginRejected, message: reason)
            }
            record.members.append(member)
            records[identity.userID] = record
            addMember(member, userID: identity.userID)
            sendSnapshot(to: member, selfPresence: record.presence)
            updateFocus(userID: identity.userID, origin: member)
            return records[identity.userID]!.presence
        }

        let info = documentInfo
        let capacity = max(0, policy.capacity(of: info) ?? config.maxUsersPerDocument)
        guard hasCapacity(for: identity.userID, capacity: capacity) else {
            throw .documentAtCapacity(maximumUsers: capacity)
        }
        var presence = newPresence(for: identity)
        if let color = policy.color(for: presence, in: info) {
            presence.color = color
        }
        adoptRemoteState(into: &presence)
        if case .reject(let reason) = policy.admit(presence, to: info) {
            throw PresenceError(code: .pluginRejected, message: reason)
        }

        let record = UserRecord(presence: presence, incarnation: nextIncarnation, member: member, nowMs: nowMs)
        nextIncarnation += 1
        records[identity.userID] = record
        userOrder.append(identity.userID)
        cachedDocumentInfo = nil
        addMember(member, userID: identity.userID)
        scheduleActivityCheck(userID: identity.userID, dueMs: nowMs + config.activityTimeoutMs)
        writeToStore(userID: identity.userID)
        if storeRefreshDueMs == nil {
            storeRefreshDueMs = nowMs + storeRefreshIntervalMs
        }
        if policyHasActivityRule, activityPollDueMs == nil {
            activityPollDueMs = nowMs + Self.activityPollIntervalMs
        }

        sendSnapshot(to: member, selfPresence: presence)
        announceJoin(presence, origin: member, createdMs: nowMs)
        return presence
    }

    /// Removes a connection at once, for a `leave` message or a closed connection. Typing started by
    /// that connection stops. When it was the user's last connection the user leaves with
    /// `UserLeft`. Otherwise the others see at most a typing or focus change. Everything the leave
    /// causes goes out without waiting for the flush tick. Unknown members are ignored, so the
    /// gateway may call this for every document on disconnect.
    public func leave(member: MemberID) {
        guard let state = members.removeValue(forKey: member) else { return }
        beginOperation()
        defer { endOperation() }

        memberOrder.removeAll { $0 == member }
        let userID = state.userID
        guard var record = records[userID] else { return }
        record.members.removeAll { $0 == member }
        records[userID] = record

        if record.typingMember == member, record.presence.state.typing {
            setTyping(userID: userID, false, origin: nil)
        }
        if record.members.isEmpty {
            records[userID] = nil
            userOrder.removeAll { $0 == userID }
            cachedDocumentInfo = nil
            store.remove(userID: userID, documentID: documentID, workspaceID: workspaceID)
            announceLeave(userID: userID, createdMs: clock.monotonicMs)
            if records.isEmpty {
                storeRefreshDueMs = nil
                activityPollDueMs = nil
            }
        } else {
            updateFocus(userID: userID, origin: nil)
        }
        flushOutgoing()
    }

    // MARK: - Helpers

    private func addMember(_ member: MemberID, userID: String) {
        members[member] = MemberState(userID: userID, focused: true)
        memberOrder.append(member)
    }

    private func newPresence(for identity: UserIdentity) -> UserPresence {
        let wallMs = clock.wallMs
        return UserPresence(
            userID: identity.userID, documentID: documentID, workspaceID: workspaceID, name: identity.name,
            avatarURL: identity.avatarURL, color: defaultColor(forUserID: identity.userID),
            state: PresenceState(online: true, typing: false, focused: true, activity: .viewing, viewport: nil),
            cursor: nil, selection: nil, connectedAt: wallMs, lastActiveAt: wallMs, lastCursorUpdate: wallMs
        )
    }

    /// The facts policy hooks receive, rebuilt only after a user joins or leaves.
    var documentInfo: DocumentInfo {
        if let cachedDocumentInfo { return cachedDocumentInfo }
        let info = DocumentInfo(
            id: documentID, workspaceID: workspaceID, userCount: records.count,
            colorsInUse: userOrder.compactMap { records[$0]?.presence.color }
        )
        cachedDocumentInfo = info
        return info
    }

    /// Returns the member's user id, or throws `NotJoined` when the member has not joined.
    func userID(forJoined member: MemberID) throws(PresenceError) -> String {
        guard let state = members[member] else {
            throw .notJoined(documentID: documentID)
        }
        return state.userID
    }

    var storeRefreshIntervalMs: UInt64 {
        max(1, config.presenceTTLSeconds * 1000 / 3)
    }
}
