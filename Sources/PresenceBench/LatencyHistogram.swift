/// A log-linear histogram of durations in microseconds with a fixed size of about 21 KiB.
///
/// Values below 128 µs have their own bucket. Above that, each power of two is split into 64
/// buckets, so a reported percentile is at most 1.6 % above the true sample. The maximum is exact.
struct LatencyHistogram {
    private static let exactLimit: UInt64 = 128
    private static let subBuckets: UInt64 = 64
    /// Covers values up to 2^48 µs (about 9 years), far past any run.
    private static let bucketCount = 128 + 42 * 64

    private(set) var counts = [UInt64](repeating: 0, count: LatencyHistogram.bucketCount)
    private(set) var total: UInt64 = 0
    private(set) var maximum: UInt64 = 0
    private(set) var sum: UInt64 = 0

    mutating func record(_ value: UInt64) {
        counts[Self.bucketIndex(of: value)] += 1
        total += 1
        sum &+= value
        if value > maximum { maximum = value }
    }

    mutating func merge(_ other: LatencyHistogram) {
        for index in counts.indices { counts[index] += other.counts[index] }
        total += other.total
        sum &+= other.sum
        maximum = max(maximum, other.maximum)
    }

    /// Returns the smallest bucket upper bound at or below which `fraction` of the samples fall, or
    /// 0 when there are none. `fraction` 1.0 returns the exact maximum.
    func percentile(_ fraction: Double) -> UInt64 {
        guard total > 0 else { return 0 }
        if fraction >= 1.0 { return maximum }
        let rank = max(1, UInt64((Double(total) * fraction).rounded(.up)))
        var seen: UInt64 = 0
        for (index, count) in counts.enumerated() where count > 0 {
            seen += count
            if seen >= rank { return min(Self.bounds(ofBucket: index).upper, maximum) }
        }
        return maximum
    }

    var mean: Double { total == 0 ? 0 : Double(sum) / Double(total) }

    /// The non-empty buckets as (lowest value, highest value, count), for plots.
    var nonEmptyBuckets: [(lower: UInt64, upper: UInt64, count: UInt64)] {
        counts.enumerated().compactMap { index, count in
            guard count > 0 else { return nil }
            let bounds = Self.bounds(ofBucket: index)
            return (bounds.lower, bounds.upper, count)
        }
    }

    static func bucketIndex(of value: UInt64) -> Int {
        if value < exactLimit { return Int(value) }
        let shift = UInt64(63 - value.leadingZeroBitCount) - 6
        let mantissa = value >> shift
        let index = Int(exactLimit + (shift - 1) * subBuckets + (mantissa - subBuckets))
        return min(index, bucketCount - 1)
    }

    static func bounds(ofBucket index: Int) -> (lower: UInt64, upper: UInt64) {
        let position = UInt64(index)
        if position < exactLimit { return (position, position) }
        let shift = (position - exactLimit) / subBuckets + 1
        let mantissa = (position - exactLimit) % subBuckets + subBuckets
        return (mantissa << shift, ((mantissa + 1) << shift) - 1)
    }
}
