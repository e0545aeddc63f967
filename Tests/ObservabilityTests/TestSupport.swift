import Foundation
import Observability
import Synchronization

/// Collects written lines in memory. The array is owned by its lock.
final class CapturingLogWriter: LogWriter {
    private let captured = Mutex<[String]>([])

    func write(_ line: String) {
        captured.withLock { $0.append(line) }
    }

    var lines: [String] {
        captured.withLock { $0 }
    }
}

/// A clock that tests move by hand, in milliseconds.
final class ManualClock: Sendable {
    private let nowMs: Atomic<UInt64>

    init(startMs: UInt64 = 1_000) {
        nowMs = Atomic(startMs)
    }

    func advance(byMs delta: UInt64) {
        nowMs.wrappingAdd(delta, ordering: .relaxed)
    }

    var now: UInt64 {
        nowMs.load(ordering: .relaxed)
    }

    var source: @Sendable () -> UInt64 {
        { self.now }
    }
}

/// 2026-12-04T19:00:00.123Z in milliseconds since the Unix epoch.
let fixedTimestampMs: UInt64 = 1_796_410_800_123
