extension DocumentRoom {
    /// Filters, encodes and queues one event for every member but `origin`. Joins and leaves, and
    /// every event when `flushIntervalMs` is 0, go out at once together with everything queued
    /// before them. Other events wait for the flush tick.
    func emit(_ event: PresenceEvent, origin: MemberID?, createdMs: UInt64) {
        relayLocalEvent(event)
        let info = documentInfo
        guard let filtered = policy.filter(event, in: info) else { return }
        let recipients = memberOrder.filter { $0 != origin && receivesEvents($0) }
        let timestamp = clock.wallMs

        if !recipients.isEmpty {
            if policyFiltersPerRecipient {
                for (recipientEvent, group) in filterPerRecipient(filtered, recipients: recipients, info: info) {
                    queue(recipientEvent, to: group, createdMs: createdMs, timestamp: timestamp)
                }
            } else {
                queue(filtered, to: recipients, createdMs: createdMs, timestamp: timestamp)
            }
        }

        let isImmediate: Bool =
            switch event {
            case .userJoined, .userLeft: true
            default: config.flushIntervalMs == 0
            }
        if isImmediate {
            flushOutgoing()
        } else if flushDueMs == nil, !outgoing.isEmpty {
            flushDueMs = clock.monotonicMs + config.flushIntervalMs
        }
    }

    /// Groups recipients by the event the policy lets each of them see, so each distinct result is
    /// encoded once. Recipients whose result is nil are left out.
    private func filterPerRecipient(
        _ event: PresenceEvent, recipients: [MemberID], info: DocumentInfo
    ) -> [(PresenceEvent, [MemberID])] {
        var groups: [(PresenceEvent, [MemberID])] = []
        var resultByUser: [String: PresenceEvent?] = [:]
        for member in recipients {
            guard let userID = members[member]?.userID, let recipient = records[userID]?.presence else { continue }
            let result: PresenceEvent?
            if let cached = resultByUser[userID] {
                result = cached
            } else {
                result = policy.filter(event, for: recipient, in: info)
                resultByUser[userID] = .some(result)
            }
            guard let result else { continue }
            if let index = groups.firstIndex(where: { $0.0 == result }) {
                groups[index].1.append(member)
            } else {
                groups.append((result, [member]))
            }
        }
        return groups
    }

    private func queue(_ event: PresenceEvent, to recipients: [MemberID], createdMs: UInt64, timestamp: UInt64) {
        let bytes = ServerMessageEncoder.presence(documentID: documentID, event: event, timestamp: timestamp)
        let frame = OutgoingFrame(bytes: bytes, kind: Self.frameKind(of: event), createdMonotonicMs: createdMs)
        outgoing.append((frame, recipients))
    }

    static func frameKind(of event: PresenceEvent) -> FrameKind {
        switch event {
        case .cursorMoved(let userID, _, _): .cursor(userID: userID)
        case .viewportChanged(let userID, _): .viewport(userID: userID)
        case .typingChanged(let userID, _): .typing(userID: userID)
        case .userJoined, .userLeft, .activityChanged, .userIdle, .focusChanged: .control
        }
    }

    /// Sends a snapshot to one member at once, after everything queued before it. The snapshot is
    /// the published state, which already contains every event queued so far, so the member must
    /// not receive those; it receives every later event.
    func sendSnapshot(to member: MemberID, selfPresence: UserPresence) {
        if deferSnapshot(to: member) { return }
        flushOutgoing()
        var users: [UserPresence] = []
        users.reserveCapacity(userOrder.count)
        let info = documentInfo
        for userID in userOrder {
            guard let presence = records[userID]?.presence else { continue }
            if presence.userID == selfPresence.userID {
                users.append(presence)
                continue
            }
            guard let visible = visiblePresence(presence, to: selfPresence, info: info) else { continue }
            users.append(visible)
        }
        appendRemoteUsers(to: &users, for: selfPresence, info: info)
        let bytes = ServerMessageEncoder.snapshot(
            documentID: documentID, self: selfPresence, users: users, timestamp: clock.wallMs
        )
        outgoing.append((OutgoingFrame(bytes: bytes, kind: .control, createdMonotonicMs: clock.monotonicMs), [member]))
        flushOutgoing()
    }

    /// Returns how another user appears in a snapshot: as the policy's filters would show their
    /// `UserJoined` to this recipient, or nil when they would drop it.
    func visiblePresence(
        _ presence: UserPresence, to recipient: UserPresence, info: DocumentInfo
    ) -> UserPresence? {
        guard let event = policy.filter(.userJoined(presence), in: info) else { return nil }
        var visible = event
        if policyFiltersPerRecipient {
            guard let personal = policy.filter(event, for: recipient, in: info) else { return nil }
            visible = personal
        }
        guard case .userJoined(let shown) = visible else { return presence }
        return shown
    }

    /// Delivers every queued frame in order. A call made while frames are being delivered (the
    /// output called back into the room) only queues, and the outer loop delivers its frames.
    func flushOutgoing() {
        flushDueMs = nil
        guard !isDelivering else { return }
        isDelivering = true
        defer { isDelivering = false }
        while !outgoing.isEmpty {
            let batch = outgoing
            outgoing.removeAll(keepingCapacity: true)
            for (frame, recipients) in batch {
                output.deliver(frame, to: recipients)
            }
            deliveredSinceEndOfBatch = true
        }
    }

    func beginOperation() {
        operationDepth += 1
    }

    /// Ends an operation. The outermost one tells the output that its frames are complete.
    func endOperation() {
        operationDepth -= 1
        guard operationDepth == 0, deliveredSinceEndOfBatch else { return }
        deliveredSinceEndOfBatch = false
        output.endOfBatch()
    }
}
