import CLinux
import Synchronization

/// Limits how often entries under one key are written: at most `maxPerInterval` per fixed window of
/// `intervalMs`, counting the rest as suppressed. The first entry admitted in a later window carries
/// the count, so the log shows "(suppressed 42 similar messages)" instead of 42 copies.
///
/// Keys name a kind of repeat, such as `"redis.connect"` or `"plugin.error:brand-palette:color"`.
/// A suppressed run that is never followed by another entry under its key is not reported.
public final class LogRateLimiter: Sendable {
    /// Outcome of `admit(key:)`.
    public enum Admission: Equatable, Sendable {
        /// Write the entry; `suppressedBefore` entries under this key were dropped since the last one written.
        case emit(suppressedBefore: Int)
        /// Drop the entry; it is counted and reported with the next one written.
        case suppress
    }

    private struct Window {
        var startMs: UInt64
        var emitted: Int
        var suppressed: Int
    }

    public let maxPerInterval: Int
    public let intervalMs: UInt64
    /// Bound on tracked keys, so keys that embed ids cannot grow the table without limit.
    public let maxKeys: Int
    private let monotonicMs: @Sendable () -> UInt64
    /// Owned by this lock: one window per key.
    private let windows = Mutex<[String: Window]>([:])

    /// - Parameters:
    ///   - maxPerInterval: entries written per key and window; at least 1.
    ///   - intervalMs: window length in milliseconds; at least 1.
    ///   - maxKeys: keys tracked at once. When full, windows that have ended are forgotten first, then
    ///     the oldest window.
    ///   - monotonicMs: clock in milliseconds, replaceable in tests.
    public init(
        maxPerInterval: Int = 10,
        intervalMs: UInt64 = 60_000,
        maxKeys: Int = 10_000,
        monotonicMs: @escaping @Sendable () -> UInt64 = { clinux_monotonic_ns() / 1_000_000 }
    ) {
        precondition(maxPerInterval >= 1, "maxPerInterval must be at least 1, got \(maxPerInterval)")
        precondition(intervalMs >= 1, "intervalMs must be at least 1, got \(intervalMs)")
        precondition(maxKeys >= 1, "maxKeys must be at least 1, got \(maxKeys)")
        self.maxPerInterval = maxPerInterval
        self.intervalMs = intervalMs
        self.maxKeys = maxKeys
        self.monotonicMs = monotonicMs
    }

    /// Records one entry under `key` and returns whether to write it.
    public func admit(key: String) -> Admission {
        let now = monotonicMs()
        return windows.withLock { windows in
            guard var window = windows[key] else {
                if windows.count >= maxKeys {
                    evict(from: &windows, now: now)
                }
                windows[key] = Window(startMs: now, emitted: 1, suppressed: 0)
                return .emit(suppressedBefore: 0)
            }
            if now &- window.startMs >= intervalMs {
                let carried = window.suppressed
                window = Window(startMs: now, emitted: 1, suppressed: 0)
                windows[key] = window
                return .emit(suppressedBefore: carried)
            }
            if window.emitted < maxPerInterval {
                window.emitted += 1
                windows[key] = window
                return .emit(suppressedBefore: 0)
            }
            window.suppressed += 1
            windows[key] = window
            return .suppress
        }
    }

    /// Number of keys currently tracked.
    public var trackedKeyCount: Int {
        windows.withLock { $0.count }
    }

    private func evict(from windows: inout [String: Window], now: UInt64) {
        let ended = windows.filter { now &- $0.value.startMs >= intervalMs }.map(\.key)
        for key in ended {
            windows.removeValue(forKey: key)
        }
        if windows.count >= maxKeys, let oldest = windows.min(by: { $0.value.startMs < $1.value.startMs }) {
            windows.removeValue(forKey: oldest.key)
        }
    }
}
