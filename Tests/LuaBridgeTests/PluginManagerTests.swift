import Foundation
import XCTest

@testable import LuaBridge

/// Loading, checking and reloading the plugin directory.
final class PluginManagerTests: XCTestCase {
    private let palette = pluginSource(name: "palette", hooks: ["color(user, doc)": "return '#111111'"])

    func testReloadLoadsEveryPluginFile() throws {
        let fixture = try PluginFixture()
        try fixture.directory.write("a.lua", palette)
        try fixture.directory.write("b.lua", pluginSource(name: "cap", priority: 5, workspaces: "{ 'acme' }", hooks: ["capacity(doc)": "return 3"]))
        try fixture.directory.write("notes.txt", "not a plugin")
        let summary = fixture.manager.reload()
        XCTAssertEqual(summary.result, .success)
        XCTAssertEqual(summary.loaded, ["a.lua", "b.lua"])
        XCTAssertEqual(fixture.manager.version, 1)
        XCTAssertEqual(fixture.manager.snapshot().entries.map(\.plugin.name), ["cap", "palette"])
        XCTAssertEqual(fixture.metric("test_plugin_reloads_total{result=\"success\"}"), 1)
    }

    func testStatusListsPluginDetails() throws {
        let fixture = try PluginFixture()
        try fixture.directory.write(
            "cap.lua", pluginSource(name: "cap", priority: 5, workspaces: "{ 'globex', 'acme' }", failClosed: true, hooks: ["capacity(doc)": "return 3", "filter(e, d)": "return e"]))
        fixture.manager.reload()
        let status = try XCTUnwrap(fixture.manager.status().plugins.first)
        XCTAssertEqual(status.file, "cap.lua")
        XCTAssertEqual(status.name, "cap")
        XCTAssertEqual(status.state, .active)
        XCTAssertEqual(status.priority, 5)
        XCTAssertEqual(status.workspaces, ["acme", "globex"])
        XCTAssertEqual(status.hooks, ["capacity", "filter"])
        XCTAssertTrue(status.failClosed)
        XCTAssertEqual(status.contentHash?.count, 16)
        XCTAssertNotNil(status.loadedAtMs)
        XCTAssertNil(status.lastError)

        let json = String(decoding: try JSONEncoder().encode(fixture.manager.status()), as: UTF8.self)
        XCTAssertTrue(json.contains("\"content_hash\""), json)
        XCTAssertTrue(json.contains("\"state\":\"active\""), json)
    }

    func testUnchangedReloadKeepsVersion() throws {
        let fixture = try PluginFixture()
        try fixture.directory.write("a.lua", palette)
        fixture.manager.reload()
        let summary = fixture.manager.reload()
        XCTAssertEqual(summary.unchanged, 1)
        XCTAssertEqual(summary.loaded, [])
        XCTAssertEqual(fixture.manager.version, 1)
    }

    func testEditLoadsNewVersion() throws {
        let fixture = try PluginFixture()
        try fixture.directory.write("a.lua", palette)
        fixture.manager.reload()
        let firstHash = fixture.manager.status().plugins[0].contentHash
        try fixture.directory.write("a.lua", palette.replacingOccurrences(of: "#111111", with: "#222222"))
        let summary = fixture.manager.reload()
        XCTAssertEqual(summary.loaded, ["a.lua"])
        XCTAssertEqual(fixture.manager.version, 2)
        XCTAssertNotEqual(fixture.manager.status().plugins[0].contentHash, firstHash)
        let policy = fixture.policy()
        XCTAssertEqual(policy.color(for: makeUser(), in: makeDocument()), "#222222")
    }

    func testRenameOverLoadsNewVersion() throws {
        let fixture = try PluginFixture()
        try fixture.directory.write("a.lua", palette)
        fixture.manager.reload()
        try fixture.directory.replaceByRename("a.lua", palette.replacingOccurrences(of: "#111111", with: "#333333"))
        let summary = fixture.manager.reload()
        XCTAssertEqual(summary.loaded, ["a.lua"])
        XCTAssertEqual(fixture.manager.status().plugins.map(\.file), ["a.lua"])
        XCTAssertEqual(fixture.policy().color(for: makeUser(), in: makeDocument()), "#333333")
    }

    func testSyntaxErrorKeepsPreviousVersionUntilFixed() throws {
        let fixture = try PluginFixture()
        try fixture.directory.write("a.lua", palette)
        fixture.manager.reload()
        let policy = fixture.policy()
        XCTAssertEqual(policy.color(for: makeUser(), in: makeDocument()), "#111111")

        try fixture.directory.write("a.lua", "local plugin = {\nname = 'palette'\nfunction broken(\nreturn plugin\n")
        let failed = fixture.manager.reload()
        XCTAssertEqual(failed.result, .failure)
        XCTAssertEqual(failed.failures.first?.file, "a.lua")
        XCTAssertEqual(failed.failures.first?.kind, "syntax_error")
        XCTAssertNotNil(failed.failures.first?.line)
        let status = fixture.manager.status().plugins[0]
        XCTAssertEqual(status.state, .failedKeepingPrevious)
        XCTAssertEqual(status.lastError?.kind, "syntax_error")
        XCTAssertEqual(policy.color(for: makeUser(), in: makeDocument()), "#111111")
        XCTAssertEqual(fixture.log.count(containing: "previous version keeps running"), 1)

        try fixture.directory.write("a.lua", palette.replacingOccurrences(of: "#111111", with: "#444444"))
        XCTAssertEqual(fixture.manager.reload().result, .success)
        XCTAssertEqual(fixture.manager.status().plugins[0].state, .active)
        XCTAssertNil(fixture.manager.status().plugins[0].lastError)
        XCTAssertEqual(policy.color(for: makeUser(), in: makeDocument()), "#444444")
    }

    func testBrokenNewFileIsReportedAndNotLoaded() throws {
        let fixture = try PluginFixture()
        try fixture.directory.write("bad.lua", "return 1 +")
        let summary = fixture.manager.reload()
        XCTAssertEqual(summary.result, .failure)
        XCTAssertEqual(fixture.manager.status().plugins[0].state, .failed)
        XCTAssertEqual(fixture.manager.snapshot().entries.count, 0)
        XCTAssertEqual(fixture.metric("test_plugin_reloads_total{result=\"failure\"}"), 1)
    }

    func testStillBrokenFileIsReportedAgain() throws {
        let fixture = try PluginFixture()
        try fixture.directory.write("bad.lua", "return 1 +")
        XCTAssertEqual(fixture.manager.reload().result, .failure)
        let failedLines = fixture.log.count(containing: "plugin file failed to load")

        try fixture.directory.write("a.lua", palette)
        let summary = fixture.manager.reload()
        XCTAssertEqual(summary.result, .failure)
        XCTAssertEqual(summary.loaded, ["a.lua"])
        XCTAssertEqual(summary.failures.map(\.file), ["bad.lua"])
        XCTAssertEqual(fixture.log.count(containing: "plugin file failed to load"), failedLines + 1)
    }

    func testFailedFileLoadsOnceItsConfigIsFixed() throws {
        let fixture = try PluginFixture(configs: ["c": "\"not a table\""])
        try fixture.directory.write("c.lua", pluginSource(name: "c", hooks: ["capacity(doc)": "return 3"]))
        XCTAssertEqual(fixture.manager.reload().result, .failure)

        fixture.manager.updateConfigs(["c": "{\"limit\": 3}"])
        XCTAssertEqual(fixture.manager.reload().result, .success)
        XCTAssertEqual(fixture.manager.status().plugins[0].state, .active)
    }

    func testDeleteUnloadsPlugin() throws {
        let fixture = try PluginFixture()
        try fixture.directory.write("a.lua", palette)
        fixture.manager.reload()
        let policy = fixture.policy()
        XCTAssertEqual(policy.color(for: makeUser(), in: makeDocument()), "#111111")
        try fixture.directory.remove("a.lua")
        let summary = fixture.manager.reload()
        XCTAssertEqual(summary.removed, ["a.lua"])
        XCTAssertEqual(fixture.manager.status().plugins.count, 0)
        XCTAssertNil(policy.color(for: makeUser(), in: makeDocument()))
    }

    func testMissingDirectoryKeepsCurrentSet() throws {
        let fixture = try PluginFixture()
        try fixture.directory.write("a.lua", palette)
        fixture.manager.reload()
        try FileManager.default.removeItem(atPath: fixture.directory.path)
        let summary = fixture.manager.reload()
        XCTAssertEqual(summary.result, .failure)
        XCTAssertEqual(fixture.manager.snapshot().entries.count, 1)
    }

    func testDefinitionErrorsAreRejected() throws {
        let cases: [(String, String)] = [
            ("return {}", "field \"name\" is missing"),
            ("return { name = 'bad name!' }", "invalid plugin name"),
            ("return { name = 'x', priority = 'high' }", "priority"),
            ("return { name = 'x', workspaces = 5 }", "workspaces"),
            ("return { name = 'x', workspaces = {} }", "workspaces"),
            ("return { name = 'x', fail_closed = 'yes' }", "fail_closed"),
            ("return { name = 'x', colour = function() end }", "unknown hook \"colour\""),
            ("return { name = 'x', color = '#fff' }", "field \"color\" must be a function"),
            ("return 'plugin'", "must return its table"),
            ("while true do end", "instruction limit"),
            ("error('top level failed')", "top level failed"),
        ]
        for (source, expected) in cases {
            let fixture = try PluginFixture(instructionLimit: 100_000)
            try fixture.directory.write("p.lua", source)
            let summary = fixture.manager.reload()
            XCTAssertEqual(summary.result, .failure, source)
            let message = summary.failures.first?.message ?? ""
            XCTAssertTrue(message.contains(expected), "\(source): \(message)")
        }
    }

    func testDuplicateNameIsRejected() throws {
        let fixture = try PluginFixture()
        try fixture.directory.write("a.lua", palette)
        fixture.manager.reload()
        try fixture.directory.write("b.lua", palette)
        let summary = fixture.manager.reload()
        XCTAssertEqual(summary.result, .failure)
        XCTAssertTrue(summary.failures.first?.message.contains("already used by a.lua") ?? false)
        XCTAssertEqual(fixture.manager.snapshot().entries.map(\.plugin.file), ["a.lua"])
    }

    func testConfigReachesPlugin() throws {
        let fixture = try PluginFixture(configs: ["cfg": #"{"limit": 7, "name": "x", "ratio": 0.5}"#])
        try fixture.directory.write(
            "cfg.lua", pluginSource(name: "cfg", hooks: ["capacity(doc)": "return plugin.config.limit * 2"]))
        XCTAssertEqual(fixture.manager.reload().result, .success)
        XCTAssertEqual(fixture.policy().capacity(of: makeDocument()), 14)
    }

    func testConfigChangeReloadsPlugin() throws {
        let fixture = try PluginFixture(configs: ["cfg": #"{"limit": 7}"#])
        try fixture.directory.write(
            "cfg.lua", pluginSource(name: "cfg", hooks: ["capacity(doc)": "return plugin.config.limit"]))
        fixture.manager.reload()
        let policy = fixture.policy()
        XCTAssertEqual(policy.capacity(of: makeDocument()), 7)
        fixture.manager.updateConfigs(["cfg": #"{"limit": 9}"#])
        XCTAssertEqual(fixture.manager.reload().loaded, ["cfg.lua"])
        XCTAssertEqual(policy.capacity(of: makeDocument()), 9)
    }

    func testInvalidConfigIsRejected() throws {
        let fixture = try PluginFixture(configs: ["cfg": "[1, 2]"])
        try fixture.directory.write("cfg.lua", pluginSource(name: "cfg", hooks: [:]))
        let summary = fixture.manager.reload()
        XCTAssertEqual(summary.result, .failure)
        XCTAssertTrue(summary.failures.first?.message.contains("JSON object") ?? false)
    }

    func testConcurrentReloadsPublishOneConsistentSet() throws {
        let fixture = try PluginFixture()
        for index in 0..<5 {
            try fixture.directory.write("p\(index).lua", pluginSource(name: "p\(index)", hooks: ["capacity(doc)": "return \(index)"]))
        }
        let manager = fixture.manager
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            manager.reload()
        }
        XCTAssertEqual(manager.snapshot().entries.count, 5)
        XCTAssertEqual(manager.version, 1)
    }
}
