/// The `[plugins]` settings.
public struct PluginSettings: Sendable, Equatable {
    /// Directory scanned for `*.lua` files, not recursively.
    public var directory: String
    /// VM instructions one hook call (or a file's top-level run) may execute. Checked every 1,000
    /// instructions, so a call may overrun it by that much.
    public var instructionLimit: Int64
    /// Allocation limit of each Lua state in MiB. Each event loop has one state holding every plugin,
    /// and each load check uses its own.
    public var memoryLimitMB: Int
    /// Faults in a row after which a plugin is disabled until its file changes.
    public var maxConsecutiveErrors: Int
    /// `[plugins.config.NAME]` tables as JSON object text, by plugin name.
    public var configs: [String: String]

    /// Files larger than this are rejected without being compiled.
    public static let maxFileBytes = 1 << 20

    public init(
        directory: String = "plugins", instructionLimit: Int64 = 1_000_000, memoryLimitMB: Int = 64,
        maxConsecutiveErrors: Int = 20, configs: [String: String] = [:]
    ) {
        self.directory = directory
        self.instructionLimit = instructionLimit
        self.memoryLimitMB = memoryLimitMB
        self.maxConsecutiveErrors = maxConsecutiveErrors
        self.configs = configs
    }

    var memoryLimitBytes: Int { memoryLimitMB << 20 }
}
