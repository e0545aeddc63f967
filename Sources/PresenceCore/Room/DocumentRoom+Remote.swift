/// Receives the events a room publishes for the other gateway nodes. Called on the room's thread.
public protocol RoomRelay: AnyObject {
    /// Publishes an event that this node caused. `UserJoined` also marks that this node now holds
    /// a connection of the user, and `UserLeft` that it let go of its last one, even when the
    /// user stays present through another node.
    func room(_ room: DocumentRoom, publish event: PresenceEvent)
}

/// An event another node published, as the room applied it.
struct RemoteJournalEntry {
    var event: PresenceEvent
    var node: String
}

/// A user present through other gateway nodes.
struct RemoteUser {
    var presence: UserPresence
    /// The nodes that hold a connection of the user.
    var nodes: Set<String>
}

/// A room's view of the users connected to other nodes.
struct RemotePresence {
    var users: [String: RemoteUser] = [:]
    /// User ids in the order the room learnt of them, the order they appear in snapshots.
    var order: [String] = []
    /// Set while the room applies another node's event, so that the event is not published back.
    var isApplying = false
    /// Set from `beginRemoteLoad` until the first load from the shared store is applied.
    var isLoading = false
    /// Members whose snapshot waits for that load, in join order. They receive no events until
    /// then, because the snapshot will contain them.
    var awaitingSnapshot: [MemberID] = []
    /// Loads from the shared store that were sent and not yet applied: each load's id and the
    /// sequence number of the first event from other nodes that arrived after it was sent.
    var pendingLoads: [(id: UInt64, firstSequence: Int)] = []
    /// The events from other nodes applied since the oldest pending load was sent, oldest first.
    /// A load may have read the store before some of them were written, so each load's result is
    /// brought forward by the events that follow its mark.
    var journal: [RemoteJournalEntry] = []
    /// The sequence number of `journal[0]`.
    var journalStart = 0

    /// Maximum number of journal entries: 25 s of relayed events from 20 users moving at 20 Hz.
    /// Past it the oldest pending load is abandoned. Its result is applied as read, and the room
    /// requests another load to correct what that misses.
    static let journalLimit = 10_000

    /// Appends an applied event to the journal while a load is pending.
    mutating func record(_ event: PresenceEvent, from node: String) {
        while !pendingLoads.isEmpty, journal.count >= Self.journalLimit {
            pendingLoads.removeFirst()
            trimJournal()
        }
        guard !pendingLoads.isEmpty else { return }
        journal.append(RemoteJournalEntry(event: event, node: node))
    }

    /// Removes the pending load `id` and returns the events that arrived after it was sent. A load
    /// that is not pending (sent before the room opened, or abandoned at the journal limit) gets
    /// nil, because what it read may be older than what the room shows.
    mutating func completeLoad(_ id: UInt64?) -> ArraySlice<RemoteJournalEntry>? {
        guard let id, let index = pendingLoads.firstIndex(where: { $0.id == id }) else { return nil }
        let first = pendingLoads.remove(at: index).firstSequence
        let events = journal[(first - journalStart)...]
        trimJournal()
        return events
    }

    /// Drops the journal entries that no pending load needs.
    mutating func trimJournal() {
        guard let oldest = pendingLoads.map(\.firstSequence).min() else {
            journalStart += journal.count
            journal.removeAll()
            return
        }
        let unneeded = oldest - journalStart
        if unneeded > 0 {
            journal.removeFirst(unneeded)
            journalStart = oldest
        }
    }

    mutating func remove(_ userID: String) {
        users[userID] = nil
        order.removeAll { $0 == userID }
    }
}

extension DocumentRoom {
    // MARK: - Counting and listing users across nodes

    /// The distinct users present on any node, the number capacity is checked against.
    public var distinctUserCount: Int {
        records.count + remote.order.reduce(0) { $0 + (records[$1] == nil ? 1 : 0) }
    }

    /// Returns whether `userID` may join without exceeding `capacity` distinct users. A user already
    /// present through another node adds no one.
    func hasCapacity(for userID: String, capacity: Int) -> Bool {
        remote.users[userID] != nil || distinctUserCount < capacity
    }

    /// Every user present on any node: local users in join order, then users only on other nodes.
    public var allUsers: [UserPresence] {
        users + remote.order.compactMap { records[$0] == nil ? remote.users[$0]?.presence : nil }
    }

    /// The other nodes that hold a connection to this document.
    public var remoteNodes: Set<String> {
        remote.users.values.reduce(into: Set<String>()) { $0.formUnion($1.nodes) }
    }

    /// Appends the users that are only on other nodes to a snapshot, as the policy lets the
    /// recipient see them.
    func appendRemoteUsers(to users: inout [UserPresence], for recipient: UserPresence, info: DocumentInfo) {
        for userID in remote.order where records[userID] == nil && userID != recipient.userID {
            guard let presence = remote.users[userID]?.presence,
                let visible = visiblePresence(presence, to: recipient, info: info)
            else { continue }
            users.append(visible)
        }
    }

    // MARK: - The first load

    /// Holds back snapshots until `finishRemoteLoad`, so that the first members on this node see
    /// the users on other nodes in their snapshot instead of as joins after it. Call before the
    /// first join, when the room is created on a node with peers.
    public func beginRemoteLoad() {
        remote.isLoading = true
    }

    /// Sends the snapshots held back since `beginRemoteLoad`. `reconcileRemote` calls it; the
    /// owner calls it when the load fails or takes too long.
    public func finishRemoteLoad() {
        guard remote.isLoading else { return }
        remote.isLoading = false
        let waiting = remote.awaitingSnapshot
        remote.awaitingSnapshot.removeAll()
        guard !waiting.isEmpty else { return }
        beginOperation()
        defer { endOperation() }
        for member in waiting {
            guard let userID = members[member]?.userID, let presence = records[userID]?.presence else { continue }
            sendSnapshot(to: member, selfPresence: presence)
        }
    }

    /// Returns true, and records the member, when its snapshot must wait for the first load.
    func deferSnapshot(to member: MemberID) -> Bool {
        guard remote.isLoading else { return false }
        if !remote.awaitingSnapshot.contains(member) {
            remote.awaitingSnapshot.append(member)
        }
        return true
    }

    /// Returns whether `member` may receive events: not while its snapshot waits.
    func receivesEvents(_ member: MemberID) -> Bool {
        remote.awaitingSnapshot.isEmpty || !remote.awaitingSnapshot.contains(member)
    }

    // MARK: - Loads in flight

    /// Marks that a load of this document from the shared store was sent. Call on the room's
    /// thread in the same order as `applyRemote`: after the events that arrived before the load was
    /// sent and before those that arrive after. `reconcileRemote` with the same `id` then applies
    /// those later events on top of what the load read, because the load may have read the store
    /// before they were written.
    public func remoteLoadSent(id: UInt64) {
        remote.pendingLoads.append((id: id, firstSequence: remote.journalStart + remote.journal.count))
    }

    /// Forgets the pending load `id`, whose read failed.
    public func remoteLoadFailed(id: UInt64) {
        _ = remote.completeLoad(id)
    }

    // MARK: - Hooks for local joins and leaves

    /// Starts a local user from the state other nodes already show, so a second tab on this node
    /// does not reset the colour, cursor or activity the other members see.
    func adoptRemoteState(into presence: inout UserPresence) {
        guard let shared = remote.users[presence.userID]?.presence else { return }
        presence.color = shared.color
        presence.connectedAt = shared.connectedAt
        presence.cursor = shared.cursor
        presence.selection = shared.selection
        presence.state.viewport = shared.state.viewport
        presence.state.activity = shared.state.activity
    }

    /// Announces a user's first connection on this node: `UserJoined` to the members, unless the
    /// user is already present through another node, when only the other nodes receive the event.
    func announceJoin(_ presence: UserPresence, origin: MemberID, createdMs: UInt64) {
        if remote.users[presence.userID] == nil {
            emit(.userJoined(presence), origin: origin, createdMs: createdMs)
        } else {
            relay?.room(self, publish: .userJoined(presence))
        }
    }

    /// Announces that a user's last connection on this node closed: `UserLeft` to the members,
    /// unless the user stays present through another node, when only the other nodes receive the event.
    func announceLeave(userID: String, createdMs: UInt64) {
        if remote.users[userID] == nil {
            emit(.userLeft(userID: userID), origin: nil, createdMs: createdMs)
        } else {
            relay?.room(self, publish: .userLeft(userID: userID))
        }
    }

    /// Publishes a locally caused event to the other nodes; called by `emit`.
    func relayLocalEvent(_ event: PresenceEvent) {
        guard !remote.isApplying else { return }
        relay?.room(self, publish: event)
    }

    // MARK: - Events from other nodes

    /// Applies an event that `node` published, delivering it to the local members in arrival
    /// order. `UserJoined` adds the node to the user's holders and `UserLeft` removes it. Members
    /// see the user join when the first node (local or remote) holds them and leave when the last
    /// lets go. Other events update the user's published state; events about a user this room does
    /// not know are dropped, because the next load brings that user's whole state.
    public func applyRemote(_ event: PresenceEvent, from node: String) {
        beginOperation()
        remote.isApplying = true
        defer {
            remote.isApplying = false
            endOperation()
        }

        remote.record(event, from: node)
        let nowMs = clock.monotonicMs
        switch event {
        case .userJoined(let presence):
            let userID = presence.userID
            if var known = remote.users[userID] {
                known.nodes.insert(node)
                known.presence = presence
                remote.users[userID] = known
                return
            }
            remote.users[userID] = RemoteUser(presence: presence, nodes: [node])
            remote.order.append(userID)
            cachedDocumentInfo = nil
            if records[userID] == nil {
                emit(.userJoined(presence), origin: nil, createdMs: nowMs)
            }
        case .userLeft(let userID):
            guard var known = remote.users[userID] else { return }
            known.nodes.remove(node)
            if known.nodes.isEmpty {
                removeRemoteUser(userID, nowMs: nowMs)
            } else {
                remote.users[userID] = known
            }
        default:
            applyRemoteUpdate(event, nowMs: nowMs)
        }
    }

    /// Replaces the room's view of other nodes with a state loaded from the shared store,
    /// announcing the differences: joins, leaves, and for users whose state changed meanwhile, the
    /// events that bring the members up to date. `holders` maps each user to the other nodes that
    /// hold them; users without any are not remote. Holdings of the nodes in `unverifiedNodes`
    /// stay as they are, because the store may not show them yet (a node that has not written its
    /// presence back after Redis lost its data). `loadID` names the load marked with
    /// `remoteLoadSent`. The events from other nodes that arrived after that mark are applied on top
    /// of the loaded state, so that a read which preceded a join does not undo it.
    ///
    /// - Returns: true when `loadID` was not pending (abandoned at the journal limit, or sent for an
    ///   earlier room of the document), so the state was applied as read and the owner should load
    ///   the document again.
    @discardableResult
    public func reconcileRemote(
        users: [UserPresence], holders: [String: Set<String>], unverifiedNodes: Set<String> = [],
        loadID: UInt64? = nil
    ) -> Bool {
        beginOperation()
        remote.isApplying = true
        defer {
            remote.isApplying = false
            endOperation()
        }

        let nowMs = clock.monotonicMs
        var wanted: [String: RemoteUser] = [:]
        var users = users
        for presence in users {
            guard let nodes = holders[presence.userID], !nodes.isEmpty else { continue }
            wanted[presence.userID] = RemoteUser(presence: presence, nodes: nodes)
        }
        for userID in remote.order {
            guard let current = remote.users[userID] else { continue }
            let kept = current.nodes.intersection(unverifiedNodes)
            guard !kept.isEmpty else { continue }
            if wanted[userID] == nil {
                wanted[userID] = RemoteUser(presence: current.presence, nodes: kept)
                users.append(current.presence)
            } else {
                wanted[userID]!.nodes.formUnion(kept)
            }
        }
        let later = remote.completeLoad(loadID)
        for entry in later ?? [] {
            Self.replay(entry, onto: &wanted, users: &users)
        }
        for userID in remote.order where wanted[userID] == nil {
            removeRemoteUser(userID, nowMs: nowMs)
        }
        for presence in users {
            guard let target = wanted[presence.userID] else { continue }
            if let current = remote.users[presence.userID] {
                remote.users[presence.userID] = target
                if records[presence.userID] == nil {
                    for event in Self.changes(from: current.presence, to: target.presence) {
                        emit(event, origin: nil, createdMs: nowMs)
                    }
                }
            } else {
                remote.users[presence.userID] = target
                remote.order.append(presence.userID)
                cachedDocumentInfo = nil
                if records[presence.userID] == nil {
                    emit(.userJoined(target.presence), origin: nil, createdMs: nowMs)
                }
            }
        }
        finishRemoteLoad()
        return loadID != nil && later == nil
    }

    /// Forgets every connection that `node` held, as when it stopped heartbeating, announcing the
    /// users that no node holds any more.
    public func dropRemoteNode(_ node: String) {
        beginOperation()
        remote.isApplying = true
        defer {
            remote.isApplying = false
            endOperation()
        }
        let nowMs = clock.monotonicMs
        for userID in remote.order {
            guard var known = remote.users[userID], known.nodes.remove(node) != nil else { continue }
            if known.nodes.isEmpty {
                removeRemoteUser(userID, nowMs: nowMs)
            } else {
                remote.users[userID] = known
            }
        }
    }

    // MARK: - Helpers

    /// Applies one journalled event to a state being reconciled, as `applyRemote` would have.
    private static func replay(
        _ entry: RemoteJournalEntry, onto wanted: inout [String: RemoteUser], users: inout [UserPresence]
    ) {
        switch entry.event {
        case .userJoined(let presence):
            if wanted[presence.userID] != nil {
                wanted[presence.userID]!.nodes.insert(entry.node)
                wanted[presence.userID]!.presence = presence
            } else {
                wanted[presence.userID] = RemoteUser(presence: presence, nodes: [entry.node])
                users.append(presence)
            }
        case .userLeft(let userID):
            guard wanted[userID] != nil else { return }
            wanted[userID]!.nodes.remove(entry.node)
            if wanted[userID]!.nodes.isEmpty { wanted[userID] = nil }
        default:
            guard wanted[entry.event.userID] != nil else { return }
            apply(entry.event, to: &wanted[entry.event.userID]!.presence)
        }
    }

    private func removeRemoteUser(_ userID: String, nowMs: UInt64) {
        remote.remove(userID)
        cachedDocumentInfo = nil
        if records[userID] == nil {
            emit(.userLeft(userID: userID), origin: nil, createdMs: nowMs)
        }
    }

    /// Applies a state change of a user to the stored presence (the local record when the user is
    /// also on this node, which then counts as activity) and delivers it.
    private func applyRemoteUpdate(_ event: PresenceEvent, nowMs: UInt64) {
        let userID = event.userID
        let isLocal = records[userID] != nil
        guard isLocal || remote.users[userID] != nil else { return }
        if isLocal {
            var presence = records[userID]!.presence
            Self.apply(event, to: &presence)
            records[userID]!.presence = presence
            if Self.isActivity(event) {
                markActive(userID: userID, nowMs: nowMs)
            }
        }
        if var known = remote.users[userID] {
            Self.apply(event, to: &known.presence)
            remote.users[userID] = known
        }
        emit(event, origin: nil, createdMs: nowMs)
    }

    static func apply(_ event: PresenceEvent, to presence: inout UserPresence) {
        switch event {
        case .cursorMoved(_, let cursor, let selection):
            presence.cursor = cursor
            presence.selection = selection
        case .typingChanged(_, let isTyping):
            presence.state.typing = isTyping
        case .viewportChanged(_, let viewport):
            presence.state.viewport = viewport
        case .activityChanged(_, let activity):
            presence.state.activity = activity
        case .userIdle:
            presence.state.activity = .idle
        case .focusChanged(_, let focused):
            presence.state.focused = focused
        case .userJoined, .userLeft:
            break
        }
    }

    private static func isActivity(_ event: PresenceEvent) -> Bool {
        switch event {
        case .cursorMoved, .viewportChanged: true
        case .typingChanged(_, let isTyping): isTyping
        case .focusChanged(_, let focused): focused
        case .activityChanged(_, let activity): !activity.isInactive
        case .userIdle, .userJoined, .userLeft: false
        }
    }

    /// Returns the events that turn `old` into `new` for a member who saw `old`.
    static func changes(from old: UserPresence, to new: UserPresence) -> [PresenceEvent] {
        var events: [PresenceEvent] = []
        let userID = new.userID
        if let cursor = new.cursor, old.cursor != new.cursor || old.selection != new.selection {
            events.append(.cursorMoved(userID: userID, cursor: cursor, selection: new.selection))
        }
        if old.state.typing != new.state.typing {
            events.append(.typingChanged(userID: userID, isTyping: new.state.typing))
        }
        if let viewport = new.state.viewport, old.state.viewport != viewport {
            events.append(.viewportChanged(userID: userID, viewport: viewport))
        }
        if old.state.focused != new.state.focused {
            events.append(.focusChanged(userID: userID, focused: new.state.focused))
        }
        if old.state.activity != new.state.activity {
            events.append(
                new.state.activity == .idle
                    ? .userIdle(userID: userID) : .activityChanged(userID: userID, activity: new.state.activity))
        }
        return events
    }
}
