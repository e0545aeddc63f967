/// One version of a plugin file that passed every load check: what each event loop loads.
public struct LoadedPlugin: Sendable, Equatable {
    public var definition: PluginDefinition
    /// File name inside the plugin directory, also the chunk name in Lua error messages.
    public var file: String
    public var source: [UInt8]
    /// SeaHash of the file content as 16 hex digits.
    public var contentHash: String
    /// Wall-clock time of the load, in milliseconds since the Unix epoch.
    public var loadedAtMs: UInt64
    /// The `[plugins.config.NAME]` table, given to the plugin as a read-only `plugin.config`.
    public var config: LuaValue
    /// The config as JSON text, as received; nil when the plugin has no config section.
    public var configText: String?

    public var name: String { definition.name }
}

/// The plugin set every event loop should run, published by `PluginManager` with a new version on
/// each change. Immutable, so loops read it without locking.
public struct PluginSnapshot: Sendable {
    public struct Entry: Sendable, Equatable {
        public var plugin: LoadedPlugin
        /// Disabled after too many faults in a row. Only a disabled plugin with `fail_closed` stays in
        /// the snapshot, because its filters must keep dropping events instead of letting them through.
        public var disabled: Bool
    }

    public var version: UInt64
    /// Call order: priority highest first, ties by name.
    public var entries: [Entry]

    static let empty = PluginSnapshot(version: 0, entries: [])
}

/// The reason a plugin file failed to load or was disabled, as `GET /admin/plugins` shows it.
public struct PluginError: Error, Sendable, Equatable, Codable, CustomStringConvertible {
    public var kind: String
    public var message: String
    public var file: String
    public var line: Int?
    /// Wall-clock time in milliseconds since the Unix epoch.
    public var atMs: UInt64

    public init(kind: String, message: String, file: String, line: Int? = nil, atMs: UInt64) {
        self.kind = kind
        self.message = message
        self.file = file
        self.line = line
        self.atMs = atMs
    }

    public var description: String {
        if let line { return "\(file):\(line): \(message)" }
        return "\(file): \(message)"
    }

    enum CodingKeys: String, CodingKey {
        case kind, message, file, line
        case atMs = "at_ms"
    }
}
