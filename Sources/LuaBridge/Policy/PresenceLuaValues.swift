import CLua
import PresenceCore

// The presence model as plugins see it: tables with the wire protocol's snake_case field names.
// Optional fields that are nil are absent from the table.

extension CursorPosition {
    func encodeLua(into encoder: inout LuaArgumentEncoder) {
        encoder.beginTable(pairs: 3)
        encoder.key("line")
        encoder.write(Int64(line))
        encoder.key("column")
        encoder.write(Int64(column))
        encoder.key("offset")
        encoder.write(Int64(offset))
    }

    init(lua value: LuaValue, field: String) throws(PluginReturnError) {
        let reader = try LuaTableReader(value, field: field)
        self.init(
            line: try reader.uint32("line"), column: try reader.uint32("column"), offset: try reader.uint32("offset"))
    }
}

extension Selection {
    func encodeLua(into encoder: inout LuaArgumentEncoder) {
        encoder.beginTable(pairs: 3)
        encoder.key("anchor")
        anchor.encodeLua(into: &encoder)
        encoder.key("head")
        head.encodeLua(into: &encoder)
        encoder.key("is_backward")
        encoder.write(isBackward)
    }

    init(lua value: LuaValue, field: String) throws(PluginReturnError) {
        let reader = try LuaTableReader(value, field: field)
        self.init(
            anchor: try CursorPosition(lua: value["anchor"], field: field + ".anchor"),
            head: try CursorPosition(lua: value["head"], field: field + ".head"),
            isBackward: try reader.bool("is_backward"))
    }
}

extension Viewport {
    func encodeLua(into encoder: inout LuaArgumentEncoder) {
        encoder.beginTable(pairs: 3)
        encoder.key("top_line")
        encoder.write(Int64(topLine))
        encoder.key("bottom_line")
        encoder.write(Int64(bottomLine))
        encoder.key("scroll_percentage")
        encoder.write(Double(scrollPercentage))
    }

    init(lua value: LuaValue, field: String) throws(PluginReturnError) {
        let reader = try LuaTableReader(value, field: field)
        let scroll = try reader.number("scroll_percentage")
        guard scroll.isFinite else { throw PluginReturnError("\(field).scroll_percentage must be finite") }
        self.init(
            topLine: try reader.uint32("top_line"), bottomLine: try reader.uint32("bottom_line"),
            scrollPercentage: Float(scroll))
    }
}

extension PresenceState {
    func encodeLua(into encoder: inout LuaArgumentEncoder) {
        encoder.beginTable(pairs: viewport == nil ? 4 : 5)
        encoder.key("online")
        encoder.write(online)
        encoder.key("typing")
        encoder.write(typing)
        encoder.key("focused")
        encoder.write(focused)
        encoder.key("activity")
        encoder.write(activity.rawValue)
        if let viewport {
            encoder.key("viewport")
            viewport.encodeLua(into: &encoder)
        }
    }

    init(lua value: LuaValue, field: String) throws(PluginReturnError) {
        let reader = try LuaTableReader(value, field: field)
        self.init(
            online: try reader.bool("online"), typing: try reader.bool("typing"), focused: try reader.bool("focused"),
            activity: try reader.activity("activity"),
            viewport: value["viewport"].isNil ? nil : try Viewport(lua: value["viewport"], field: field + ".viewport"))
    }
}

extension UserPresence {
    /// Number of fields `encodeLuaFields` writes.
    var luaFieldCount: Int {
        9 + (avatarURL == nil ? 0 : 1) + (cursor == nil ? 0 : 1) + (selection == nil ? 0 : 1)
    }

    /// Writes the presence fields as key/value pairs, for a table of its own or inside an event.
    func encodeLuaFields(into encoder: inout LuaArgumentEncoder) {
        encoder.key("user_id")
        encoder.write(userID)
        encoder.key("document_id")
        encoder.write(documentID)
        encoder.key("workspace_id")
        encoder.write(workspaceID)
        encoder.key("name")
        encoder.write(name)
        if let avatarURL {
            encoder.key("avatar_url")
            encoder.write(avatarURL)
        }
        encoder.key("color")
        encoder.write(color)
        encoder.key("state")
        state.encodeLua(into: &encoder)
        if let cursor {
            encoder.key("cursor")
            cursor.encodeLua(into: &encoder)
        }
        if let selection {
            encoder.key("selection")
            selection.encodeLua(into: &encoder)
        }
        encoder.key("connected_at")
        encoder.write(Int64(clamping: connectedAt))
        encoder.key("last_active_at")
        encoder.write(Int64(clamping: lastActiveAt))
        encoder.key("last_cursor_update")
        encoder.write(Int64(clamping: lastCursorUpdate))
    }

    func encodeLua(into encoder: inout LuaArgumentEncoder) {
        encoder.beginTable(pairs: luaFieldCount)
        encodeLuaFields(into: &encoder)
    }

    init(lua value: LuaValue, field: String) throws(PluginReturnError) {
        let reader = try LuaTableReader(value, field: field)
        self.init(
            userID: try reader.string("user_id"), documentID: try reader.string("document_id"),
            workspaceID: try reader.string("workspace_id"), name: try reader.string("name"),
            avatarURL: try reader.optionalString("avatar_url"), color: try reader.string("color"),
            state: try PresenceState(lua: value["state"], field: field + ".state"),
            cursor: value["cursor"].isNil ? nil : try CursorPosition(lua: value["cursor"], field: field + ".cursor"),
            selection: value["selection"].isNil
                ? nil : try Selection(lua: value["selection"], field: field + ".selection"),
            connectedAt: try reader.uint64("connected_at"), lastActiveAt: try reader.uint64("last_active_at"),
            lastCursorUpdate: try reader.uint64("last_cursor_update"))
    }
}

extension DocumentInfo {
    /// Writes the `doc` table. `colors_in_use` grows with the document, so it is a read-only list
    /// shared between calls, sent only when `lists` shows that the state lacks this exact list.
    func encodeLua(into encoder: inout LuaArgumentEncoder, lists: inout SharedColorLists) {
        encoder.beginTable(pairs: 4)
        encoder.key("id")
        encoder.write(id)
        encoder.key("workspace_id")
        encoder.write(workspaceID)
        encoder.key("user_count")
        encoder.write(Int64(userCount))
        encoder.key("colors_in_use")
        let (slot, isStored) = lists.slot(for: self)
        if isStored {
            encoder.writeSharedValue(slot: slot)
            return
        }
        encoder.beginSharedValue(slot: slot)
        encoder.beginTable(pairs: colorsInUse.count)
        for (offset, color) in colorsInUse.enumerated() {
            encoder.key(offset + 1)
            encoder.write(color)
        }
    }
}

/// The documents whose `colors_in_use` list a Lua state keeps as a shared read-only table, one per
/// slot. A hook called once per recipient would otherwise rebuild a list of every user's colour
/// on each call, which in a large document cost more than the hook itself.
///
/// A list sent with a call counts as stored only once that call returns from the state, which has
/// then decoded it. A call that fails may or may not have stored it, so a failure clears them all.
struct SharedColorLists {
    private var stored: [(documentID: String, colors: [String])?] = Array(repeating: nil, count: Int(CLUA_CACHE_SLOTS))
    /// The list that the arguments being built store, and its slot.
    private var pending: (slot: Int, documentID: String, colors: [String])?

    /// Returns the slot for `document`'s list and whether the state keeps that exact list there.
    /// When it does not, the caller sends the list, and `commit` records it after the call.
    mutating func slot(for document: DocumentInfo) -> (slot: UInt32, isStored: Bool) {
        var hasher = Hasher()
        hasher.combine(document.id)
        let slot = Int(UInt(bitPattern: hasher.finalize()) % UInt(stored.count))
        if let entry = stored[slot], entry.documentID == document.id, entry.colors == document.colorsInUse {
            return (UInt32(slot), true)
        }
        pending = (slot, document.id, document.colorsInUse)
        return (UInt32(slot), false)
    }

    /// Records the list sent with a call that returned from the state.
    mutating func commit() {
        guard let pending else { return }
        stored[pending.slot] = (pending.documentID, pending.colors)
        self.pending = nil
    }

    /// Drops the list of arguments that were never sent.
    mutating func discardPending() {
        pending = nil
    }

    /// Forgets every list, for a new state or after a failed call.
    mutating func removeAll() {
        pending = nil
        for index in stored.indices { stored[index] = nil }
    }
}

extension PresenceEvent {
    /// Writes the event as a table with a `type` field naming the variant. `UserJoined` carries
    /// the presence fields at the top level, beside `type`.
    func encodeLua(into encoder: inout LuaArgumentEncoder) {
        switch self {
        case .userJoined(let presence):
            encoder.beginTable(pairs: presence.luaFieldCount + 1)
            presence.encodeLuaFields(into: &encoder)
        case .userLeft(let userID), .userIdle(let userID):
            encoder.beginTable(pairs: 2)
            encoder.key("user_id")
            encoder.write(userID)
        case .cursorMoved(let userID, let cursor, let selection):
            encoder.beginTable(pairs: selection == nil ? 3 : 4)
            encoder.key("user_id")
            encoder.write(userID)
            encoder.key("cursor")
            cursor.encodeLua(into: &encoder)
            if let selection {
                encoder.key("selection")
                selection.encodeLua(into: &encoder)
            }
        case .typingChanged(let userID, let isTyping):
            encoder.beginTable(pairs: 3)
            encoder.key("user_id")
            encoder.write(userID)
            encoder.key("is_typing")
            encoder.write(isTyping)
        case .viewportChanged(let userID, let viewport):
            encoder.beginTable(pairs: 3)
            encoder.key("user_id")
            encoder.write(userID)
            encoder.key("viewport")
            viewport.encodeLua(into: &encoder)
        case .activityChanged(let userID, let activity):
            encoder.beginTable(pairs: 3)
            encoder.key("user_id")
            encoder.write(userID)
            encoder.key("activity")
            encoder.write(activity.rawValue)
        case .focusChanged(let userID, let focused):
            encoder.beginTable(pairs: 3)
            encoder.key("user_id")
            encoder.write(userID)
            encoder.key("focused")
            encoder.write(focused)
        }
        encoder.key("type")
        encoder.write(name)
    }

    /// Reads the event a filter returned in place of `original`. A filter may change the fields but
    /// not the type or the user the event is about, so it cannot forge another user's presence.
    init(lua value: LuaValue, replacing original: PresenceEvent) throws(PluginReturnError) {
        let field = "the returned event"
        let reader = try LuaTableReader(value, field: field)
        let type = try reader.string("type")
        guard type == original.name else {
            throw PluginReturnError("a filter may not change the event type from \(original.name) to \(type)")
        }
        let userID = try reader.string("user_id")
        guard userID == original.userID else {
            throw PluginReturnError("a filter may not change user_id from \"\(original.userID)\" to \"\(userID)\"")
        }
        switch original {
        case .userJoined(let joined):
            let presence = try UserPresence(lua: value, field: field)
            guard presence.documentID == joined.documentID, presence.workspaceID == joined.workspaceID else {
                throw PluginReturnError("a filter may not change document_id or workspace_id")
            }
            self = .userJoined(presence)
        case .userLeft:
            self = .userLeft(userID: userID)
        case .userIdle:
            self = .userIdle(userID: userID)
        case .cursorMoved:
            self = .cursorMoved(
                userID: userID, cursor: try CursorPosition(lua: value["cursor"], field: "cursor"),
                selection: value["selection"].isNil ? nil : try Selection(lua: value["selection"], field: "selection"))
        case .typingChanged:
            self = .typingChanged(userID: userID, isTyping: try reader.bool("is_typing"))
        case .viewportChanged:
            self = .viewportChanged(userID: userID, viewport: try Viewport(lua: value["viewport"], field: "viewport"))
        case .activityChanged:
            self = .activityChanged(userID: userID, activity: try reader.activity("activity"))
        case .focusChanged:
            self = .focusChanged(userID: userID, focused: try reader.bool("focused"))
        }
    }
}

/// A hook returned a value of the wrong type or shape.
struct PluginReturnError: Error, Sendable, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

/// Typed access to the fields of a table a hook returned, with errors that name the field.
struct LuaTableReader {
    let value: LuaValue
    let field: String

    init(_ value: LuaValue, field: String) throws(PluginReturnError) {
        guard case .table = value else {
            throw PluginReturnError("\(field) must be a table, got a \(value.typeName) value")
        }
        self.value = value
        self.field = field
    }

    private func mismatch(_ key: String, _ expected: String) -> PluginReturnError {
        PluginReturnError("\(field).\(key) must be \(expected), got a \(value[key].typeName) value")
    }

    func string(_ key: String) throws(PluginReturnError) -> String {
        guard case .string(let string) = value[key] else { throw mismatch(key, "a string") }
        return string
    }

    func optionalString(_ key: String) throws(PluginReturnError) -> String? {
        if value[key].isNil { return nil }
        return try string(key)
    }

    func bool(_ key: String) throws(PluginReturnError) -> Bool {
        guard case .boolean(let flag) = value[key] else { throw mismatch(key, "a boolean") }
        return flag
    }

    func number(_ key: String) throws(PluginReturnError) -> Double {
        switch value[key] {
        case .integer(let integer): return Double(integer)
        case .number(let number): return number
        default: throw mismatch(key, "a number")
        }
    }

    func uint32(_ key: String) throws(PluginReturnError) -> UInt32 {
        guard let integer = value[key].integerValue, let result = UInt32(exactly: integer) else {
            throw mismatch(key, "an integer from 0 to \(UInt32.max)")
        }
        return result
    }

    func uint64(_ key: String) throws(PluginReturnError) -> UInt64 {
        guard let integer = value[key].integerValue, let result = UInt64(exactly: integer) else {
            throw mismatch(key, "a non-negative integer")
        }
        return result
    }

    func activity(_ key: String) throws(PluginReturnError) -> ActivityType {
        guard case .string(let name) = value[key], let activity = ActivityType(rawValue: name) else {
            throw mismatch(key, "one of " + ActivityType.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return activity
    }
}
