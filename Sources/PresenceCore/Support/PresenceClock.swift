#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The time source of the rooms. Tests pass a `ManualClock` so that 30-second rules run at once.
public protocol PresenceClock: AnyObject {
    /// Milliseconds on a clock that never goes back, from an arbitrary origin. Deadlines use it.
    var monotonicMs: UInt64 { get }
    /// Milliseconds since the Unix epoch. Timestamps on the wire use it.
    var wallMs: UInt64 { get }
}

/// The operating system's clocks: `CLOCK_MONOTONIC` and `CLOCK_REALTIME`.
public final class SystemClock: PresenceClock, Sendable {
    public init() {}

    public var monotonicMs: UInt64 { Self.read(CLOCK_MONOTONIC) }
    public var wallMs: UInt64 { Self.read(CLOCK_REALTIME) }

    private static func read(_ clock: clockid_t) -> UInt64 {
        var time = timespec()
        clock_gettime(clock, &time)
        return UInt64(time.tv_sec) * 1000 + UInt64(time.tv_nsec) / 1_000_000
    }
}

/// A clock for tests that moves only when `advance(by:)` is called.
public final class ManualClock: PresenceClock, Sendable {
    private struct Reading {
        var monotonicMs: UInt64
        var wallMs: UInt64
    }

    /// Both readings, guarded by the mutex so that a test thread and an event loop may share the clock.
    private let reading: Mutex<Reading>

    public init(monotonicMs: UInt64 = 1_000_000, wallMs: UInt64 = 1_733_300_000_000) {
        reading = Mutex(Reading(monotonicMs: monotonicMs, wallMs: wallMs))
    }

    public var monotonicMs: UInt64 { reading.withLock { $0.monotonicMs } }
    public var wallMs: UInt64 { reading.withLock { $0.wallMs } }

    /// Moves both clocks forward by `ms` milliseconds.
    public func advance(by ms: UInt64) {
        reading.withLock {
            $0.monotonicMs += ms
            $0.wallMs += ms
        }
    }
}
