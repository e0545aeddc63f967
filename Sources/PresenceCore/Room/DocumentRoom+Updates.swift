extension DocumentRoom {
    /// Applies a cursor update with a trailing-edge throttle that keeps a schedule. Each
    /// `CursorMoved` books the next slot one `cursorThrottleMs` after its own slot. An update that
    /// arrives at most a fifth of the interval before its slot goes out at once, so a client that
    /// moves at the throttle's rate, with the usual jitter of a network, is never held back. Earlier
    /// ones replace each other, and the latest goes out a fifth of the interval before the slot, so
    /// the final position is never lost. Over any run of moves a user gets at most one
    /// `CursorMoved` per interval on average, and two go out at least four fifths of an interval
    /// apart unless the loop ran late.
    ///
    /// - Parameter receivedMonotonicMs: when the gateway read the message, the start of the cursor
    ///   latency measurement.
    public func cursor(
        member: MemberID, cursor: CursorPosition, selection: Selection?, receivedMonotonicMs: UInt64
    ) throws(PresenceError) {
        let userID = try userID(forJoined: member)
        beginOperation()
        defer { endOperation() }

        let nowMs = clock.monotonicMs
        markActive(userID: userID, nowMs: nowMs)
        var record = records[userID]!
        if record.pendingCursor != nil {
            record.pendingCursor!.cursor = cursor
            record.pendingCursor!.selection = selection
            record.pendingCursor!.receivedMonotonicMs = receivedMonotonicMs
            record.pendingCursor!.origin = member
            records[userID] = record
            return
        }
        if let slotMs = record.nextCursorMs, nowMs + cursorJitterToleranceMs < slotMs {
            let dueMs = slotMs - cursorJitterToleranceMs
            record.pendingCursor = PendingCursor(
                cursor: cursor, selection: selection, receivedMonotonicMs: receivedMonotonicMs, origin: member,
                dueMs: dueMs
            )
            records[userID] = record
            deadlines.insert(
                DeadlineEntry(dueMs: dueMs, userID: userID, incarnation: record.incarnation, timer: .pendingCursor)
            )
            return
        }
        publishCursor(
            userID: userID, cursor: cursor, selection: selection, receivedMonotonicMs: receivedMonotonicMs,
            origin: member, scheduledMs: nowMs, nowMs: nowMs
        )
    }

    /// The time before its slot at which a cursor update may go out: a fifth of `cursorThrottleMs`.
    var cursorJitterToleranceMs: UInt64 {
        config.cursorThrottleMs / 5
    }

    /// Applies a typing message. `isTyping == nil` is a keystroke: it starts typing if the user was
    /// not typing and restarts the debounce, after which typing stops. `true` starts typing until
    /// `false` or until the connection leaves. Typing sets the activity to `Editing`.
    public func typing(member: MemberID, isTyping: Bool?) throws(PresenceError) {
        let userID = try userID(forJoined: member)
        beginOperation()
        defer { endOperation() }

        let nowMs = clock.monotonicMs
        guard isTyping != false else {
            if records[userID]!.presence.state.typing {
                setTyping(userID: userID, false, origin: member)
            }
            return
        }

        markActive(userID: userID, nowMs: nowMs)
        if !records[userID]!.presence.state.typing {
            setTyping(userID: userID, true, origin: member)
        }
        var record = records[userID]!
        record.typingMember = member
        if isTyping == nil {
            record.typingMode = .keystrokes(lastKeystrokeMs: nowMs)
            if record.typingDebounceDueMs == nil {
                let dueMs = nowMs + config.typingDebounceMs
                record.typingDebounceDueMs = dueMs
                deadlines.insert(
                    DeadlineEntry(dueMs: dueMs, userID: userID, incarnation: record.incarnation, timer: .typingDebounce)
                )
            }
        } else {
            record.typingMode = .explicit
            record.typingDebounceDueMs = nil
        }
        records[userID] = record
        changeActivity(userID: userID, to: .editing, origin: member)
    }

    /// Stores the viewport and broadcasts `ViewportChanged`. Scrolling counts as activity.
    public func viewport(member: MemberID, viewport: Viewport) throws(PresenceError) {
        let userID = try userID(forJoined: member)
        beginOperation()
        defer { endOperation() }

        let nowMs = clock.monotonicMs
        markActive(userID: userID, nowMs: nowMs)
        records[userID]!.presence.state.viewport = viewport
        emit(.viewportChanged(userID: userID, viewport: viewport), origin: member, createdMs: nowMs)
        wakeIfInactive(userID: userID, origin: member)
        schedulePositionStore(userID: userID, nowMs: nowMs)
    }

    /// Records the focus of one connection. The user is focused while any of their connections is,
    /// and `FocusChanged` goes out only when that changes. Gaining focus counts as activity.
    public func focus(member: MemberID, focused: Bool) throws(PresenceError) {
        let userID = try userID(forJoined: member)
        beginOperation()
        defer { endOperation() }

        members[member]!.focused = focused
        if focused {
            markActive(userID: userID, nowMs: clock.monotonicMs)
            wakeIfInactive(userID: userID, origin: member)
        }
        updateFocus(userID: userID, origin: member)
    }

    // MARK: - Shared steps

    /// Publishes a cursor position: updates the published state, books the user's next throttle
    /// slot, sends `CursorMoved`, then moves the activity to `Selecting` for a selection, to
    /// `Editing` while typing, or else to `Viewing`. `scheduledMs` is when the update was due: its
    /// arrival when it goes out at once, its deadline when it was held. The next slot counts from
    /// there, so a deadline that runs late on a busy loop does not push every later move back.
    func publishCursor(
        userID: String, cursor: CursorPosition, selection: Selection?, receivedMonotonicMs: UInt64,
        origin: MemberID, scheduledMs: UInt64, nowMs: UInt64
    ) {
        var record = records[userID]!
        record.presence.cursor = cursor
        record.presence.selection = selection
        record.presence.lastCursorUpdate = clock.wallMs
        record.nextCursorMs = max(record.nextCursorMs ?? scheduledMs, scheduledMs) + config.cursorThrottleMs
        record.pendingCursor = nil
        records[userID] = record
        emit(
            .cursorMoved(userID: userID, cursor: cursor, selection: selection), origin: origin,
            createdMs: receivedMonotonicMs
        )
        let activity: ActivityType =
            if selection != nil { .selecting } else if record.presence.state.typing { .editing } else { .viewing }
        changeActivity(userID: userID, to: activity, origin: origin)
        schedulePositionStore(userID: userID, nowMs: nowMs)
    }

    func setTyping(userID: String, _ isTyping: Bool, origin: MemberID?) {
        var record = records[userID]!
        record.presence.state.typing = isTyping
        if !isTyping {
            record.typingMode = .notTyping
            record.typingMember = nil
            record.typingDebounceDueMs = nil
        }
        records[userID] = record
        emit(.typingChanged(userID: userID, isTyping: isTyping), origin: origin, createdMs: clock.monotonicMs)
        writeToStore(userID: userID)
    }

    /// Restarts the idle and away timeouts of the user.
    func markActive(userID: String, nowMs: UInt64) {
        records[userID]!.lastActiveMonotonicMs = nowMs
        records[userID]!.presence.lastActiveAt = clock.wallMs
        let checkDueMs = nowMs + config.activityTimeoutMs
        if let scheduled = records[userID]!.activityCheckDueMs, scheduled <= checkDueMs {
            return
        }
        scheduleActivityCheck(userID: userID, dueMs: checkDueMs)
    }

    /// Returns an idle or away user to `Viewing`, for activity that does not imply another state.
    func wakeIfInactive(userID: String, origin: MemberID) {
        if records[userID]!.presence.state.activity.isInactive {
            changeActivity(userID: userID, to: .viewing, origin: origin)
        }
    }

    /// Sets the activity and announces a change: `UserIdle` for `Idle`, `ActivityChanged` for any
    /// other state. Nothing is sent when the activity stays the same.
    func changeActivity(userID: String, to activity: ActivityType, origin: MemberID?) {
        guard records[userID]!.presence.state.activity != activity else { return }
        // An idle or away user is not typing, even after an explicit `is_typing: true` that was
        // never followed by `false`: other pages would otherwise show "is typing" for hours.
        if activity.isInactive && records[userID]!.presence.state.typing {
            setTyping(userID: userID, false, origin: nil)
        }
        records[userID]!.presence.state.activity = activity
        let event: PresenceEvent =
            activity == .idle ? .userIdle(userID: userID) : .activityChanged(userID: userID, activity: activity)
        emit(event, origin: origin, createdMs: clock.monotonicMs)
        writeToStore(userID: userID)
    }

    /// Recomputes whether any of the user's connections has focus and announces a change.
    func updateFocus(userID: String, origin: MemberID?) {
        guard let record = records[userID] else { return }
        let focused = record.members.contains { members[$0]?.focused == true }
        guard record.presence.state.focused != focused else { return }
        records[userID]!.presence.state.focused = focused
        emit(.focusChanged(userID: userID, focused: focused), origin: origin, createdMs: clock.monotonicMs)
        writeToStore(userID: userID)
    }
}
