import CLinux
import Observability
import PresenceCore

/// The `PresencePolicy` of one event loop: one Lua state with every active plugin loaded.
///
/// Not thread-safe: a room calls its policy only on the loop that owns the room, and each loop has
/// its own `LuaPolicy`. Every hook first compares the manager's published version with the one it
/// runs (one atomic load) and rebuilds its state from the new snapshot when they differ. A rebuild
/// happens only at the start of a hook, so a reload takes effect between events and an event already
/// in progress finishes on the old set.
public final class LuaPolicy {
    /// One plugin as this loop runs it.
    struct Plugin {
        let loaded: LoadedPlugin
        /// Handle in `runtime`, or nil when this plugin does not run here (disabled, or it failed to
        /// load into this loop's state).
        var handle: Int32?
        /// Faults in a row. Every call that returns a valid value resets it.
        var consecutiveFaults = 0
        let meters: [PluginHook: HookMeters]

        var definition: PluginDefinition { loaded.definition }
        var name: String { loaded.name }
    }

    /// The metric children of one plugin hook, looked up once per rebuild rather than per call.
    struct HookMeters {
        let calls: Counter
        let duration: Histogram
    }

    let manager: PluginManager
    let logger: Logger
    private(set) var plugins: [Plugin] = []
    private var runtime: LuaRuntime?
    /// The colour lists that `runtime` keeps as shared tables.
    var sharedColorLists = SharedColorLists()
    /// Version of the snapshot `plugins` was built from; `UInt64.max` forces the first build.
    private var loadedVersion = UInt64.max

    public init(manager: PluginManager, logger: Logger? = nil) {
        self.manager = manager
        self.logger = logger ?? manager.logger
    }

    /// Version of the plugin set this loop runs.
    public var runningVersion: UInt64 { loadedVersion }

    // MARK: - Rebuilding

    /// Rebuilds the Lua state if the manager published a new plugin set since the last hook.
    func refreshIfNeeded() {
        let published = manager.version
        guard published != loadedVersion else { return }
        rebuild(from: manager.snapshot())
    }

    private func rebuild(from snapshot: PluginSnapshot) {
        // Drop the old state first, so two full states never coexist on this loop.
        runtime = nil
        sharedColorLists.removeAll()
        plugins = []
        let settings = manager.settings
        let created: LuaRuntime
        do {
            created = try LuaRuntime(
                memoryLimitBytes: settings.memoryLimitBytes, instructionLimit: settings.instructionLimit
            ) { [unowned self] handle, level, message in
                self.logPluginMessage(handle: handle, level: level, message: message)
            }
        } catch {
            logger.error(
                "failed to create the Lua state, so no plugin runs on this loop", metadata: ["error": "\(error)"])
            // Keep the entries without handles, so that fail-closed filters still drop their events.
            plugins = snapshot.entries.map { Plugin(loaded: $0.plugin, handle: nil, meters: makeMeters(for: $0.plugin)) }
            loadedVersion = snapshot.version
            return
        }

        var rebuilt: [Plugin] = []
        for entry in snapshot.entries {
            var plugin = Plugin(loaded: entry.plugin, handle: nil, meters: makeMeters(for: entry.plugin))
            if !entry.disabled {
                do {
                    let handle = try created.load(source: entry.plugin.source, chunkName: entry.plugin.file)
                    try created.setConfig(handle: handle, config: entry.plugin.config)
                    plugin.handle = handle
                } catch {
                    // It passed the same checks in a scratch state, so this is rare (for example the
                    // plugins together exceed the memory limit). It counts as a fault of the plugin.
                    manager.metrics.errors.labels(entry.plugin.name, "load", error.kind.rawValue).increment()
                    logger.error(
                        "plugin failed to load into an event loop's Lua state; it does not run there",
                        metadata: metadata(for: entry.plugin, hook: nil, failure: error))
                }
            }
            rebuilt.append(plugin)
        }
        runtime = created
        plugins = rebuilt
        loadedVersion = snapshot.version
    }

    private func makeMeters(for plugin: LoadedPlugin) -> [PluginHook: HookMeters] {
        var meters: [PluginHook: HookMeters] = [:]
        for hook in plugin.definition.hooks {
            meters[hook] = HookMeters(
                calls: manager.metrics.calls.labels(plugin.name, hook.rawValue),
                duration: manager.metrics.duration.labels(plugin.name, hook.rawValue))
        }
        return meters
    }

    // MARK: - Calling

    /// Indices of the plugins that define `hook` for `workspaceID`, in call order. Includes disabled
    /// ones, which only fail-closed filters act on.
    func indices(for hook: PluginHook, workspaceID: String) -> [Int] {
        plugins.indices.filter { index in
            plugins[index].definition.hooks.contains(hook) && plugins[index].definition.workspaces.contains(workspaceID)
        }
    }

    /// Calls `hook` of plugin `index`. Returns its values, or nil after recording a fault (or when the
    /// plugin does not run on this loop).
    func invoke(_ index: Int, _ hook: PluginHook, arguments: [UInt8]) -> [LuaValue]? {
        guard let runtime, let handle = plugins[index].handle else {
            sharedColorLists.discardPending()
            return nil
        }
        let meters = plugins[index].meters[hook]
        let start = clinux_monotonic_ns()
        let outcome: Result<[LuaValue], LuaFailure>
        do {
            outcome = .success(try runtime.call(handle: handle, hook: hook.rawValue, arguments: arguments))
        } catch {
            outcome = .failure(error)
        }
        meters?.calls.increment()
        meters?.duration.observe(Double(clinux_monotonic_ns() &- start) / 1e9)

        switch outcome {
        case .success(let values):
            sharedColorLists.commit()
            return values
        case .failure(let failure):
            // The call may or may not have stored the list it carried, so no stored list is certain.
            sharedColorLists.removeAll()
            recordFault(index, hook, failure)
            return nil
        }
    }

    /// Records a wrong return value as a fault of plugin `index`.
    func recordInvalidReturn(_ index: Int, _ hook: PluginHook, _ message: String) {
        recordFault(index, hook, LuaFailure(kind: .invalidValue, message: message, file: plugins[index].loaded.file))
    }

    /// Marks a call of plugin `index` that returned a valid value.
    func recordSuccess(_ index: Int) {
        plugins[index].consecutiveFaults = 0
    }

    private func recordFault(_ index: Int, _ hook: PluginHook, _ failure: LuaFailure) {
        let plugin = plugins[index]
        manager.metrics.errors.labels(plugin.name, hook.rawValue, failure.kind.rawValue).increment()
        logger.log(
            .error, "plugin hook failed; the event goes on without it",
            metadata: metadata(for: plugin.loaded, hook: hook, failure: failure),
            limitedBy: manager.faultLogLimiter, key: "plugin.fault:\(plugin.name):\(hook.rawValue)")

        plugins[index].consecutiveFaults += 1
        guard plugins[index].consecutiveFaults >= manager.settings.maxConsecutiveErrors else { return }
        // Stop calling it here at once. The manager then publishes a set without it for every loop.
        plugins[index].handle = nil
        let reason = PluginError(
            kind: failure.kind.rawValue,
            message: "disabled after \(plugins[index].consecutiveFaults) faults in a row; last: \(failure.message)",
            file: failure.file ?? plugin.loaded.file, line: failure.line, atMs: clinux_wall_ms())
        manager.disable(file: plugin.loaded.file, contentHash: plugin.loaded.contentHash, reason: reason)
    }

    private func metadata(for plugin: LoadedPlugin, hook: PluginHook?, failure: LuaFailure) -> [String: String] {
        var metadata = [
            "plugin.name": plugin.name, "plugin.file": failure.file ?? plugin.file, "error": failure.message,
            "error.kind": failure.kind.rawValue,
        ]
        if let hook { metadata["plugin.hook"] = hook.rawValue }
        if let line = failure.line { metadata["plugin.line"] = "\(line)" }
        return metadata
    }

    private func logPluginMessage(handle: Int32, level: PluginLogLevel, message: String) {
        guard let plugin = plugins.first(where: { $0.handle == handle }) else { return }
        logger.log(
            LogLevel(pluginLevel: level), message, metadata: ["plugin.name": plugin.name, "plugin.file": plugin.loaded.file],
            limitedBy: manager.pluginLogLimiter, key: "plugin.log:\(plugin.name)")
    }
}

@available(*, unavailable, message: "a LuaPolicy belongs to one event loop")
extension LuaPolicy: Sendable {}
