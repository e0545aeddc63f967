/// The load state of one plugin file.
enum PluginFileState: Sendable, Equatable {
    case active(LoadedPlugin)
    /// The file's latest content failed its checks, so the previous version keeps running.
    case failedKeepingPrevious(LoadedPlugin, PluginError)
    /// The file failed its checks and no earlier version ever loaded.
    case failed(PluginError)
    /// Too many faults in a row: nothing runs until the file changes, except that a `fail_closed`
    /// plugin's filters keep dropping events.
    case disabled(LoadedPlugin, PluginError)

    /// The version that runs, if any.
    var running: LoadedPlugin? {
        switch self {
        case .active(let plugin), .failedKeepingPrevious(let plugin, _): plugin
        case .failed, .disabled: nil
        }
    }

    /// The last good version, running or disabled.
    var lastGood: LoadedPlugin? {
        switch self {
        case .active(let plugin), .failedKeepingPrevious(let plugin, _), .disabled(let plugin, _): plugin
        case .failed: nil
        }
    }

    var error: PluginError? {
        switch self {
        case .active: nil
        case .failedKeepingPrevious(_, let error), .failed(let error), .disabled(_, let error): error
        }
    }

    var label: PluginStatus.State {
        switch self {
        case .active: .active
        case .failedKeepingPrevious: .failedKeepingPrevious
        case .failed: .failed
        case .disabled: .disabled
        }
    }
}

/// One plugin file as `GET /admin/plugins` lists it. Fields of the running (or disabled) version
/// are nil when no version of the file ever loaded.
public struct PluginStatus: Sendable, Equatable, Codable {
    public enum State: String, Sendable, Codable {
        case active
        case failedKeepingPrevious = "failed_keeping_previous"
        case failed
        case disabled
    }

    public var file: String
    public var name: String?
    public var contentHash: String?
    /// Wall-clock time of the load in milliseconds since the Unix epoch.
    public var loadedAtMs: UInt64?
    public var priority: Int?
    public var workspaces: [String]
    public var hooks: [String]
    public var failClosed: Bool
    public var state: State
    public var lastError: PluginError?

    enum CodingKeys: String, CodingKey {
        case file, name, priority, workspaces, hooks, state
        case contentHash = "content_hash"
        case loadedAtMs = "loaded_at_ms"
        case failClosed = "fail_closed"
        case lastError = "last_error"
    }

    init(file: String, state: PluginFileState) {
        let plugin = state.lastGood
        self.file = file
        name = plugin?.name
        contentHash = plugin?.contentHash
        loadedAtMs = plugin?.loadedAtMs
        priority = plugin?.definition.priority
        workspaces = plugin?.definition.workspaces.listed ?? []
        hooks = plugin?.definition.hooks.sorted().map(\.rawValue) ?? []
        failClosed = plugin?.definition.failClosed ?? false
        self.state = state.label
        lastError = state.error
    }
}

/// The body of `GET /admin/plugins`.
public struct PluginStatusReport: Sendable, Equatable, Codable {
    public var directory: String
    /// Version of the published plugin set.
    public var version: UInt64
    public var plugins: [PluginStatus]
}

/// The outcome of one reload, returned by `PluginManager.reload()` and `POST /admin/plugins/reload`.
public struct PluginReloadSummary: Sendable, Equatable, Codable {
    public enum Result: String, Sendable, Codable {
        /// Every file loaded, or nothing had changed.
        case success
        /// At least one file failed; its previous version, if any, keeps running.
        case failure
    }

    public var result: Result
    /// Version of the plugin set published after the reload (unchanged if nothing changed).
    public var version: UInt64
    /// Files whose new content loaded.
    public var loaded: [String]
    /// Files whose plugins were unloaded because the file is gone.
    public var removed: [String]
    public var unchanged: Int
    public var failures: [PluginError]
}
