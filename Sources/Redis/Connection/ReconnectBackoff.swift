/// Capped exponential backoff with full jitter: the delay before attempt n (from 1) is a random
/// value between half and all of `min(maxMs, initialMs * 2^(n-1))`. The jitter spreads the
/// reconnects of many gateway nodes after a Redis restart, and the lower half keeps each node from
/// retrying almost at once.
public struct ReconnectBackoff: Sendable, Equatable {
    public var initialMs: UInt64
    public var maxMs: UInt64

    public init(initialMs: UInt64 = 100, maxMs: UInt64 = 2_000) {
        precondition(initialMs >= 1 && maxMs >= initialMs, "backoff needs 1 <= initialMs <= maxMs")
        self.initialMs = initialMs
        self.maxMs = maxMs
    }

    /// The upper bound of the delay before `attempt` (1 for the first retry), in milliseconds.
    public func ceilingMs(attempt: Int) -> UInt64 {
        let shift = UInt64(min(max(attempt - 1, 0), 32))
        let (scaled, overflow) = initialMs.multipliedReportingOverflow(by: 1 << shift)
        return overflow ? maxMs : min(maxMs, scaled)
    }

    /// A jittered delay before `attempt`, in milliseconds.
    public func delayMs<Generator: RandomNumberGenerator>(attempt: Int, using generator: inout Generator) -> UInt64 {
        let ceiling = ceilingMs(attempt: attempt)
        let floor = max(1, ceiling / 2)
        return UInt64.random(in: floor...max(floor, ceiling), using: &generator)
    }

    public func delayMs(attempt: Int) -> UInt64 {
        var generator = SystemRandomNumberGenerator()
        return delayMs(attempt: attempt, using: &generator)
    }
}
