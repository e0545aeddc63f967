import Foundation
import Observability
import PresenceCore
import Synchronization
import XCTest

@testable import LuaBridge

/// A temporary plugin directory, removed when the test ends.
final class PluginDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "lua-plugins-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    func write(_ file: String, _ source: String) throws {
        try Data(source.utf8).write(to: URL(fileURLWithPath: path + "/" + file))
    }

    /// Writes `source` to a temporary name and renames it over `file`, as editors save.
    func replaceByRename(_ file: String, _ source: String) throws {
        let temporary = ".\(file).swp"
        try write(temporary, source)
        guard rename(path + "/" + temporary, path + "/" + file) == 0 else {
            throw CocoaError(.fileWriteUnknown)
        }
    }

    func remove(_ file: String) throws {
        try FileManager.default.removeItem(atPath: path + "/" + file)
    }
}

/// Collects log lines in memory.
final class CapturedLog: LogWriter {
    /// Owned by this lock: every line written.
    private let lines = Mutex<[String]>([])

    func write(_ line: String) {
        lines.withLock { $0.append(line) }
    }

    var all: [String] { lines.withLock { $0 } }

    func count(containing text: String) -> Int {
        all.filter { $0.contains(text) }.count
    }
}

/// A manager on a fresh directory, metrics registry and captured log.
struct PluginFixture {
    let directory: PluginDirectory
    let registry = MetricsRegistry(namespace: "test")
    let log = CapturedLog()
    let manager: PluginManager

    init(
        instructionLimit: Int64 = 1_000_000, memoryLimitMB: Int = 16, maxConsecutiveErrors: Int = 20,
        configs: [String: String] = [:]
    ) throws {
        directory = try PluginDirectory()
        let settings = PluginSettings(
            directory: directory.path, instructionLimit: instructionLimit, memoryLimitMB: memoryLimitMB,
            maxConsecutiveErrors: maxConsecutiveErrors, configs: configs)
        let sink = LogSink(level: .debug, format: .json, writer: log)
        manager = PluginManager(
            settings: settings, logger: Logger(label: "plugins", sink: sink), metrics: PluginMetrics(registry: registry))
    }

    func policy() -> LuaPolicy {
        LuaPolicy(manager: manager)
    }

    /// Returns the value of a sample line such as `test_plugin_calls_total{plugin="a",hook="color"}`.
    func metric(_ prefix: String) -> Double? {
        for line in registry.render().split(separator: "\n") where line.hasPrefix(prefix + " ") {
            return Double(line.split(separator: " ").last ?? "")
        }
        return nil
    }
}

func makeUser(
    _ userID: String = "u1", workspace: String = "acme", name: String = "Ada", color: String = "hsl(1, 70%, 50%)"
) -> UserPresence {
    UserPresence(
        userID: userID, documentID: "doc1", workspaceID: workspace, name: name, avatarURL: nil, color: color,
        state: PresenceState(online: true, typing: false, focused: true, activity: .viewing, viewport: nil),
        cursor: CursorPosition(line: 3, column: 4, offset: 40), selection: nil, connectedAt: 1_000, lastActiveAt: 2_000,
        lastCursorUpdate: 2_000)
}

func makeDocument(workspace: String = "acme", userCount: Int = 1, colors: [String] = []) -> DocumentInfo {
    DocumentInfo(id: "doc1", workspaceID: workspace, userCount: userCount, colorsInUse: colors)
}

/// A plugin file with the given header fields and hook bodies.
func pluginSource(
    name: String, priority: Int = 0, workspaces: String? = nil, failClosed: Bool = false, hooks: [String: String]
) -> String {
    var lines = ["local plugin = { name = \"\(name)\", priority = \(priority) }"]
    if let workspaces { lines.append("plugin.workspaces = \(workspaces)") }
    if failClosed { lines.append("plugin.fail_closed = true") }
    for (signature, body) in hooks.sorted(by: { $0.key < $1.key }) {
        lines.append("function plugin.\(signature)\n\(body)\nend")
    }
    lines.append("return plugin")
    return lines.joined(separator: "\n") + "\n"
}
