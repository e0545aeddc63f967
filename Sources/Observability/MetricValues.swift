import Synchronization

/// One time series of a metric family: the value for one set of label values.
public protocol MetricChild: AnyObject, Sendable {
    /// Appends this child's sample lines in the Prometheus text format. `labels` is the rendered
    /// label set without braces (`document_id="d1",workspace_id="w1"`), empty when there are none.
    func appendSamples(name: String, labels: String, to output: inout String)
}

/// A monotonically increasing count, such as messages received. Increments are lock-free.
public final class Counter: MetricChild {
    private let count = Atomic<UInt64>(0)

    public init() {}

    public func increment(by amount: UInt64 = 1) {
        count.wrappingAdd(amount, ordering: .relaxed)
    }

    public var value: UInt64 {
        count.load(ordering: .relaxed)
    }

    public func appendSamples(name: String, labels: String, to output: inout String) {
        PrometheusText.appendSample(name: name, labels: labels, value: String(value), to: &output)
    }
}

/// A value that goes up and down, such as open connections. Stored as the bit pattern of a `Double`
/// in an atomic, so `set` and `add` are lock-free (`add` retries a compare-and-exchange under contention).
public final class Gauge: MetricChild {
    private let bits = Atomic<UInt64>(0.0.bitPattern)

    public init() {}

    public func set(_ newValue: Double) {
        bits.store(newValue.bitPattern, ordering: .relaxed)
    }

    public func set(_ newValue: Int) {
        set(Double(newValue))
    }

    public func add(_ delta: Double) {
        var current = bits.load(ordering: .relaxed)
        while true {
            let next = (Double(bitPattern: current) + delta).bitPattern
            let (exchanged, original) = bits.weakCompareExchange(
                expected: current, desired: next, ordering: .relaxed)
            if exchanged { return }
            current = original
        }
    }

    public func increment() { add(1) }

    public func decrement() { add(-1) }

    public var value: Double {
        Double(bitPattern: bits.load(ordering: .relaxed))
    }

    public func appendSamples(name: String, labels: String, to output: inout String) {
        PrometheusText.appendSample(
            name: name, labels: labels, value: PrometheusText.format(value), to: &output)
    }
}

/// Observations counted into buckets by upper bound, with their sum and count, such as the latency of
/// a cursor update in seconds. One short lock per time series guards the bucket counts.
public final class Histogram: MetricChild {
    /// Prometheus client libraries' default upper bounds, in seconds.
    public static let defaultBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    private struct State {
        /// Observations per bucket, not cumulative; the last entry is the `+Inf` bucket.
        var bucketCounts: [UInt64]
        var sum: Double
        var count: UInt64
    }

    /// Finite upper bounds in increasing order; `+Inf` is implied.
    public let upperBounds: [Double]
    private let state: Mutex<State>

    init(upperBounds: [Double]) {
        self.upperBounds = upperBounds
        state = Mutex(State(bucketCounts: Array(repeating: 0, count: upperBounds.count + 1), sum: 0, count: 0))
    }

    /// Records one observation; NaN is ignored because it belongs to no bucket.
    public func observe(_ value: Double) {
        if value.isNaN { return }
        let index = bucketIndex(for: value)
        state.withLock { state in
            state.bucketCounts[index] += 1
            state.sum += value
            state.count += 1
        }
    }

    /// Number of observations so far.
    public var count: UInt64 {
        state.withLock { $0.count }
    }

    /// Sum of observations so far.
    public var sum: Double {
        state.withLock { $0.sum }
    }

    /// Index of the first bucket whose upper bound is at least `value` (the `le` semantics).
    private func bucketIndex(for value: Double) -> Int {
        var low = 0
        var high = upperBounds.count
        while low < high {
            let middle = (low + high) / 2
            if upperBounds[middle] >= value {
                high = middle
            } else {
                low = middle + 1
            }
        }
        return low
    }

    public func appendSamples(name: String, labels: String, to output: inout String) {
        let snapshot = state.withLock { $0 }
        let separator = labels.isEmpty ? "" : ","
        var cumulative: UInt64 = 0
        for (index, bucketCount) in snapshot.bucketCounts.enumerated() {
            cumulative += bucketCount
            let bound = index < upperBounds.count ? PrometheusText.format(upperBounds[index]) : "+Inf"
            PrometheusText.appendSample(
                name: name + "_bucket", labels: labels + separator + "le=\"" + bound + "\"",
                value: String(cumulative), to: &output)
        }
        PrometheusText.appendSample(
            name: name + "_sum", labels: labels, value: PrometheusText.format(snapshot.sum), to: &output)
        PrometheusText.appendSample(
            name: name + "_count", labels: labels, value: String(snapshot.count), to: &output)
    }
}
