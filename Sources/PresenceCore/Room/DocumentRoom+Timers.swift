extension DocumentRoom {
    /// Runs all work due at `clock.monotonicMs`: throttled cursors, typing debounce, idle and away
    /// checks, store writes and refreshes, and the flush of queued events.
    public func tick() {
        beginOperation()
        defer { endOperation() }

        let nowMs = clock.monotonicMs
        while let entry = deadlines.popDue(nowMs: nowMs) {
            guard let record = records[entry.userID], record.incarnation == entry.incarnation else { continue }
            switch entry.timer {
            case .pendingCursor:
                guard let pending = record.pendingCursor, pending.dueMs == entry.dueMs else { continue }
                publishCursor(
                    userID: entry.userID, cursor: pending.cursor, selection: pending.selection,
                    receivedMonotonicMs: pending.receivedMonotonicMs, origin: pending.origin,
                    scheduledMs: pending.dueMs, nowMs: nowMs
                )
            case .typingDebounce:
                guard record.typingDebounceDueMs == entry.dueMs else { continue }
                runTypingDebounce(userID: entry.userID, nowMs: nowMs)
            case .activityCheck:
                guard record.activityCheckDueMs == entry.dueMs else { continue }
                records[entry.userID]!.activityCheckDueMs = nil
                evaluateActivity(userID: entry.userID, nowMs: nowMs)
                scheduleNextActivityCheck(userID: entry.userID)
            case .positionStore:
                guard record.positionStoreDueMs == entry.dueMs else { continue }
                records[entry.userID]!.positionStoreDueMs = nil
                writeToStore(userID: entry.userID)
            }
        }

        if let dueMs = activityPollDueMs, dueMs <= nowMs {
            activityPollDueMs = records.isEmpty ? nil : nowMs + Self.activityPollIntervalMs
            for userID in userOrder {
                evaluateActivity(userID: userID, nowMs: nowMs)
            }
        }
        if let dueMs = storeRefreshDueMs, dueMs <= nowMs {
            storeRefreshDueMs = records.isEmpty ? nil : nowMs + storeRefreshIntervalMs
            if !records.isEmpty {
                store.refresh(documentID: documentID, workspaceID: workspaceID, userIDs: userOrder)
            }
        }
        if let dueMs = flushDueMs, dueMs <= nowMs {
            flushOutgoing()
        }
    }

    private func runTypingDebounce(userID: String, nowMs: UInt64) {
        guard case .keystrokes(let lastKeystrokeMs) = records[userID]!.typingMode else {
            records[userID]!.typingDebounceDueMs = nil
            return
        }
        let stopMs = lastKeystrokeMs + config.typingDebounceMs
        if stopMs <= nowMs {
            let origin = records[userID]!.typingMember
            setTyping(userID: userID, false, origin: origin)
        } else {
            records[userID]!.typingDebounceDueMs = stopMs
            deadlines.insert(
                DeadlineEntry(
                    dueMs: stopMs, userID: userID, incarnation: records[userID]!.incarnation, timer: .typingDebounce
                )
            )
        }
    }

    // MARK: - Idle and away

    /// Moves the user to the activity that their inactivity calls for. The policy's activity rule
    /// decides when it has one and returns a value; otherwise `Idle` follows `activityTimeoutMs` and
    /// `Away` follows `awayTimeoutMs` without activity. Each state is announced once, on entry.
    func evaluateActivity(userID: String, nowMs: UInt64) {
        guard let record = records[userID] else { return }
        let idleMs = nowMs - min(nowMs, record.lastActiveMonotonicMs)
        let current = record.presence.state.activity
        var target: ActivityType? = nil
        if policyHasActivityRule {
            target = policy.activity(for: record.presence, in: documentInfo, idleMs: idleMs)
        }
        if target == nil {
            if idleMs >= config.awayTimeoutMs {
                target = .away
            } else if idleMs >= config.activityTimeoutMs, current != .away {
                target = .idle
            } else {
                target = current
            }
        }
        changeActivity(userID: userID, to: target!, origin: nil)
    }

    /// Schedules the next idle or away check from the user's last activity. An away user needs none
    /// until their next activity. When the policy's activity rule kept the user active past the
    /// timeout, the next check comes one poll interval later, so a tick never schedules work for
    /// the moment it runs in.
    private func scheduleNextActivityCheck(userID: String) {
        let record = records[userID]!
        let dueMs: UInt64
        switch record.presence.state.activity {
        case .editing, .viewing, .selecting:
            dueMs = record.lastActiveMonotonicMs + config.activityTimeoutMs
        case .idle:
            dueMs = record.lastActiveMonotonicMs + config.awayTimeoutMs
        case .away:
            return
        }
        let nowMs = clock.monotonicMs
        scheduleActivityCheck(userID: userID, dueMs: dueMs > nowMs ? dueMs : nowMs + Self.activityPollIntervalMs)
    }

    func scheduleActivityCheck(userID: String, dueMs: UInt64) {
        records[userID]!.activityCheckDueMs = dueMs
        deadlines.insert(
            DeadlineEntry(dueMs: dueMs, userID: userID, incarnation: records[userID]!.incarnation, timer: .activityCheck)
        )
    }

    // MARK: - Store

    /// Writes the user's published presence to the store now.
    func writeToStore(userID: String) {
        guard let record = records[userID] else { return }
        records[userID]!.lastStoreMs = clock.monotonicMs
        store.store(record.presence)
    }

    /// Writes a cursor or viewport change to the store, at most once per second per user. A change
    /// within the second is written when the second ends, so the store gets the final position.
    func schedulePositionStore(userID: String, nowMs: UInt64) {
        let record = records[userID]!
        guard record.positionStoreDueMs == nil else { return }
        guard let lastStoreMs = record.lastStoreMs, nowMs < lastStoreMs + Self.positionStoreIntervalMs else {
            writeToStore(userID: userID)
            return
        }
        let dueMs = lastStoreMs + Self.positionStoreIntervalMs
        records[userID]!.positionStoreDueMs = dueMs
        deadlines.insert(
            DeadlineEntry(dueMs: dueMs, userID: userID, incarnation: record.incarnation, timer: .positionStore)
        )
    }
}
