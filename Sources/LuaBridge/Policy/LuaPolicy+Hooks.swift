import PresenceCore

/// The hooks: `color`, `capacity`, `admit` and `activity` take the first non-nil result in call
/// order, and `filter` and `filter_for` chain, each plugin receiving the previous one's event.
extension LuaPolicy: PresencePolicy {
    /// Maximum length of a colour string a plugin may return, in bytes.
    static let maxColorLength = 64
    /// Maximum length of a rejection reason passed on to the client, in characters. Longer ones are cut.
    static let maxReasonLength = 256

    public func color(for user: UserPresence, in document: DocumentInfo) -> String? {
        refreshIfNeeded()
        let candidates = runnable(.color, document.workspaceID)
        guard !candidates.isEmpty else { return nil }
        var encoder = LuaArgumentEncoder()
        user.encodeLua(into: &encoder)
        document.encodeLua(into: &encoder, lists: &sharedColorLists)
        let arguments = encoder.bytes
        for index in candidates {
            guard let results = invoke(index, .color, arguments: arguments) else { continue }
            switch results.first ?? .nil {
            case .nil:
                recordSuccess(index)
            case .string(let color) where LuaPolicy.isValidColor(color):
                recordSuccess(index)
                return color
            case let other:
                recordInvalidReturn(
                    index, .color,
                    "color must return a CSS colour string of 1 to \(LuaPolicy.maxColorLength) characters "
                        + "(letters, digits, spaces and #(),.%+-/) or nil, got \(LuaPolicy.describe(other))")
            }
        }
        return nil
    }

    public func capacity(of document: DocumentInfo) -> Int? {
        refreshIfNeeded()
        let candidates = runnable(.capacity, document.workspaceID)
        guard !candidates.isEmpty else { return nil }
        var encoder = LuaArgumentEncoder()
        document.encodeLua(into: &encoder, lists: &sharedColorLists)
        let arguments = encoder.bytes
        for index in candidates {
            guard let results = invoke(index, .capacity, arguments: arguments) else { continue }
            let value = results.first ?? .nil
            if value.isNil {
                recordSuccess(index)
                continue
            }
            guard let integer = value.integerValue, integer >= 0, integer <= Int64(Int32.max) else {
                recordInvalidReturn(
                    index, .capacity,
                    "capacity must return an integer from 0 to \(Int32.max) or nil, got \(LuaPolicy.describe(value))")
                continue
            }
            recordSuccess(index)
            return Int(integer)
        }
        return nil
    }

    public func admit(_ user: UserPresence, to document: DocumentInfo) -> AdmitDecision {
        refreshIfNeeded()
        let candidates = runnable(.admit, document.workspaceID)
        guard !candidates.isEmpty else { return .admit }
        var encoder = LuaArgumentEncoder()
        user.encodeLua(into: &encoder)
        document.encodeLua(into: &encoder, lists: &sharedColorLists)
        let arguments = encoder.bytes
        for index in candidates {
            guard let results = invoke(index, .admit, arguments: arguments) else { continue }
            let reason = results.count > 1 ? results[1] : .nil
            switch (results.first ?? .nil, reason) {
            case (.nil, _):
                recordSuccess(index)
            case (.boolean(true), _):
                recordSuccess(index)
                return .admit
            case (.boolean(false), .nil):
                recordSuccess(index)
                return .reject(reason: "rejected by plugin \(plugins[index].name)")
            case (.boolean(false), .string(let text)):
                recordSuccess(index)
                return .reject(reason: String(text.prefix(LuaPolicy.maxReasonLength)))
            case (let first, let second):
                recordInvalidReturn(
                    index, .admit,
                    "admit must return true, false and an optional reason string, or nil; got "
                        + "\(LuaPolicy.describe(first)) and \(LuaPolicy.describe(second))")
            }
        }
        return .admit
    }

    public func activity(for user: UserPresence, in document: DocumentInfo, idleMs: UInt64) -> ActivityType? {
        refreshIfNeeded()
        let candidates = runnable(.activity, document.workspaceID)
        guard !candidates.isEmpty else { return nil }
        var encoder = LuaArgumentEncoder()
        user.encodeLua(into: &encoder)
        document.encodeLua(into: &encoder, lists: &sharedColorLists)
        encoder.write(Int64(clamping: idleMs))
        let arguments = encoder.bytes
        for index in candidates {
            guard let results = invoke(index, .activity, arguments: arguments) else { continue }
            let value = results.first ?? .nil
            if value.isNil {
                recordSuccess(index)
                continue
            }
            guard case .string(let name) = value, let activity = ActivityType(rawValue: name) else {
                recordInvalidReturn(
                    index, .activity,
                    "activity must return one of "
                        + ActivityType.allCases.map(\.rawValue).joined(separator: ", ")
                        + " or nil, got \(LuaPolicy.describe(value))")
                continue
            }
            recordSuccess(index)
            return activity
        }
        return nil
    }

    public func filter(_ event: PresenceEvent, in document: DocumentInfo) -> PresenceEvent? {
        refreshIfNeeded()
        let candidates = indices(for: .filter, workspaceID: document.workspaceID)
        guard !candidates.isEmpty else { return event }
        return chain(event, hook: .filter, candidates: candidates) { event, encoder in
            event.encodeLua(into: &encoder)
            document.encodeLua(into: &encoder, lists: &sharedColorLists)
        }
    }

    public func filter(
        _ event: PresenceEvent, for recipient: UserPresence, in document: DocumentInfo
    ) -> PresenceEvent? {
        refreshIfNeeded()
        let candidates = indices(for: .filterFor, workspaceID: document.workspaceID)
        guard !candidates.isEmpty else { return event }
        return chain(event, hook: .filterFor, candidates: candidates) { event, encoder in
            event.encodeLua(into: &encoder)
            recipient.encodeLua(into: &encoder)
            document.encodeLua(into: &encoder, lists: &sharedColorLists)
        }
    }

    public func filtersPerRecipient(workspaceID: String) -> Bool {
        refreshIfNeeded()
        return !indices(for: .filterFor, workspaceID: workspaceID).isEmpty
    }

    public func hasActivityRule(workspaceID: String) -> Bool {
        refreshIfNeeded()
        return !runnable(.activity, workspaceID).isEmpty
    }

    // MARK: - Helpers

    /// Indices of the plugins that run `hook` for `workspaceID` on this loop, in call order.
    private func runnable(_ hook: PluginHook, _ workspaceID: String) -> [Int] {
        indices(for: hook, workspaceID: workspaceID).filter { plugins[$0].handle != nil }
    }

    /// Passes `event` through the filters at `candidates` in order. A filter that returns nil drops
    /// the event. A faulting filter is skipped, unless it is `fail_closed`: then, as when such a
    /// plugin is disabled, the event is dropped.
    private func chain(
        _ event: PresenceEvent, hook: PluginHook, candidates: [Int],
        encodeArguments: (PresenceEvent, inout LuaArgumentEncoder) -> Void
    ) -> PresenceEvent? {
        var current = event
        for index in candidates {
            let failClosed = plugins[index].definition.failClosed
            var encoder = LuaArgumentEncoder()
            encodeArguments(current, &encoder)
            guard let results = invoke(index, hook, arguments: encoder.bytes) else {
                if failClosed { return nil }
                continue
            }
            let value = results.first ?? .nil
            if value.isNil {
                recordSuccess(index)
                return nil
            }
            do {
                current = try PresenceEvent(lua: value, replacing: current)
                recordSuccess(index)
            } catch {
                recordInvalidReturn(
                    index, hook, "\(hook.rawValue) must return the event, a changed copy or nil: \(error.message)")
                if failClosed { return nil }
            }
        }
        return current
    }

    static func isValidColor(_ color: String) -> Bool {
        guard !color.isEmpty, color.utf8.count <= maxColorLength else { return false }
        return color.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || " #(),.%+-/".utf8.contains(byte)
        }
    }

    /// Describes a returned value for fault messages: its type, and its text when it is a short string.
    static func describe(_ value: LuaValue) -> String {
        switch value {
        case .string(let text) where text.count <= 40: "the string \"\(text)\""
        case .integer(let integer): "the number \(integer)"
        case .number(let number): "the number \(number)"
        case .boolean(let flag): "\(flag)"
        default: "a \(value.typeName) value"
        }
    }
}
