/// Builds the complete UTF-8 JSON text of each server message, with fields in protocol order.
///
/// Envelopes: `{"event_type":"snapshot","document_id":..,"payload":{"self":..,"users":[..]},"timestamp":..}`,
/// `{"event_type":"presence","document_id":..,"payload":<event>,"timestamp":..}`,
/// `{"event_type":"batch","document_id":..,"payload":[<event>,..],"timestamp":..}`,
/// `{"event_type":"error","document_id":..|null,"payload":{"code":..,"message":..,"ref":..},"timestamp":..}`
/// (no `ref` when the request had none) and `{"event_type":"pong","timestamp":..}`. Timestamps are
/// milliseconds since the Unix epoch.
public enum ServerMessageEncoder {
    public static func snapshot(
        documentID: String, self selfPresence: UserPresence, users: [UserPresence], timestamp: UInt64
    ) -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: 160 + 400 * (users.count + 1))
        writer.appendRaw(#"{"event_type":"snapshot","document_id":"#)
        writer.appendString(documentID)
        writer.appendRaw(#","payload":{"self":"#)
        writer.appendPresence(selfPresence)
        writer.appendRaw(#","users":["#)
        for (index, user) in users.enumerated() {
            if index > 0 { writer.appendRaw(",") }
            writer.appendPresence(user)
        }
        writer.appendRaw(#"]},"timestamp":"#)
        writer.appendUInt64(timestamp)
        writer.appendRaw("}")
        return writer.bytes
    }

    public static func presence(documentID: String, event: PresenceEvent, timestamp: UInt64) -> [UInt8] {
        var writer = JSONWriter()
        writer.appendRaw(#"{"event_type":"presence","document_id":"#)
        writer.appendString(documentID)
        writer.appendRaw(#","payload":"#)
        writer.appendEvent(event)
        writer.appendRaw(#","timestamp":"#)
        writer.appendUInt64(timestamp)
        writer.appendRaw("}")
        return writer.bytes
    }

    public static func batch(documentID: String, events: [PresenceEvent], timestamp: UInt64) -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: 96 + 128 * events.count)
        writer.appendRaw(#"{"event_type":"batch","document_id":"#)
        writer.appendString(documentID)
        writer.appendRaw(#","payload":["#)
        for (index, event) in events.enumerated() {
            if index > 0 { writer.appendRaw(",") }
            writer.appendEvent(event)
        }
        writer.appendRaw(#"],"timestamp":"#)
        writer.appendUInt64(timestamp)
        writer.appendRaw("}")
        return writer.bytes
    }

    /// Builds an error message. `ref` is the request's `ref`, echoed as the client wrote it.
    public static func error(
        _ error: PresenceError, documentID: String?, ref: JSONValue?, timestamp: UInt64
    ) -> [UInt8] {
        var writer = JSONWriter()
        writer.appendRaw(#"{"event_type":"error","document_id":"#)
        writer.appendOptionalString(documentID)
        writer.appendRaw(#","payload":{"code":"#)
        writer.appendString(error.code.rawValue)
        writer.appendRaw(#","message":"#)
        writer.appendString(error.message)
        if let ref {
            writer.appendRaw(#","ref":"#)
            writer.appendValue(ref)
        }
        writer.appendRaw(#"},"timestamp":"#)
        writer.appendUInt64(timestamp)
        writer.appendRaw("}")
        return writer.bytes
    }

    public static func pong(timestamp: UInt64) -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: 48)
        writer.appendRaw(#"{"event_type":"pong","timestamp":"#)
        writer.appendUInt64(timestamp)
        writer.appendRaw("}")
        return writer.bytes
    }

    /// Encodes one presence as a JSON object, the same form as in snapshots and `UserJoined`.
    public static func encode(_ presence: UserPresence) -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: 400)
        writer.appendPresence(presence)
        return writer.bytes
    }

    /// Encodes one event in its externally tagged form, the `payload` of a presence message.
    public static func encode(_ event: PresenceEvent) -> [UInt8] {
        var writer = JSONWriter()
        writer.appendEvent(event)
        return writer.bytes
    }
}

extension JSONWriter {
    public mutating func appendPresence(_ presence: UserPresence) {
        appendRaw(#"{"user_id":"#)
        appendString(presence.userID)
        appendRaw(#","document_id":"#)
        appendString(presence.documentID)
        appendRaw(#","workspace_id":"#)
        appendString(presence.workspaceID)
        appendRaw(#","name":"#)
        appendString(presence.name)
        appendRaw(#","avatar_url":"#)
        appendOptionalString(presence.avatarURL)
        appendRaw(#","color":"#)
        appendString(presence.color)

        appendRaw(#","state":{"online":"#)
        appendBool(presence.state.online)
        appendRaw(#","typing":"#)
        appendBool(presence.state.typing)
        appendRaw(#","focused":"#)
        appendBool(presence.state.focused)
        appendRaw(#","activity":"#)
        appendString(presence.state.activity.rawValue)
        appendRaw(#","viewport":"#)
        appendOptionalViewport(presence.state.viewport)

        appendRaw(#"},"cursor":"#)
        appendOptionalCursor(presence.cursor)
        appendRaw(#","selection":"#)
        appendOptionalSelection(presence.selection)

        appendRaw(#","connected_at":"#)
        appendUInt64(presence.connectedAt)
        appendRaw(#","last_active_at":"#)
        appendUInt64(presence.lastActiveAt)
        appendRaw(#","last_cursor_update":"#)
        appendUInt64(presence.lastCursorUpdate)
        appendRaw("}")
    }

    public mutating func appendEvent(_ event: PresenceEvent) {
        switch event {
        case .userJoined(let presence):
            appendRaw(#"{"UserJoined":"#)
            appendPresence(presence)
            appendRaw("}")
        case .userLeft(let userID):
            appendRaw(#"{"UserLeft":"#)
            appendString(userID)
            appendRaw("}")
        case .cursorMoved(let userID, let cursor, let selection):
            appendRaw(#"{"CursorMoved":{"user_id":"#)
            appendString(userID)
            appendRaw(#","cursor":"#)
            appendCursor(cursor)
            appendRaw(#","selection":"#)
            appendOptionalSelection(selection)
            appendRaw("}}")
        case .typingChanged(let userID, let isTyping):
            appendRaw(#"{"TypingChanged":{"user_id":"#)
            appendString(userID)
            appendRaw(#","is_typing":"#)
            appendBool(isTyping)
            appendRaw("}}")
        case .viewportChanged(let userID, let viewport):
            appendRaw(#"{"ViewportChanged":{"user_id":"#)
            appendString(userID)
            appendRaw(#","viewport":"#)
            appendOptionalViewport(viewport)
            appendRaw("}}")
        case .activityChanged(let userID, let activity):
            appendRaw(#"{"ActivityChanged":{"user_id":"#)
            appendString(userID)
            appendRaw(#","activity":"#)
            appendString(activity.rawValue)
            appendRaw("}}")
        case .userIdle(let userID):
            appendRaw(#"{"UserIdle":{"user_id":"#)
            appendString(userID)
            appendRaw("}}")
        case .focusChanged(let userID, let focused):
            appendRaw(#"{"FocusChanged":{"user_id":"#)
            appendString(userID)
            appendRaw(#","focused":"#)
            appendBool(focused)
            appendRaw("}}")
        }
    }

    private mutating func appendCursor(_ cursor: CursorPosition) {
        appendRaw(#"{"line":"#)
        appendUInt64(UInt64(cursor.line))
        appendRaw(#","column":"#)
        appendUInt64(UInt64(cursor.column))
        appendRaw(#","offset":"#)
        appendUInt64(UInt64(cursor.offset))
        appendRaw("}")
    }

    private mutating func appendOptionalCursor(_ cursor: CursorPosition?) {
        if let cursor {
            appendCursor(cursor)
        } else {
            appendRaw("null")
        }
    }

    private mutating func appendOptionalSelection(_ selection: Selection?) {
        guard let selection else {
            appendRaw("null")
            return
        }
        appendRaw(#"{"anchor":"#)
        appendCursor(selection.anchor)
        appendRaw(#","head":"#)
        appendCursor(selection.head)
        appendRaw(#","is_backward":"#)
        appendBool(selection.isBackward)
        appendRaw("}")
    }

    private mutating func appendOptionalViewport(_ viewport: Viewport?) {
        guard let viewport else {
            appendRaw("null")
            return
        }
        appendRaw(#"{"top_line":"#)
        appendUInt64(UInt64(viewport.topLine))
        appendRaw(#","bottom_line":"#)
        appendUInt64(UInt64(viewport.bottomLine))
        appendRaw(#","scroll_percentage":"#)
        appendFloat(viewport.scrollPercentage)
        appendRaw("}")
    }
}
