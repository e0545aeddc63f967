import Foundation
import Observability
import PresenceCore
import XCTest

@testable import LuaBridge

/// Measures the cost of one call of each hook of the example plugins. A benchmark, not a test: it
/// runs only with `PRESENCE_BENCH_HOOKS=1`, asserts nothing about time and prints nanoseconds per
/// call. Run it in release mode:
/// `PRESENCE_BENCH_HOOKS=1 swift test -c release --filter HookCostBenchmark`
final class HookCostBenchmark: XCTestCase {
    private static let pluginsDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("plugins").path

    func testHookCallCost() throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["PRESENCE_BENCH_HOOKS"] == "1",
                          "set PRESENCE_BENCH_HOOKS=1 to run the hook cost benchmark")
        let manager = PluginManager(
            settings: PluginSettings(directory: Self.pluginsDirectory),
            logger: Logger(label: "plugins", sink: LogSink(writer: CapturedLog())),
            metrics: PluginMetrics(registry: MetricsRegistry()))
        XCTAssertEqual(manager.reload().result, .success)
        let policy = LuaPolicy(manager: manager)
        let document = makeDocument(workspace: "acme")
        let user = makeUser("member:m1", workspace: "acme")
        let guest = makeUser("guest:g1", workspace: "acme")
        let cursor = PresenceEvent.cursorMoved(
            userID: "viewer:v1", cursor: CursorPosition(line: 1, column: 2, offset: 3), selection: nil)
        let calls = 100_000

        var results: [(String, Double)] = []
        results.append(("capacity", measure(calls) { _ = policy.capacity(of: document) }))
        results.append(("color", measure(calls) { _ = policy.color(for: user, in: document) }))
        results.append(("activity", measure(calls) { _ = policy.activity(for: user, in: document, idleMs: 1000) }))
        results.append(("filter", measure(calls) { _ = policy.filter(cursor, in: document) }))
        results.append(("filter_for", measure(calls) { _ = policy.filter(cursor, for: guest, in: document) }))
        for (hook, nanoseconds) in results {
            print("hook \(hook): \(Int(nanoseconds)) ns per call over \(calls) calls")
        }
    }

    /// Returns the median over five rounds of the wall-clock nanoseconds per call of `body`.
    private func measure(_ calls: Int, _ body: () -> Void) -> Double {
        var rounds: [Double] = []
        for _ in 0..<5 {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<calls { body() }
            rounds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / Double(calls))
        }
        return rounds.sorted()[2]
    }
}
