import Synchronization

/// Kind of a metric family, as written on its `# TYPE` line.
public enum MetricType: String, Sendable {
    case counter
    case gauge
    case histogram
}

/// Type-erased view of a family, so the registry can hold and render families of every kind.
protocol RenderableMetricFamily: Sendable {
    var name: String { get }
    var help: String { get }
    var type: MetricType { get }
    var labelNames: [String] { get }
    var bucketBounds: [Double] { get }
    func appendExposition(to output: inout String)
}

/// All time series of one metric: one child per distinct set of label values.
///
/// Look a child up with `labels(...)` and keep it where a hot path increments it: the lookup takes the
/// family's lock, while updates on a child are atomic or take only the child's own short lock.
public final class MetricFamily<Child: MetricChild>: RenderableMetricFamily {
    /// Full name, namespace included (`materi_presence_active_users`).
    public let name: String
    public let help: String
    public let type: MetricType
    public let labelNames: [String]
    /// Histogram upper bounds; empty for counters and gauges.
    public let bucketBounds: [Double]
    private let makeChild: @Sendable () -> Child
    /// Owned by this lock: the children by label values, in the order of `labelNames`.
    private let children: Mutex<[[String]: Child]>

    init(
        name: String, help: String, type: MetricType, labelNames: [String], bucketBounds: [Double],
        makeChild: @escaping @Sendable () -> Child
    ) {
        self.name = name
        self.help = help
        self.type = type
        self.labelNames = labelNames
        self.bucketBounds = bucketBounds
        self.makeChild = makeChild
        // A family without labels has exactly one series; create it now so it is exported as zero.
        children = Mutex(labelNames.isEmpty ? [[]: makeChild()] : [:])
    }

    /// Returns the child for these label values, creating it on first use. The values are given in
    /// the order of `labelNames`; passing a different number of values is a programming error.
    public func labels(_ values: String...) -> Child {
        labels(values)
    }

    public func labels(_ values: [String]) -> Child {
        precondition(
            values.count == labelNames.count,
            "metric \(name) has labels \(labelNames) but was given \(values.count) values: \(values)")
        return children.withLock { children in
            if let child = children[values] { return child }
            let child = makeChild()
            children[values] = child
            return child
        }
    }

    /// Removes the series for these label values, so it disappears from the exposition (a document
    /// that empties leaves `presence_active_users`). A removed child that someone still holds keeps
    /// working but is no longer exported; `labels(...)` then creates a fresh one at zero.
    public func remove(_ values: String...) {
        remove(values)
    }

    public func remove(_ values: [String]) {
        _ = children.withLock { $0.removeValue(forKey: values) }
    }

    /// Removes every labelled series. A family without labels keeps its single series.
    public func removeAll() {
        guard !labelNames.isEmpty else { return }
        children.withLock { $0.removeAll() }
    }

    /// Label values of every series now exported, sorted.
    public var labelValueSets: [[String]] {
        children.withLock { Array($0.keys) }.sorted { $0.lexicographicallyPrecedes($1) }
    }

    func appendExposition(to output: inout String) {
        let snapshot = children.withLock { $0 }
        output += "# HELP " + name + " " + PrometheusText.escapeHelp(help) + "\n"
        output += "# TYPE " + name + " " + type.rawValue + "\n"
        for values in snapshot.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            let labels = PrometheusText.renderLabels(names: labelNames, values: values)
            snapshot[values]!.appendSamples(name: name, labels: labels, to: &output)
        }
    }
}

public typealias CounterFamily = MetricFamily<Counter>
public typealias GaugeFamily = MetricFamily<Gauge>
public typealias HistogramFamily = MetricFamily<Histogram>
