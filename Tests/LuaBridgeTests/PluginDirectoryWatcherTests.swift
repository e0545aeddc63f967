import Foundation
import Synchronization
import XCTest

@testable import LuaBridge

/// The inotify watcher on a real directory.
final class PluginDirectoryWatcherTests: XCTestCase {
    /// Waits up to `seconds` for `condition`, polling every 10 ms.
    private func wait(seconds: Double, until condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return condition()
    }

    func testWatcherReportsWriteAfterDebounce() throws {
        let directory = try PluginDirectory()
        let changes = Atomic<Int>(0)
        let watcher = try PluginDirectoryWatcher(directory: directory.path, debounceMs: 50) {
            changes.add(1, ordering: .relaxed)
        }
        watcher.start()
        defer { watcher.stop() }

        try directory.write("a.lua", "return {}")
        try directory.write("a.lua", "return { name = 'a' }")
        XCTAssertTrue(wait(seconds: 5) { changes.load(ordering: .relaxed) >= 1 })
        Thread.sleep(forTimeInterval: 0.2)
        XCTAssertEqual(changes.load(ordering: .relaxed), 1, "two quick writes must give one change")
    }

    func testWatcherReportsRenameAndDelete() throws {
        let directory = try PluginDirectory()
        try directory.write("a.lua", "return {}")
        let changes = Atomic<Int>(0)
        let watcher = try PluginDirectoryWatcher(directory: directory.path, debounceMs: 20) {
            changes.add(1, ordering: .relaxed)
        }
        watcher.start()
        defer { watcher.stop() }

        try directory.replaceByRename("a.lua", "return { name = 'a' }")
        XCTAssertTrue(wait(seconds: 5) { changes.load(ordering: .relaxed) == 1 })
        try directory.remove("a.lua")
        XCTAssertTrue(wait(seconds: 5) { changes.load(ordering: .relaxed) == 2 })
    }

    func testWatcherDrivesReload() throws {
        let fixture = try PluginFixture()
        let manager = fixture.manager
        let watcher = try PluginDirectoryWatcher(directory: fixture.directory.path, debounceMs: 20) {
            manager.reload()
        }
        watcher.start()
        defer { watcher.stop() }

        try fixture.directory.write("a.lua", pluginSource(name: "a", hooks: ["capacity(doc)": "return 6"]))
        XCTAssertTrue(wait(seconds: 5) { manager.version == 1 })
        XCTAssertEqual(fixture.policy().capacity(of: makeDocument()), 6)
    }

    func testStopEndsThreadAndIgnoresLaterChanges() throws {
        let directory = try PluginDirectory()
        let changes = Atomic<Int>(0)
        let watcher = try PluginDirectoryWatcher(directory: directory.path, debounceMs: 10) {
            changes.add(1, ordering: .relaxed)
        }
        watcher.start()
        watcher.stop()
        watcher.stop()
        try directory.write("a.lua", "return {}")
        Thread.sleep(forTimeInterval: 0.1)
        XCTAssertEqual(changes.load(ordering: .relaxed), 0)
    }

    func testMissingDirectoryIsAnError() {
        XCTAssertThrowsError(try PluginDirectoryWatcher(directory: "/nonexistent/plugins-dir") {}) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/plugins-dir"), "\(error)")
        }
    }
}
