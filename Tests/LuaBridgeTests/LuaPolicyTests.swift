import Foundation
import PresenceCore
import Synchronization
import XCTest

@testable import LuaBridge

/// The hooks as a room calls them, with real plugin files and a real Lua state.
final class LuaPolicyTests: XCTestCase {
    private func loaded(_ files: [String: String], fixture: PluginFixture? = nil) throws -> (PluginFixture, LuaPolicy) {
        let fixture = try fixture ?? PluginFixture()
        for (file, source) in files {
            try fixture.directory.write(file, source)
        }
        let summary = fixture.manager.reload()
        XCTAssertEqual(summary.result, .success, "\(summary.failures)")
        return (fixture, fixture.policy())
    }

    private let cursorEvent = PresenceEvent.cursorMoved(
        userID: "u2", cursor: CursorPosition(line: 1, column: 2, offset: 3), selection: nil)

    // MARK: - Hooks

    func testColorHookSeesUserAndDocument() throws {
        let (_, policy) = try loaded([
            "c.lua": pluginSource(
                name: "c",
                hooks: ["color(user, doc)": "return '#' .. user.name .. doc.user_count .. #doc.colors_in_use .. doc.workspace_id"])
        ])
        let color = policy.color(for: makeUser(name: "ab"), in: makeDocument(userCount: 4, colors: ["#1", "#2"]))
        XCTAssertEqual(color, "#ab42acme")
    }

    func testColorAvoidsColorsInUse() throws {
        let source = pluginSource(
            name: "c",
            hooks: [
                "color(user, doc)": """
                local palette = { '#aa0000', '#00aa00', '#0000aa' }
                local used = {}
                for _, color in ipairs(doc.colors_in_use) do used[color] = true end
                for _, color in ipairs(palette) do if not used[color] then return color end end
                """
            ])
        let (_, policy) = try loaded(["c.lua": source])
        XCTAssertEqual(policy.color(for: makeUser(), in: makeDocument(colors: ["#aa0000"])), "#00aa00")
        XCTAssertNil(policy.color(for: makeUser(), in: makeDocument(colors: ["#aa0000", "#00aa00", "#0000aa"])))
    }

    func testCapacityHookReturnsLimit() throws {
        let (_, policy) = try loaded(["c.lua": pluginSource(name: "c", hooks: ["capacity(doc)": "return 25"])])
        XCTAssertEqual(policy.capacity(of: makeDocument()), 25)
    }

    func testAdmitHookRejectsWithReason() throws {
        let source = pluginSource(
            name: "gate",
            hooks: ["admit(user, doc)": "if user.name == 'Mallory' then return false, 'no Mallory here' end return true"])
        let (_, policy) = try loaded(["g.lua": source])
        XCTAssertEqual(policy.admit(makeUser(name: "Ada"), to: makeDocument()), .admit)
        XCTAssertEqual(policy.admit(makeUser(name: "Mallory"), to: makeDocument()), .reject(reason: "no Mallory here"))
    }

    func testAdmitFalseWithoutReasonNamesPlugin() throws {
        let (_, policy) = try loaded(["g.lua": pluginSource(name: "gate", hooks: ["admit(user, doc)": "return false"])])
        XCTAssertEqual(policy.admit(makeUser(), to: makeDocument()), .reject(reason: "rejected by plugin gate"))
    }

    func testActivityHookSeesIdleTime() throws {
        let source = pluginSource(
            name: "idle", hooks: ["activity(user, doc, idle_ms)": "if idle_ms > 5000 then return 'Away' end"])
        let (_, policy) = try loaded(["i.lua": source])
        XCTAssertTrue(policy.hasActivityRule(workspaceID: "acme"))
        XCTAssertEqual(policy.activity(for: makeUser(), in: makeDocument(), idleMs: 6_000), .away)
        XCTAssertNil(policy.activity(for: makeUser(), in: makeDocument(), idleMs: 1_000))
    }

    func testFilterChangesEvent() throws {
        let source = pluginSource(
            name: "f", hooks: ["filter(event, doc)": "if event.type == 'CursorMoved' then event.cursor.line = 99 end return event"])
        let (_, policy) = try loaded(["f.lua": source])
        let filtered = policy.filter(cursorEvent, in: makeDocument())
        XCTAssertEqual(
            filtered, .cursorMoved(userID: "u2", cursor: CursorPosition(line: 99, column: 2, offset: 3), selection: nil))
    }

    func testFilterReturningNilDropsEvent() throws {
        let (_, policy) = try loaded(["f.lua": pluginSource(name: "f", hooks: ["filter(event, doc)": "return nil"])])
        XCTAssertNil(policy.filter(cursorEvent, in: makeDocument()))
    }

    func testFilterSeesEveryEventShape() throws {
        let source = pluginSource(name: "f", hooks: ["filter(event, doc)": "return event"])
        let (_, policy) = try loaded(["f.lua": source])
        let selection = Selection(
            anchor: CursorPosition(line: 1, column: 1, offset: 1), head: CursorPosition(line: 2, column: 2, offset: 9),
            isBackward: false)
        let events: [PresenceEvent] = [
            .userJoined(makeUser()), .userLeft(userID: "u1"),
            .cursorMoved(userID: "u1", cursor: CursorPosition(line: 0, column: 0, offset: 0), selection: selection),
            .typingChanged(userID: "u1", isTyping: true),
            .viewportChanged(userID: "u1", viewport: Viewport(topLine: 1, bottomLine: 40, scrollPercentage: 0.25)),
            .activityChanged(userID: "u1", activity: .idle), .userIdle(userID: "u1"),
            .focusChanged(userID: "u1", focused: false),
        ]
        for event in events {
            XCTAssertEqual(policy.filter(event, in: makeDocument()), event, event.name)
        }
    }

    func testFilterForHidesPerRecipient() throws {
        let source = pluginSource(
            name: "hide",
            hooks: [
                "filter_for(event, recipient, doc)":
                    "if event.type == 'CursorMoved' and recipient.name == 'guest' then return nil end return event"
            ])
        let (_, policy) = try loaded(["h.lua": source])
        XCTAssertTrue(policy.filtersPerRecipient(workspaceID: "acme"))
        XCTAssertNil(policy.filter(cursorEvent, for: makeUser("u3", name: "guest"), in: makeDocument()))
        XCTAssertEqual(policy.filter(cursorEvent, for: makeUser("u3", name: "member"), in: makeDocument()), cursorEvent)
    }

    func testFilterMayNotChangeTypeOrUser() throws {
        let (fixture, policy) = try loaded([
            "t.lua": pluginSource(name: "t", hooks: ["filter(event, doc)": "event.type = 'UserIdle' return event"]),
            "u.lua": pluginSource(name: "u", hooks: ["filter(event, doc)": "event.user_id = 'someone-else' return event"]),
        ])
        XCTAssertEqual(policy.filter(cursorEvent, in: makeDocument()), cursorEvent)
        XCTAssertEqual(fixture.metric("test_plugin_errors_total{plugin=\"t\",hook=\"filter\",reason=\"invalid_value\"}"), 1)
        XCTAssertEqual(fixture.metric("test_plugin_errors_total{plugin=\"u\",hook=\"filter\",reason=\"invalid_value\"}"), 1)
    }

    // MARK: - Scoping and ordering

    func testWorkspacesScopePlugin() throws {
        let (_, policy) = try loaded([
            "s.lua": pluginSource(name: "s", workspaces: "{ 'acme' }", hooks: ["capacity(doc)": "return 5"])
        ])
        XCTAssertEqual(policy.capacity(of: makeDocument(workspace: "acme")), 5)
        XCTAssertNil(policy.capacity(of: makeDocument(workspace: "globex")))
    }

    func testStarScopesEveryWorkspace() throws {
        let (_, policy) = try loaded([
            "s.lua": pluginSource(name: "s", workspaces: "'*'", hooks: ["capacity(doc)": "return 5"])
        ])
        XCTAssertEqual(policy.capacity(of: makeDocument(workspace: "anything")), 5)
    }

    func testOmittedWorkspacesMeansEvery() throws {
        let (_, policy) = try loaded(["s.lua": pluginSource(name: "s", hooks: ["capacity(doc)": "return 5"])])
        XCTAssertEqual(policy.capacity(of: makeDocument(workspace: "globex")), 5)
    }

    func testHighestPriorityAnswersFirst() throws {
        let (_, policy) = try loaded([
            "low.lua": pluginSource(name: "low", priority: 1, hooks: ["color(user, doc)": "return '#000001'"]),
            "high.lua": pluginSource(name: "high", priority: 10, hooks: ["color(user, doc)": "return '#00000a'"]),
        ])
        XCTAssertEqual(policy.color(for: makeUser(), in: makeDocument()), "#00000a")
    }

    func testPriorityTiesRunInNameOrder() throws {
        let (_, policy) = try loaded([
            "z.lua": pluginSource(name: "alpha", hooks: ["capacity(doc)": "return 1"]),
            "a.lua": pluginSource(name: "beta", hooks: ["capacity(doc)": "return 2"]),
        ])
        XCTAssertEqual(policy.capacity(of: makeDocument()), 1)
    }

    func testNilAnswerFallsThroughToNextPlugin() throws {
        let (_, policy) = try loaded([
            "a.lua": pluginSource(name: "a", priority: 5, hooks: ["capacity(doc)": "return nil"]),
            "b.lua": pluginSource(name: "b", priority: 1, hooks: ["capacity(doc)": "return 8"]),
        ])
        XCTAssertEqual(policy.capacity(of: makeDocument()), 8)
    }

    func testFiltersChainInPriorityOrder() throws {
        let (_, policy) = try loaded([
            "a.lua": pluginSource(name: "a", priority: 5, hooks: ["filter(event, doc)": "event.cursor.line = event.cursor.line * 10 return event"]),
            "b.lua": pluginSource(name: "b", priority: 1, hooks: ["filter(event, doc)": "event.cursor.line = event.cursor.line + 1 return event"]),
        ])
        guard case .cursorMoved(_, let cursor, _)? = policy.filter(cursorEvent, in: makeDocument()) else {
            return XCTFail("the event was dropped")
        }
        XCTAssertEqual(cursor.line, 11)
    }

    func testNoPluginsKeepDefaults() throws {
        let (_, policy) = try loaded([:])
        XCTAssertNil(policy.color(for: makeUser(), in: makeDocument()))
        XCTAssertNil(policy.capacity(of: makeDocument()))
        XCTAssertEqual(policy.admit(makeUser(), to: makeDocument()), .admit)
        XCTAssertEqual(policy.filter(cursorEvent, in: makeDocument()), cursorEvent)
        XCTAssertFalse(policy.filtersPerRecipient(workspaceID: "acme"))
        XCTAssertFalse(policy.hasActivityRule(workspaceID: "acme"))
    }

    // MARK: - Faults

    func testErrorFallsThroughAndIsCounted() throws {
        let (fixture, policy) = try loaded([
            "a.lua": pluginSource(name: "a", priority: 5, hooks: ["capacity(doc)": "error('broken')"]),
            "b.lua": pluginSource(name: "b", priority: 1, hooks: ["capacity(doc)": "return 8"]),
        ])
        XCTAssertEqual(policy.capacity(of: makeDocument()), 8)
        XCTAssertEqual(fixture.metric("test_plugin_errors_total{plugin=\"a\",hook=\"capacity\",reason=\"error\"}"), 1)
        XCTAssertEqual(fixture.metric("test_plugin_calls_total{plugin=\"a\",hook=\"capacity\"}"), 1)
        let line = try XCTUnwrap(fixture.log.all.first { $0.contains("plugin hook failed") })
        XCTAssertTrue(line.contains("\"plugin.name\":\"a\""), line)
        XCTAssertTrue(line.contains("\"plugin.hook\":\"capacity\""), line)
        XCTAssertTrue(line.contains("\"plugin.file\":\"a.lua\""), line)
        XCTAssertTrue(line.contains("\"plugin.line\":\"3\""), line)
    }

    func testRunawayLoopFallsThrough() throws {
        let fixture = try PluginFixture(instructionLimit: 100_000)
        let (_, policy) = try loaded(
            [
                "a.lua": pluginSource(name: "a", priority: 5, hooks: ["color(user, doc)": "while true do end"]),
                "b.lua": pluginSource(name: "b", priority: 1, hooks: ["color(user, doc)": "return '#0000bb'"]),
            ], fixture: fixture)
        XCTAssertEqual(policy.color(for: makeUser(), in: makeDocument()), "#0000bb")
        XCTAssertEqual(fixture.metric("test_plugin_errors_total{plugin=\"a\",hook=\"color\",reason=\"instruction_limit\"}"), 1)
    }

    func testPcallLoopFallsThrough() throws {
        let fixture = try PluginFixture(instructionLimit: 100_000)
        let (_, policy) = try loaded(
            ["a.lua": pluginSource(name: "a", hooks: ["capacity(doc)": "local function f() while true do end end\nwhile true do pcall(f) end"])],
            fixture: fixture)
        XCTAssertNil(policy.capacity(of: makeDocument()))
        XCTAssertEqual(fixture.metric("test_plugin_errors_total{plugin=\"a\",hook=\"capacity\",reason=\"instruction_limit\"}"), 1)
    }

    func testMemoryBombFallsThrough() throws {
        let fixture = try PluginFixture(memoryLimitMB: 8)
        let (_, policy) = try loaded(
            ["a.lua": pluginSource(name: "a", hooks: ["capacity(doc)": "local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(4096) .. i end"])],
            fixture: fixture)
        XCTAssertNil(policy.capacity(of: makeDocument()))
        XCTAssertEqual(fixture.metric("test_plugin_errors_total{plugin=\"a\",hook=\"capacity\",reason=\"memory_limit\"}"), 1)
    }

    func testLargeStringRepFallsThrough() throws {
        let fixture = try PluginFixture(memoryLimitMB: 8)
        let (_, policy) = try loaded(
            ["a.lua": pluginSource(name: "a", hooks: ["color(user, doc)": "return string.rep('#', 1e9)"])], fixture: fixture)
        XCTAssertNil(policy.color(for: makeUser(), in: makeDocument()))
        XCTAssertEqual(fixture.metric("test_plugin_errors_total{plugin=\"a\",hook=\"color\",reason=\"memory_limit\"}"), 1)
    }

    func testWrongReturnTypesAreFaults() throws {
        let (fixture, policy) = try loaded([
            "a.lua": pluginSource(
                name: "a",
                hooks: [
                    "color(user, doc)": "return 42", "capacity(doc)": "return 'many'",
                    "admit(user, doc)": "return 'yes'", "activity(user, doc, idle_ms)": "return 'Sleeping'",
                    "filter(event, doc)": "return true",
                ])
        ])
        XCTAssertNil(policy.color(for: makeUser(), in: makeDocument()))
        XCTAssertNil(policy.capacity(of: makeDocument()))
        XCTAssertEqual(policy.admit(makeUser(), to: makeDocument()), .admit)
        XCTAssertNil(policy.activity(for: makeUser(), in: makeDocument(), idleMs: 1))
        XCTAssertEqual(policy.filter(cursorEvent, in: makeDocument()), cursorEvent)
        for hook in ["color", "capacity", "admit", "activity", "filter"] {
            XCTAssertEqual(
                fixture.metric("test_plugin_errors_total{plugin=\"a\",hook=\"\(hook)\",reason=\"invalid_value\"}"), 1, hook)
        }
    }

    func testInvalidColorStringIsFault() throws {
        let (fixture, policy) = try loaded([
            "a.lua": pluginSource(name: "a", hooks: ["color(user, doc)": "return 'red; background: url(x)'"])
        ])
        XCTAssertNil(policy.color(for: makeUser(), in: makeDocument()))
        XCTAssertEqual(fixture.metric("test_plugin_errors_total{plugin=\"a\",hook=\"color\",reason=\"invalid_value\"}"), 1)
    }

    func testFailingFilterFailsOpenByDefault() throws {
        let (_, policy) = try loaded(["f.lua": pluginSource(name: "f", hooks: ["filter(event, doc)": "error('oops')"])])
        XCTAssertEqual(policy.filter(cursorEvent, in: makeDocument()), cursorEvent)
    }

    func testFailClosedFilterDropsOnFault() throws {
        let (_, policy) = try loaded([
            "f.lua": pluginSource(name: "f", failClosed: true, hooks: ["filter_for(event, recipient, doc)": "error('oops')"])
        ])
        XCTAssertNil(policy.filter(cursorEvent, for: makeUser("u3"), in: makeDocument()))
    }

    func testFailClosedFilterDropsWrongReturn() throws {
        let (_, policy) = try loaded([
            "f.lua": pluginSource(name: "f", failClosed: true, hooks: ["filter(event, doc)": "return 'not an event'"])
        ])
        XCTAssertNil(policy.filter(cursorEvent, in: makeDocument()))
    }

    func testRepeatedFaultsDisablePluginUntilFileChanges() throws {
        let fixture = try PluginFixture(maxConsecutiveErrors: 3)
        let (_, policy) = try loaded(
            ["a.lua": pluginSource(name: "a", hooks: ["capacity(doc)": "error('always')"])], fixture: fixture)
        for _ in 0..<5 {
            XCTAssertNil(policy.capacity(of: makeDocument()))
        }
        XCTAssertEqual(fixture.metric("test_plugin_calls_total{plugin=\"a\",hook=\"capacity\"}"), 3)
        let status = fixture.manager.status().plugins[0]
        XCTAssertEqual(status.state, .disabled)
        XCTAssertTrue(status.lastError?.message.contains("3 faults in a row") ?? false)
        XCTAssertEqual(fixture.manager.snapshot().entries.count, 0)

        XCTAssertEqual(fixture.manager.reload().unchanged, 1)
        XCTAssertEqual(fixture.manager.status().plugins[0].state, .disabled)

        try fixture.directory.write("a.lua", pluginSource(name: "a", hooks: ["capacity(doc)": "return 4"]))
        fixture.manager.reload()
        XCTAssertEqual(fixture.manager.status().plugins[0].state, .active)
        XCTAssertEqual(policy.capacity(of: makeDocument()), 4)
    }

    func testSuccessResetsFaultCount() throws {
        let fixture = try PluginFixture(maxConsecutiveErrors: 3)
        let (_, policy) = try loaded(
            ["a.lua": pluginSource(name: "a", hooks: ["capacity(doc)": "if doc.user_count == 0 then error('empty') end return 2"])],
            fixture: fixture)
        for _ in 0..<10 {
            XCTAssertNil(policy.capacity(of: makeDocument(userCount: 0)))
            XCTAssertNil(policy.capacity(of: makeDocument(userCount: 0)))
            XCTAssertEqual(policy.capacity(of: makeDocument(userCount: 1)), 2)
        }
        XCTAssertEqual(fixture.manager.status().plugins[0].state, .active)
    }

    func testDisabledFailClosedFilterKeepsDropping() throws {
        let fixture = try PluginFixture(maxConsecutiveErrors: 2)
        let (_, policy) = try loaded(
            ["f.lua": pluginSource(name: "f", failClosed: true, hooks: ["filter_for(event, recipient, doc)": "error('oops')"])],
            fixture: fixture)
        for _ in 0..<3 {
            XCTAssertNil(policy.filter(cursorEvent, for: makeUser("u3"), in: makeDocument()))
        }
        XCTAssertEqual(fixture.manager.status().plugins[0].state, .disabled)
        XCTAssertTrue(policy.filtersPerRecipient(workspaceID: "acme"))
        XCTAssertNil(policy.filter(cursorEvent, for: makeUser("u3"), in: makeDocument()))
        XCTAssertEqual(fixture.metric("test_plugin_calls_total{plugin=\"f\",hook=\"filter_for\"}"), 2)
    }

    func testFaultLogIsRateLimited() throws {
        let (fixture, policy) = try loaded(["a.lua": pluginSource(name: "a", hooks: ["capacity(doc)": "error('noisy')"])])
        for _ in 0..<15 {
            _ = policy.capacity(of: makeDocument())
        }
        XCTAssertEqual(fixture.log.count(containing: "plugin hook failed"), 5)
        XCTAssertEqual(fixture.metric("test_plugin_errors_total{plugin=\"a\",hook=\"capacity\",reason=\"error\"}"), 15)
    }

    func testPluginLogIsTaggedWithName() throws {
        let (fixture, policy) = try loaded([
            "a.lua": pluginSource(name: "a", hooks: ["capacity(doc)": "gateway.log('info', 'capacity asked for ' .. doc.id)"])
        ])
        _ = policy.capacity(of: makeDocument())
        let line = try XCTUnwrap(fixture.log.all.first { $0.contains("capacity asked for doc1") })
        XCTAssertTrue(line.contains("\"plugin.name\":\"a\""), line)
    }

    func testPluginCannotChangeArgumentsOfNextPlugin() throws {
        let (_, policy) = try loaded([
            "a.lua": pluginSource(name: "a", priority: 5, hooks: ["color(user, doc)": "user.name = 'changed' doc.colors_in_use = nil"]),
            "b.lua": pluginSource(name: "b", priority: 1, hooks: ["color(user, doc)": "return '#' .. user.name .. #doc.colors_in_use"]),
        ])
        XCTAssertEqual(policy.color(for: makeUser(name: "abc"), in: makeDocument(colors: ["#1"])), "#abc1")
    }

    // MARK: - Reload while running

    func testReloadTakesEffectBetweenEvents() throws {
        let (fixture, policy) = try loaded(["a.lua": pluginSource(name: "a", hooks: ["capacity(doc)": "return 1"])])
        let other = fixture.policy()
        XCTAssertEqual(policy.capacity(of: makeDocument()), 1)
        XCTAssertEqual(other.capacity(of: makeDocument()), 1)
        try fixture.directory.write("a.lua", pluginSource(name: "a", hooks: ["capacity(doc)": "return 2"]))
        fixture.manager.reload()
        XCTAssertEqual(policy.capacity(of: makeDocument()), 2)
        XCTAssertEqual(other.capacity(of: makeDocument()), 2)
        XCTAssertEqual(policy.runningVersion, fixture.manager.version)
    }

    func testReloadDuringBusyCursorTrafficLosesNoEvent() throws {
        let fixture = try PluginFixture()
        try fixture.directory.write(
            "f.lua", pluginSource(name: "f", hooks: ["filter(event, doc)": "event.cursor.column = 1 return event"]))
        fixture.manager.reload()
        let manager = fixture.manager
        let directory = fixture.directory
        let reloads = 20

        // Each of two loops sends cursor events through its own policy while another thread edits
        // the plugin and reloads. Every event must come out filtered by one version or the other.
        let results = Mutex<[(lost: Int, columns: Set<UInt32>)]>([])
        let group = DispatchGroup()
        let stop = Atomic<Bool>(false)
        for _ in 0..<2 {
            group.enter()
            Thread.detachNewThread {
                let policy = LuaPolicy(manager: manager)
                var delivered = 0
                var columns: Set<UInt32> = []
                var sent = 0
                while !stop.load(ordering: .relaxed) || sent < 100, sent < 200_000 {
                    let event = PresenceEvent.cursorMoved(
                        userID: "u\(sent % 50)", cursor: CursorPosition(line: UInt32(sent % 1000), column: 0, offset: 0),
                        selection: nil)
                    sent += 1
                    if case .cursorMoved(_, let cursor, _)? = policy.filter(event, in: makeDocument()) {
                        delivered += 1
                        columns.insert(cursor.column)
                    }
                }
                results.withLock { $0.append((sent - delivered, columns)) }
                group.leave()
            }
        }
        for version in 0..<reloads {
            let column = version % 2 == 0 ? 2 : 1
            try directory.write(
                "f.lua", pluginSource(name: "f", hooks: ["filter(event, doc)": "event.cursor.column = \(column) return event"]))
            manager.reload()
            Thread.sleep(forTimeInterval: 0.005)
        }
        stop.store(true, ordering: .relaxed)
        XCTAssertEqual(group.wait(timeout: .now() + 60), .success)
        let finished = results.withLock { $0 }
        XCTAssertEqual(finished.count, 2)
        for result in finished {
            XCTAssertEqual(result.lost, 0, "every event sent must be delivered")
            XCTAssertTrue(result.columns.isSubset(of: [1, 2]), "\(result.columns)")
        }
        XCTAssertEqual(manager.version, UInt64(reloads) + 1)
    }
}
