import PresenceCore

// The presence model as plugins see it: tables with the wire protocol's snake_case field names.
// Optional fields that are nil are absent from the table.

extension CursorPosition {
    var luaValue: LuaValue {
        .record(["line": .integer(Int64(line)), "column": .integer(Int64(column)), "offset": .integer(Int64(offset))])
    }

    init(lua value: LuaValue, field: String) throws(PluginReturnError) {
        let reader = try LuaTableReader(value, field: field)
        self.init(
            line: try reader.uint32("line"), column: try reader.uint32("column"), offset: try reader.uint32("offset"))
    }
}

extension Selection {
    var luaValue: LuaValue {
        .record(["anchor": anchor.luaValue, "head": head.luaValue, "is_backward": .boolean(isBackward)])
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
    var luaValue: LuaValue {
        .record([
            "top_line": .integer(Int64(topLine)), "bottom_line": .integer(Int64(bottomLine)),
            "scroll_percentage": .number(Double(scrollPercentage)),
        ])
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
    var luaValue: LuaValue {
        .record([
            "online": .boolean(online), "typing": .boolean(typing), "focused": .boolean(focused),
            "activity": .string(activity.rawValue), "viewport": viewport?.luaValue ?? .nil,
        ])
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
    /// The fields of the presence, for a table of its own or merged into an event.
    var luaFields: [LuaKey: LuaValue] {
        guard
            case .table(let fields) = LuaValue.record([
                "user_id": .string(userID), "document_id": .string(documentID), "workspace_id": .string(workspaceID),
                "name": .string(name), "avatar_url": avatarURL.map(LuaValue.string) ?? .nil, "color": .string(color),
                "state": state.luaValue, "cursor": cursor?.luaValue ?? .nil, "selection": selection?.luaValue ?? .nil,
                "connected_at": .integer(Int64(clamping: connectedAt)),
                "last_active_at": .integer(Int64(clamping: lastActiveAt)),
                "last_cursor_update": .integer(Int64(clamping: lastCursorUpdate)),
            ])
        else { return [:] }
        return fields
    }

    var luaValue: LuaValue { .table(luaFields) }

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
    var luaValue: LuaValue {
        .record([
            "id": .string(id), "workspace_id": .string(workspaceID), "user_count": .integer(Int64(userCount)),
            "colors_in_use": .array(colorsInUse.map(LuaValue.string)),
        ])
    }
}

extension PresenceEvent {
    /// The event as a table with a `type` field naming the variant. `UserJoined` carries the
    /// presence fields at the top level, beside `type`.
    var luaValue: LuaValue {
        var fields: [LuaKey: LuaValue]
        switch self {
        case .userJoined(let presence):
            fields = presence.luaFields
        case .userLeft(let userID), .userIdle(let userID):
            fields = [.string("user_id"): .string(userID)]
        case .cursorMoved(let userID, let cursor, let selection):
            fields = [.string("user_id"): .string(userID), .string("cursor"): cursor.luaValue]
            if let selection { fields[.string("selection")] = selection.luaValue }
        case .typingChanged(let userID, let isTyping):
            fields = [.string("user_id"): .string(userID), .string("is_typing"): .boolean(isTyping)]
        case .viewportChanged(let userID, let viewport):
            fields = [.string("user_id"): .string(userID), .string("viewport"): viewport.luaValue]
        case .activityChanged(let userID, let activity):
            fields = [.string("user_id"): .string(userID), .string("activity"): .string(activity.rawValue)]
        case .focusChanged(let userID, let focused):
            fields = [.string("user_id"): .string(userID), .string("focused"): .boolean(focused)]
        }
        fields[.string("type")] = .string(name)
        return .table(fields)
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
