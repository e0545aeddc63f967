import Foundation
import XCTest

@testable import LuaBridge

/// Reloading must not leak: every reload replaces Lua states, and the old ones must be freed.
final class PluginReloadMemoryTests: XCTestCase {
    /// Resident set size in bytes, from /proc/self/statm (second field, in pages).
    private func residentBytes() throws -> Int {
        let statm = try String(contentsOfFile: "/proc/self/statm", encoding: .utf8)
        let pages = Int(statm.split(separator: " ")[1]) ?? 0
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    func testThousandReloadsKeepResidentMemory() throws {
        let fixture = try PluginFixture()
        let policies = [fixture.policy(), fixture.policy()]
        let document = makeDocument()

        func reload(_ round: Int) throws {
            // A plugin that keeps some state in Lua, so a leaked state would be visible.
            let source = pluginSource(
                name: "p",
                hooks: ["capacity(doc)": "local t = {} for i = 1, 200 do t[i] = ('x'):rep(64) .. i end return \(round % 50 + 1)"])
            try fixture.directory.write("p.lua", source)
            XCTAssertEqual(fixture.manager.reload().result, .success)
            for policy in policies {
                XCTAssertEqual(policy.capacity(of: document), round % 50 + 1)
            }
        }

        for round in 0..<100 {
            try reload(round)
        }
        let before = try residentBytes()
        for round in 100..<1_100 {
            try reload(round)
        }
        let after = try residentBytes()
        XCTAssertEqual(fixture.manager.version, 1_100)
        // Each reload builds three Lua states of about 100 KB: a leak of one per reload would add
        // about 100 MB. Allocator slack stays far below the bound.
        XCTAssertLessThan(after - before, 16 << 20, "resident memory grew from \(before) to \(after) bytes")
    }
}
