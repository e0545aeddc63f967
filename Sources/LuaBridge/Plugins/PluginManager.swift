import CLinux
import Foundation
import Observability
import PresenceCore
import Synchronization

/// Loads the plugin directory, checks each file in a scratch Lua state and publishes the set of
/// plugins every event loop runs.
///
/// Thread-safe: the watcher, SIGHUP and the admin listener may call `reload()` at once, and the
/// reloads run one after another. Loops poll `version` (one atomic load) and fetch `snapshot()`
/// when it changes, so a new set reaches every loop between two events.
public final class PluginManager: Sendable {
    public let settings: PluginSettings
    let logger: Logger
    let metrics: PluginMetrics
    /// Shared by every loop's `LuaPolicy`, so repeated faults of one plugin are logged a few
    /// times per minute in total, not per loop.
    let faultLogLimiter = LogRateLimiter(maxPerInterval: 5, intervalMs: 60_000)
    /// Limits `gateway.log` lines to 60 per plugin per minute across all loops.
    let pluginLogLimiter = LogRateLimiter(maxPerInterval: 60, intervalMs: 60_000)

    struct State {
        /// Every `*.lua` file seen in the directory, by file name.
        var files: [String: FileRecord] = [:]
        var snapshot = PluginSnapshot.empty
        var configs: [String: String]
    }

    struct FileRecord {
        var state: PluginFileState
        /// Hash of the content last checked, so an unchanged file is not checked again.
        var checkedHash: String
    }

    /// Owned by this lock: the file records and the published snapshot.
    private let state: Mutex<State>
    /// Held for the whole of a reload so that reloads never interleave.
    private let reloadLock = Mutex<Void>(())
    /// Version of `state.snapshot`, readable without the lock.
    private let publishedVersion = Atomic<UInt64>(0)

    public init(settings: PluginSettings, logger: Logger = Logger(label: "plugins"), metrics: PluginMetrics) {
        self.settings = settings
        self.logger = logger
        self.metrics = metrics
        state = Mutex(State(configs: settings.configs))
    }

    /// The version of the published plugin set: 0 before the first reload, then one more for each
    /// change of the set.
    public var version: UInt64 {
        publishedVersion.load(ordering: .acquiring)
    }

    public func snapshot() -> PluginSnapshot {
        state.withLock { $0.snapshot }
    }

    /// Replaces the `[plugins.config.NAME]` sections (JSON object text by plugin name). They take
    /// effect on the next `reload()`.
    public func updateConfigs(_ configs: [String: String]) {
        state.withLock { $0.configs = configs }
    }

    public func status() -> PluginStatusReport {
        state.withLock { state in
            let plugins = state.files.keys.sorted().map { PluginStatus(file: $0, state: state.files[$0]!.state) }
            return PluginStatusReport(directory: settings.directory, version: state.snapshot.version, plugins: plugins)
        }
    }

    // MARK: - Reload

    /// Checks every new or changed file, unloads deleted ones and publishes the resulting set.
    ///
    /// A file that fails keeps its previous version running. If the directory cannot be read, nothing
    /// changes and the failure is reported.
    @discardableResult
    public func reload() -> PluginReloadSummary {
        reloadLock.withLock { _ in
            let summary = performReload()
            metrics.reloads.labels(summary.result.rawValue).increment()
            if summary.result == .failure {
                logger.warning(
                    "plugin reload finished with failures",
                    metadata: ["plugins.version": "\(summary.version)", "plugins.failed": "\(summary.failures.count)"])
            } else if !summary.loaded.isEmpty || !summary.removed.isEmpty {
                logger.info(
                    "plugins reloaded",
                    metadata: [
                        "plugins.version": "\(summary.version)", "plugins.loaded": summary.loaded.joined(separator: ","),
                        "plugins.removed": summary.removed.joined(separator: ","),
                    ])
            }
            return summary
        }
    }

    private func performReload() -> PluginReloadSummary {
        let (previous, configs) = state.withLock { ($0.files, $0.configs) }
        let now = clinux_wall_ms()

        let files: [String]
        do {
            files = try listPluginFiles()
        } catch {
            let failure = PluginError(
                kind: "unavailable", message: "cannot read the plugin directory: \(error.localizedDescription)",
                file: settings.directory, atMs: now)
            logger.error("plugin reload failed", metadata: ["plugin.file": settings.directory, "error": failure.message])
            return PluginReloadSummary(
                result: .failure, version: version, loaded: [], removed: [], unchanged: previous.count,
                failures: [failure])
        }

        var changed: [String: FileRecord] = [:]
        var unchanged: Set<String> = []
        var failures: [PluginError] = []
        for file in files {
            let outcome = examine(file: file, previous: previous[file], configs: configs, now: now)
            switch outcome {
            case .unchanged:
                unchanged.insert(file)
            case .checked(let record):
                changed[file] = record
            }
        }

        return state.withLock { state in
            var records: [String: FileRecord] = [:]
            // Unchanged files keep their current record, which a loop may have disabled meanwhile.
            for file in unchanged {
                if let record = state.files[file] { records[file] = record }
            }
            // Claim names for unchanged files first, so a new file cannot take over a running name.
            var claimed: [String: String] = [:]
            for file in unchanged.sorted() {
                if let name = records[file]?.state.lastGood?.name { claimed[name] = file }
            }
            var loaded: [String] = []
            for file in changed.keys.sorted() {
                var record = changed[file]!
                if let name = record.state.lastGood?.name, let owner = claimed[name], owner != file {
                    let conflict = PluginError(
                        kind: "invalid_value",
                        message: "plugin name \"\(name)\" is already used by \(owner); give each plugin its own name",
                        file: file, atMs: now)
                    record.state = PluginManager.failedState(previous: previous[file]?.state, error: conflict)
                }
                if let name = record.state.lastGood?.name { claimed[name] = file }
                if case .active = record.state {
                    loaded.append(file)
                } else if let error = record.state.error {
                    failures.append(error)
                    logFailure(error, keepsPrevious: record.state.running != nil)
                }
                records[file] = record
            }

            let removed = state.files.keys.filter { records[$0] == nil }.sorted()
            state.files = records
            publishIfChanged(&state)
            return PluginReloadSummary(
                result: failures.isEmpty ? .success : .failure, version: state.snapshot.version, loaded: loaded,
                removed: removed, unchanged: unchanged.count, failures: failures)
        }
    }

    private enum Examination {
        case unchanged
        case checked(FileRecord)
    }

    /// Reads and, when its content or config changed, checks one file.
    private func examine(file: String, previous: FileRecord?, configs: [String: String], now: UInt64) -> Examination {
        let path = settings.directory + "/" + file
        guard let data = FileManager.default.contents(atPath: path) else {
            let error = PluginError(kind: "unavailable", message: "cannot read \(path)", file: file, atMs: now)
            return .checked(FileRecord(state: PluginManager.failedState(previous: previous?.state, error: error), checkedHash: ""))
        }
        let source = [UInt8](data)
        let hash = PluginManager.contentHash(source)
        if let previous, previous.checkedHash == hash {
            // The config of a running plugin may have changed in config.toml without the file
            // changing. A file that failed is checked again every time: its config may have been
            // fixed, or the file that took its name removed, and a reload must report it while broken.
            let configChanged = previous.state.lastGood.map { configs[$0.name] != $0.configText } ?? false
            let failed: Bool =
                switch previous.state {
                case .failed, .failedKeepingPrevious: true
                case .active, .disabled: false
                }
            if !configChanged && !failed { return .unchanged }
        }

        let result = PluginChecker.check(
            file: file, source: source, contentHash: hash, configs: configs, settings: settings, logger: logger, now: now)
        switch result {
        case .success(let plugin):
            return .checked(FileRecord(state: .active(plugin), checkedHash: hash))
        case .failure(let error):
            return .checked(FileRecord(state: PluginManager.failedState(previous: previous?.state, error: error), checkedHash: hash))
        }
    }

    /// The state after a failed check: the running version stays, if there is one.
    private static func failedState(previous: PluginFileState?, error: PluginError) -> PluginFileState {
        if let running = previous?.running { return .failedKeepingPrevious(running, error) }
        return .failed(error)
    }

    private func listPluginFiles() throws -> [String] {
        let names = try FileManager.default.contentsOfDirectory(atPath: settings.directory)
        return names.filter { name in
            guard name.hasSuffix(".lua"), !name.hasPrefix(".") else { return false }
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: settings.directory + "/" + name, isDirectory: &isDirectory)
            return exists && !isDirectory.boolValue
        }.sorted()
    }

    static func contentHash(_ bytes: [UInt8]) -> String {
        let hex = String(SeaHash.hash(bytes), radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    private func logFailure(_ error: PluginError, keepsPrevious: Bool) {
        var metadata = ["plugin.file": error.file, "error": error.message, "error.kind": error.kind]
        if let line = error.line { metadata["plugin.line"] = "\(line)" }
        let outcome = keepsPrevious ? "; the previous version keeps running" : "; the plugin is not loaded"
        logger.error("plugin file failed to load\(outcome)", metadata: metadata)
    }

    // MARK: - Publishing

    /// Builds the snapshot from the records and publishes it under a new version if it differs.
    private func publishIfChanged(_ state: inout State) {
        var entries: [PluginSnapshot.Entry] = []
        for record in state.files.values {
            switch record.state {
            case .active(let plugin), .failedKeepingPrevious(let plugin, _):
                entries.append(PluginSnapshot.Entry(plugin: plugin, disabled: false))
            case .disabled(let plugin, _) where plugin.definition.failClosed:
                entries.append(PluginSnapshot.Entry(plugin: plugin, disabled: true))
            case .disabled, .failed:
                break
            }
        }
        entries.sort { left, right in
            if left.plugin.definition.priority != right.plugin.definition.priority {
                return left.plugin.definition.priority > right.plugin.definition.priority
            }
            return left.plugin.name < right.plugin.name
        }
        guard entries != state.snapshot.entries else { return }
        state.snapshot = PluginSnapshot(version: state.snapshot.version + 1, entries: entries)
        publishedVersion.store(state.snapshot.version, ordering: .releasing)
    }

    /// Disables the plugin of `file` if its running version is still `contentHash`, until the file
    /// changes. Called by a loop after too many faults in a row.
    func disable(file: String, contentHash: String, reason: PluginError) {
        let disabled = state.withLock { state -> Bool in
            guard var record = state.files[file], let running = record.state.running,
                running.contentHash == contentHash
            else { return false }
            record.state = .disabled(running, reason)
            state.files[file] = record
            publishIfChanged(&state)
            return true
        }
        if disabled {
            logger.error(
                "plugin disabled until its file changes",
                metadata: ["plugin.file": file, "error": reason.message, "error.kind": reason.kind])
        }
    }
}
