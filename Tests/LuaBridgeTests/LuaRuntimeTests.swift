import XCTest

@testable import LuaBridge

/// The sandbox and limits of one Lua state, driven through `LuaRuntime` with real Lua code.
final class LuaRuntimeTests: XCTestCase {
    private var logged: [(Int32, PluginLogLevel, String)] = []

    private func makeRuntime(memoryLimitBytes: Int = 64 << 20, instructionLimit: Int64 = 1_000_000) throws -> LuaRuntime {
        try LuaRuntime(memoryLimitBytes: memoryLimitBytes, instructionLimit: instructionLimit) { [unowned self] in
            self.logged.append(($0, $1, $2))
        }
    }

    /// Loads a plugin whose hook `f` has `body` and returns its handle.
    private func loadHook(_ runtime: LuaRuntime, _ body: String, file: String = "test.lua") throws -> Int32 {
        try runtime.load(source: Array("local p = {}\nfunction p.f(...)\n\(body)\nend\nreturn p\n".utf8), chunkName: file)
    }

    private func callHook(_ runtime: LuaRuntime, _ handle: Int32, _ arguments: [LuaValue] = []) throws(LuaFailure) -> [LuaValue] {
        try runtime.call(handle: handle, hook: "f", arguments: LuaValueCodec.encodeArguments(arguments))
    }

    private func failure(_ body: () throws -> Void) -> LuaFailure? {
        do {
            try body()
            return nil
        } catch let failure as LuaFailure {
            return failure
        } catch {
            XCTFail("unexpected error \(error)")
            return nil
        }
    }

    // MARK: - Values

    func testValuesRoundTripThroughLua() throws {
        let runtime = try makeRuntime()
        let handle = try loadHook(runtime, "return ...")
        let table = LuaValue.record([
            "name": .string("Ada"), "count": .integer(-3), "ratio": .number(0.5), "ok": .boolean(true),
            "list": .array([.string("a"), .string("b")]),
        ])
        let results = try callHook(runtime, handle, [table, .integer(Int64.min), .nil, .string("é\u{0}x")])
        XCTAssertEqual(results.count, 4)
        XCTAssertEqual(results[0], table)
        XCTAssertEqual(results[1], .integer(Int64.min))
        XCTAssertEqual(results[2], .nil)
        XCTAssertEqual(results[3], .string("é\u{0}x"))
    }

    func testMissingHookReturnsNoValues() throws {
        let runtime = try makeRuntime()
        let handle = try runtime.load(source: Array("return {}".utf8), chunkName: "empty.lua")
        XCTAssertEqual(try runtime.call(handle: handle, hook: "color", arguments: []), [])
    }

    func testFunctionResultIsInvalidValue() throws {
        let runtime = try makeRuntime()
        let handle = try loadHook(runtime, "return print or pairs")
        let caught = failure { _ = try callHook(runtime, handle) }
        XCTAssertEqual(caught?.kind, .invalidValue)
    }

    func testCyclicTableResultIsInvalidValue() throws {
        let runtime = try makeRuntime()
        let handle = try loadHook(runtime, "local t = {} t.self = t return t")
        let caught = failure { _ = try callHook(runtime, handle) }
        XCTAssertEqual(caught?.kind, .invalidValue)
    }

    func testDescribeMarksFunctionsOpaque() throws {
        let runtime = try makeRuntime()
        let handle = try runtime.load(
            source: Array("return { name = 'x', priority = 5, color = function() end }".utf8), chunkName: "d.lua")
        let description = try runtime.describe(handle: handle)
        XCTAssertEqual(description["name"], .string("x"))
        XCTAssertEqual(description["priority"], .integer(5))
        XCTAssertEqual(description["color"], .opaque)
    }

    // MARK: - Faults

    func testErrorReportsFileAndLine() throws {
        let runtime = try makeRuntime()
        let handle = try loadHook(runtime, "local x = 1\nerror('boom')", file: "boom.lua")
        let caught = failure { _ = try callHook(runtime, handle) }
        XCTAssertEqual(caught?.kind, .runtimeError)
        XCTAssertEqual(caught?.message, "boom")
        XCTAssertEqual(caught?.file, "boom.lua")
        XCTAssertEqual(caught?.line, 4)
    }

    func testErrorWithTableValueIsReported() throws {
        let runtime = try makeRuntime()
        let handle = try loadHook(runtime, "error({ code = 1 })")
        let caught = failure { _ = try callHook(runtime, handle) }
        XCTAssertEqual(caught?.kind, .runtimeError)
        XCTAssertEqual(caught?.message, "error object is a table value")
        XCTAssertEqual(caught?.line, 3)
    }

    func testRunawayLoopHitsInstructionLimit() throws {
        let runtime = try makeRuntime(instructionLimit: 100_000)
        let handle = try loadHook(runtime, "while true do end")
        let caught = failure { _ = try callHook(runtime, handle) }
        XCTAssertEqual(caught?.kind, .instructionLimit)
        XCTAssertEqual(caught?.file, "test.lua")
        XCTAssertEqual(caught?.line, 3)
    }

    func testPcallCannotSwallowInstructionLimit() throws {
        let runtime = try makeRuntime(instructionLimit: 100_000)
        let handle = try loadHook(
            runtime,
            """
            local function spin() while true do end end
            while true do pcall(spin) end
            """)
        let caught = failure { _ = try callHook(runtime, handle) }
        XCTAssertEqual(caught?.kind, .instructionLimit)
    }

    func testNestedPcallAndXpcallCannotSwallowInstructionLimit() throws {
        let runtime = try makeRuntime(instructionLimit: 100_000)
        let handle = try loadHook(
            runtime,
            """
            local function spin() while true do end end
            while true do
              pcall(pcall, pcall, spin)
              xpcall(spin, function() while true do end end)
            end
            """)
        let caught = failure { _ = try callHook(runtime, handle) }
        XCTAssertEqual(caught?.kind, .instructionLimit)
    }

    func testBudgetResetsBetweenCalls() throws {
        let runtime = try makeRuntime(instructionLimit: 100_000)
        let handle = try loadHook(runtime, "for i = 1, 10000 do end return 1")
        for _ in 0..<50 {
            XCTAssertEqual(try callHook(runtime, handle), [.integer(1)])
        }
    }

    func testStateWorksAfterInstructionLimit() throws {
        let runtime = try makeRuntime(instructionLimit: 100_000)
        let spinning = try loadHook(runtime, "while true do end")
        let healthy = try loadHook(runtime, "return 'ok'")
        XCTAssertEqual(failure { _ = try callHook(runtime, spinning) }?.kind, .instructionLimit)
        XCTAssertEqual(try callHook(runtime, healthy), [.string("ok")])
    }

    func testMemoryBombHitsMemoryLimit() throws {
        let runtime = try makeRuntime(memoryLimitBytes: 8 << 20)
        let handle = try loadHook(runtime, "local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(4096) .. i end")
        let caught = failure { _ = try callHook(runtime, handle) }
        XCTAssertEqual(caught?.kind, .memoryLimit)
        XCTAssertLessThan(runtime.memoryUsed, 1 << 20)
    }

    func testPcallCannotSwallowMemoryLimit() throws {
        let runtime = try makeRuntime(memoryLimitBytes: 8 << 20)
        let handle = try loadHook(
            runtime,
            """
            local function bomb() local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(4096) .. i end end
            local caught = 0
            while caught < 3 do if not pcall(bomb) then caught = caught + 1 end end
            return 'survived'
            """)
        let caught = failure { _ = try callHook(runtime, handle) }
        XCTAssertEqual(caught?.kind, .memoryLimit)
    }

    func testLargeStringRepHitsMemoryLimit() throws {
        let runtime = try makeRuntime(memoryLimitBytes: 8 << 20)
        let handle = try loadHook(runtime, "return string.rep('x', 1e9)")
        let caught = failure { _ = try callHook(runtime, handle) }
        XCTAssertEqual(caught?.kind, .memoryLimit)
    }

    func testHugeStringRepIsAnError() throws {
        let runtime = try makeRuntime()
        let handle = try loadHook(runtime, "return ('x'):rep(1 << 62)")
        XCTAssertNotNil(failure { _ = try callHook(runtime, handle) })
    }

    func testDeepRecursionIsAnError() throws {
        let runtime = try makeRuntime()
        let handle = try loadHook(runtime, "local function f(n) return 1 + f(n + 1) end return f(1)")
        let caught = failure { _ = try callHook(runtime, handle) }
        XCTAssertNotNil(caught)
    }

    // MARK: - Sandbox

    func testUnsafeGlobalsAreAbsent() throws {
        let runtime = try makeRuntime()
        let names = [
            "io", "debug", "package", "require", "load", "loadfile", "dofile", "collectgarbage", "print",
            "coroutine", "loadstring",
        ]
        for name in names {
            let handle = try loadHook(runtime, "return \(name) == nil")
            XCTAssertEqual(try callHook(runtime, handle), [.boolean(true)], "\(name) must not be reachable")
        }
    }

    func testOnlySafeOsFunctionsExist() throws {
        let runtime = try makeRuntime()
        let handle = try loadHook(
            runtime,
            "local names = {} for k in pairs(os) do names[#names + 1] = k end table.sort(names) return table.concat(names, ',')"
        )
        XCTAssertEqual(try callHook(runtime, handle), [.string("clock,date,time")])
    }

    func testOsExecuteIsUnreachable() throws {
        let runtime = try makeRuntime()
        let handle = try loadHook(runtime, "return os.execute('true')")
        let caught = failure { _ = try callHook(runtime, handle) }
        XCTAssertEqual(caught?.kind, .runtimeError)
        XCTAssertTrue(caught?.message.contains("execute") ?? false, caught?.message ?? "")
    }

    func testStringDumpIsUnreachable() throws {
        let runtime = try makeRuntime()
        let handle = try loadHook(runtime, "return string.dump == nil and ('').dump == nil")
        XCTAssertEqual(try callHook(runtime, handle), [.boolean(true)])
    }

    func testBinaryChunkIsRejected() throws {
        let runtime = try makeRuntime()
        let source: [UInt8] = [0x1B] + Array("LuaT\0".utf8)
        let caught = failure { _ = try runtime.load(source: source, chunkName: "binary.lua") }
        XCTAssertEqual(caught?.kind, .syntaxError)
        XCTAssertTrue(caught?.message.contains("binary chunk") ?? false, caught?.message ?? "")
    }

    func testSyntaxErrorReportsLine() throws {
        let runtime = try makeRuntime()
        let caught = failure { _ = try runtime.load(source: Array("local p = {}\n\nthis is not lua\nreturn p".utf8), chunkName: "bad.lua") }
        XCTAssertEqual(caught?.kind, .syntaxError)
        XCTAssertEqual(caught?.file, "bad.lua")
        XCTAssertEqual(caught?.line, 3)
    }

    func testChunkMustReturnTable() throws {
        let runtime = try makeRuntime()
        let caught = failure { _ = try runtime.load(source: Array("return 42".utf8), chunkName: "n.lua") }
        XCTAssertEqual(caught?.kind, .invalidValue)
    }

    func testStringMetatableIsHidden() throws {
        let runtime = try makeRuntime()
        let handle = try loadHook(runtime, "return getmetatable('')")
        XCTAssertEqual(try callHook(runtime, handle), [.boolean(false)])
    }

    func testSetmetatableOnGlobalsStaysLocal() throws {
        let runtime = try makeRuntime()
        let attacker = try loadHook(
            runtime, "setmetatable(_G, nil) setmetatable(_G, { __index = function() return 'pwned' end }) return 1")
        let victim = try loadHook(runtime, "return tostring(undefined_name), type(pairs)")
        XCTAssertEqual(try callHook(runtime, attacker), [.integer(1)])
        XCTAssertEqual(try callHook(runtime, victim), [.string("nil"), .string("function")])
    }

    func testGcMetamethodIsRejected() throws {
        let runtime = try makeRuntime()
        let handle = try loadHook(runtime, "setmetatable({}, { __gc = function() while true do end end })")
        let caught = failure { _ = try callHook(runtime, handle) }
        XCTAssertEqual(caught?.kind, .runtimeError)
        XCTAssertTrue(caught?.message.contains("__gc") ?? false, caught?.message ?? "")
    }

    func testChangingStringLibraryStaysLocal() throws {
        let runtime = try makeRuntime()
        let attacker = try loadHook(
            runtime,
            """
            string.upper = function() return 'pwned' end
            string.rep = nil
            table.concat = nil
            return string.upper('a')
            """)
        let victim = try loadHook(runtime, "return string.upper('a'), ('b'):upper(), ('c'):rep(2), table.concat({'d'})")
        XCTAssertEqual(try callHook(runtime, attacker), [.string("pwned")])
        XCTAssertEqual(try callHook(runtime, victim), [.string("A"), .string("B"), .string("cc"), .string("d")])
    }

    func testGlobalsAreSeparatePerPlugin() throws {
        let runtime = try makeRuntime()
        let writer = try loadHook(runtime, "shared_secret = 'mine' _G.pairs = nil return shared_secret")
        let reader = try loadHook(runtime, "return shared_secret, type(pairs)")
        XCTAssertEqual(try callHook(runtime, writer), [.string("mine")])
        XCTAssertEqual(try callHook(runtime, reader), [.nil, .string("function")])
    }

    func testArgumentTablesAreFreshPerCall() throws {
        let runtime = try makeRuntime()
        let handle = try loadHook(runtime, "local t = ... local before = t.n t.n = 99 return before")
        let argument = LuaValue.record(["n": .integer(1)])
        XCTAssertEqual(try callHook(runtime, handle, [argument]), [.integer(1)])
        XCTAssertEqual(try callHook(runtime, handle, [argument]), [.integer(1)])
    }

    // MARK: - Config and the gateway table

    func testConfigIsReadOnly() throws {
        let runtime = try makeRuntime()
        let handle = try runtime.load(
            source: Array(
                """
                local p = {}
                function p.read() local n = 0 for _ in pairs(p.config) do n = n + 1 end
                  return p.config.limit, #p.config.colors, p.config.colors[2], n, p.config.nested.deep end
                function p.write() p.config.limit = 1 end
                function p.write_nested() p.config.colors[1] = 'x' end
                function p.unwrap() return getmetatable(p.config) end
                return p
                """.utf8), chunkName: "config.lua")
        let config = LuaValue.record([
            "limit": .integer(5), "colors": .array([.string("red"), .string("blue")]),
            "nested": .record(["deep": .boolean(true)]),
        ])
        try runtime.setConfig(handle: handle, config: config)
        XCTAssertEqual(
            try runtime.call(handle: handle, hook: "read", arguments: []),
            [.integer(5), .integer(2), .string("blue"), .integer(3), .boolean(true)])
        let write = failure { _ = try runtime.call(handle: handle, hook: "write", arguments: []) }
        XCTAssertEqual(write?.message, "plugin.config is read-only")
        let nested = failure { _ = try runtime.call(handle: handle, hook: "write_nested", arguments: []) }
        XCTAssertEqual(nested?.message, "plugin.config is read-only")
        XCTAssertEqual(try runtime.call(handle: handle, hook: "unwrap", arguments: []), [.boolean(false)])
    }

    func testSharedTableIsStoredAndLoaded() throws {
        let runtime = try makeRuntime()
        let handle = try loadHook(runtime, "local list = ...\nreturn #list, list[2], select(2, pcall(function() list[1] = 'x' end))")
        var store = LuaArgumentEncoder()
        store.beginSharedValue(slot: 3)
        store.write(LuaValue.array([.string("a"), .string("b")]))
        let stored = try runtime.call(handle: handle, hook: "f", arguments: store.bytes)
        XCTAssertEqual(stored.prefix(2), [.integer(2), .string("b")])
        guard case .string(let message) = stored.last else { return XCTFail("expected the write's error, got \(stored)") }
        XCTAssertTrue(message.hasSuffix("this shared table is read-only"), message)

        var load = LuaArgumentEncoder()
        load.writeSharedValue(slot: 3)
        XCTAssertEqual(try runtime.call(handle: handle, hook: "f", arguments: load.bytes).prefix(2), [.integer(2), .string("b")])
    }

    func testMissingOrInvalidSharedSlotIsInvalidValue() throws {
        let runtime = try makeRuntime()
        let handle = try loadHook(runtime, "return ...")
        var empty = LuaArgumentEncoder()
        empty.writeSharedValue(slot: 5)
        let missing = failure { _ = try runtime.call(handle: handle, hook: "f", arguments: empty.bytes) }
        XCTAssertEqual(missing?.kind, .invalidValue)
        XCTAssertEqual(missing?.message, "shared table slot 5 is empty")

        var nested = LuaArgumentEncoder()
        nested.beginSharedValue(slot: 1)
        nested.write(LuaValue.array([.array([.string("a")])]))
        let rejected = failure { _ = try runtime.call(handle: handle, hook: "f", arguments: nested.bytes) }
        XCTAssertEqual(rejected?.message, "a shared table must not contain tables")

        var outside = LuaArgumentEncoder()
        outside.writeSharedValue(slot: 64)
        let invalid = failure { _ = try runtime.call(handle: handle, hook: "f", arguments: outside.bytes) }
        XCTAssertEqual(invalid?.message, "shared table slot 64 is not below 64")
    }

    func testUnknownArgumentTagIsInvalidValue() throws {
        let runtime = try makeRuntime()
        let handle = try loadHook(runtime, "return ...")
        let unknown = failure { _ = try runtime.call(handle: handle, hook: "f", arguments: [0x7A]) }
        XCTAssertEqual(unknown?.kind, .invalidValue)
        XCTAssertEqual(unknown?.message, "unknown value tag 122")
        let badKey = failure {
            _ = try runtime.call(handle: handle, hook: "f", arguments: [UInt8(ascii: "T"), 1, 0, 0, 0, UInt8(ascii: "t"), UInt8(ascii: "t")])
        }
        XCTAssertEqual(badKey?.message, "table key with tag 116; keys must be integers or strings")
    }

    func testGatewayLogReachesHandler() throws {
        let runtime = try makeRuntime()
        let handle = try loadHook(runtime, "gateway.log('warning', 'hello ' .. 1)")
        _ = try callHook(runtime, handle)
        XCTAssertEqual(logged.count, 1)
        XCTAssertEqual(logged.first?.0, handle)
        XCTAssertEqual(logged.first?.1, .warning)
        XCTAssertEqual(logged.first?.2, "hello 1")
    }

    func testGatewayLogRejectsUnknownLevel() throws {
        let runtime = try makeRuntime()
        let handle = try loadHook(runtime, "gateway.log('loud', 'x')")
        let caught = failure { _ = try callHook(runtime, handle) }
        XCTAssertEqual(caught?.kind, .runtimeError)
        XCTAssertTrue(caught?.message.contains("invalid option 'loud'") ?? false, caught?.message ?? "")
        XCTAssertEqual(caught?.line, 3)
    }

    func testGatewaySeahashMatchesReference() throws {
        let runtime = try makeRuntime()
        let handle = try loadHook(runtime, "return gateway.seahash('to be or not to be'), gateway.seahash('u1', 360)")
        let results = try callHook(runtime, handle)
        XCTAssertEqual(results.first, .integer(Int64(bitPattern: 1_988_685_042_348_123_509)))
        XCTAssertEqual(results.last, .integer(Int64(clua_seahash_reference("u1") % 360)))
    }

    func testGatewayNowIsWallClockMilliseconds() throws {
        let runtime = try makeRuntime()
        let handle = try loadHook(runtime, "return gateway.now_ms()")
        let before = Int64(Date().timeIntervalSince1970 * 1000)
        let now = try callHook(runtime, handle).first?.integerValue ?? 0
        XCTAssertGreaterThanOrEqual(now, before - 1)
        XCTAssertLessThan(now, before + 5_000)
    }
}

import PresenceCore

private func clua_seahash_reference(_ text: String) -> UInt64 {
    SeaHash.hash(text)
}
