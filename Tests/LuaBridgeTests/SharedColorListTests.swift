import PresenceCore
import XCTest

@testable import LuaBridge

/// `doc.colors_in_use` as a read-only list that the Lua state keeps between calls.
final class SharedColorListTests: XCTestCase {
    /// A plugin whose colour is the document's colour list joined by commas.
    private let listingSource = pluginSource(
        name: "list", hooks: ["color(user, doc)": "doc.user_count = 99\nreturn table.concat(doc.colors_in_use, ',')"])

    private func loaded(_ files: [String: String]) throws -> (PluginFixture, LuaPolicy) {
        let fixture = try PluginFixture()
        for (file, source) in files {
            try fixture.directory.write(file, source)
        }
        let summary = fixture.manager.reload()
        XCTAssertEqual(summary.result, .success, "\(summary.failures)")
        return (fixture, fixture.policy())
    }

    private func document(_ id: String, _ colors: [String]) -> DocumentInfo {
        DocumentInfo(id: id, workspaceID: "acme", userCount: colors.count, colorsInUse: colors)
    }

    func testRepeatedCallsSeeTheCurrentList() throws {
        let (_, policy) = try loaded(["list.lua": listingSource])
        let first = document("d1", ["#1", "#2"])
        XCTAssertEqual(policy.color(for: makeUser(), in: first), "#1,#2")
        XCTAssertEqual(policy.color(for: makeUser(), in: first), "#1,#2")

        let grown = document("d1", ["#1", "#2", "#3"])
        XCTAssertEqual(policy.color(for: makeUser(), in: grown), "#1,#2,#3")

        let other = document("d2", ["#9"])
        XCTAssertEqual(policy.color(for: makeUser(), in: other), "#9")
        XCTAssertEqual(policy.color(for: makeUser(), in: grown), "#1,#2,#3")
        XCTAssertEqual(policy.color(for: makeUser(), in: document("d3", [])), nil, "an empty list joins to no colour")
    }

    func testManyDocumentsShareFewSlots() throws {
        let (_, policy) = try loaded(["list.lua": listingSource])
        for round in 0..<2 {
            for index in 0..<200 {
                let expected = "#\(index)"
                XCTAssertEqual(
                    policy.color(for: makeUser(), in: document("doc-\(index)", [expected])), expected,
                    "round \(round), document \(index)")
            }
        }
    }

    func testSharedListIsReadOnly() throws {
        let writer = pluginSource(
            name: "writer", priority: 5, hooks: ["color(user, doc)": "doc.colors_in_use[1] = 'x'\nreturn '#bad'"])
        let (fixture, policy) = try loaded(["writer.lua": writer, "list.lua": listingSource])
        XCTAssertEqual(policy.color(for: makeUser(), in: document("d1", ["#1"])), "#1")
        XCTAssertEqual(policy.color(for: makeUser(), in: document("d1", ["#1"])), "#1", "the write changed nothing")
        let line = try XCTUnwrap(fixture.log.all.first { $0.contains("plugin hook failed") })
        XCTAssertTrue(line.contains("this shared table is read-only"), line)
    }

    func testRawsetReachesNoOtherCall() throws {
        let rawsetter = pluginSource(
            name: "rawsetter", priority: 5,
            hooks: ["color(user, doc)": "rawset(doc.colors_in_use, 1, 'evil')\nrawset(doc.colors_in_use, 3, 'extra')"])
        let (_, policy) = try loaded(["rawsetter.lua": rawsetter, "list.lua": listingSource])
        let first = document("d1", ["#1", "#2"])
        XCTAssertEqual(policy.color(for: makeUser(), in: first), "#1,#2")
        XCTAssertEqual(policy.color(for: makeUser(), in: first), "#1,#2")
    }

    func testFailedCallsKeepListsRight() throws {
        let failing = pluginSource(
            name: "failing", priority: 5, hooks: ["color(user, doc)": "if #doc.colors_in_use == 2 then error('two') end"])
        let (_, policy) = try loaded(["failing.lua": failing, "list.lua": listingSource])
        XCTAssertEqual(policy.color(for: makeUser(), in: document("d1", ["#1"])), "#1")
        XCTAssertEqual(policy.color(for: makeUser(), in: document("d1", ["#1", "#2"])), "#1,#2")
        XCTAssertEqual(policy.color(for: makeUser(), in: document("d1", ["#1"])), "#1")
        XCTAssertEqual(policy.color(for: makeUser(), in: document("d1", ["#1", "#2"])), "#1,#2")
    }

    func testReloadStartsWithNoSharedLists() throws {
        let (fixture, policy) = try loaded(["list.lua": listingSource])
        let first = document("d1", ["#1"])
        XCTAssertEqual(policy.color(for: makeUser(), in: first), "#1")
        try fixture.directory.write("list.lua", listingSource + "-- changed\n")
        XCTAssertEqual(fixture.manager.reload().result, .success)
        XCTAssertEqual(policy.color(for: makeUser(), in: first), "#1")
    }
}
