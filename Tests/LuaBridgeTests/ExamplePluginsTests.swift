import Foundation
import Observability
import PresenceCore
import XCTest

@testable import LuaBridge

/// The example plugins shipped in plugins/, loaded from the repository as `make run` loads them.
final class ExamplePluginsTests: XCTestCase {
    private static let pluginsDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("plugins").path

    private func makeManager(configs: [String: String] = [:]) -> (PluginManager, PluginReloadSummary) {
        let settings = PluginSettings(directory: ExamplePluginsTests.pluginsDirectory, configs: configs)
        let manager = PluginManager(
            settings: settings, logger: Logger(label: "plugins", sink: LogSink(writer: CapturedLog())),
            metrics: PluginMetrics(registry: MetricsRegistry()))
        return (manager, manager.reload())
    }

    func testExamplesLoadWithoutErrors() {
        let (manager, summary) = makeManager()
        XCTAssertEqual(summary.result, .success, "\(summary.failures)")
        XCTAssertEqual(
            manager.status().plugins.map(\.name),
            ["brand-palette", "fast-idle", "hide-viewer-cursors", "workspace-capacity"])
    }

    func testExamplesLeaveOtherWorkspacesAlone() {
        let (manager, _) = makeManager()
        let policy = LuaPolicy(manager: manager)
        let document = makeDocument(workspace: "default")
        XCTAssertNil(policy.color(for: makeUser(workspace: "default"), in: document))
        XCTAssertNil(policy.capacity(of: document))
        XCTAssertFalse(policy.hasActivityRule(workspaceID: "default"))
        XCTAssertFalse(policy.filtersPerRecipient(workspaceID: "default"))
    }

    func testBrandPaletteSkipsColorsInUse() {
        let (manager, _) = makeManager(configs: ["brand-palette": ##"{"colors": ["#111111", "#222222"]}"##])
        let policy = LuaPolicy(manager: manager)
        let first = policy.color(for: makeUser(), in: makeDocument())
        XCTAssertTrue(["#111111", "#222222"].contains(first ?? ""), "\(String(describing: first))")
        let second = policy.color(for: makeUser("u2"), in: makeDocument(colors: [first ?? ""]))
        XCTAssertNotEqual(second, first)
        XCTAssertTrue(["#111111", "#222222"].contains(second ?? ""))
    }

    func testWorkspaceCapacityUsesConfigLimits() {
        let (manager, _) = makeManager(configs: ["workspace-capacity": #"{"limits": {"acme": 3}}"#])
        let policy = LuaPolicy(manager: manager)
        XCTAssertEqual(policy.capacity(of: makeDocument(workspace: "acme")), 3)
        XCTAssertNil(policy.capacity(of: makeDocument(workspace: "globex")))
    }

    func testWorkspaceCapacityDefaults() {
        let (manager, _) = makeManager()
        let policy = LuaPolicy(manager: manager)
        XCTAssertEqual(policy.capacity(of: makeDocument(workspace: "acme")), 50)
        XCTAssertEqual(policy.capacity(of: makeDocument(workspace: "globex")), 10)
    }

    func testFastIdleMarksIdleThenAway() {
        let (manager, _) = makeManager()
        let policy = LuaPolicy(manager: manager)
        XCTAssertTrue(policy.hasActivityRule(workspaceID: "acme"))
        XCTAssertNil(policy.activity(for: makeUser(), in: makeDocument(), idleMs: 5_000))
        XCTAssertEqual(policy.activity(for: makeUser(), in: makeDocument(), idleMs: 10_000), .idle)
        XCTAssertEqual(policy.activity(for: makeUser(), in: makeDocument(), idleMs: 60_000), .away)
    }

    func testViewerCursorsAreHiddenFromGuests() {
        let (manager, _) = makeManager()
        let policy = LuaPolicy(manager: manager)
        let cursor = PresenceEvent.cursorMoved(
            userID: "viewer:v1", cursor: CursorPosition(line: 1, column: 1, offset: 1), selection: nil)
        let guest = makeUser("guest:g1")
        let member = makeUser("member:m1")
        XCTAssertTrue(policy.filtersPerRecipient(workspaceID: "acme"))
        XCTAssertNil(policy.filter(cursor, for: guest, in: makeDocument()))
        XCTAssertEqual(policy.filter(cursor, for: member, in: makeDocument()), cursor)

        let editorCursor = PresenceEvent.cursorMoved(
            userID: "member:m2", cursor: CursorPosition(line: 1, column: 1, offset: 1), selection: nil)
        XCTAssertEqual(policy.filter(editorCursor, for: guest, in: makeDocument()), editorCursor)

        var viewer = makeUser("viewer:v1")
        viewer.state.viewport = Viewport(topLine: 1, bottomLine: 20, scrollPercentage: 0)
        guard case .userJoined(let shown)? = policy.filter(.userJoined(viewer), for: guest, in: makeDocument()) else {
            return XCTFail("the join must stay visible")
        }
        XCTAssertNil(shown.cursor)
        XCTAssertNil(shown.state.viewport)
        XCTAssertEqual(shown.name, viewer.name)
    }
}
