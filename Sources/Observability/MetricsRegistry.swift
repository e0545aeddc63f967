import Synchronization

/// The gateway's metrics: counters, gauges and histograms under one namespace prefix, rendered for
/// `GET /metrics` in the Prometheus text format.
///
/// Registering a name twice with the same type and labels returns the family registered first, so
/// modules can register what they use without coordinating. Registering it with a different type,
/// labels or buckets is a programming error and traps.
public final class MetricsRegistry: Sendable {
    /// Content type for the body that `render()` returns.
    public static let contentType = PrometheusText.contentType

    /// Prefix joined to every name with `_` (`materi` gives `materi_presence_active_users`); empty for none.
    public let namespace: String
    /// Owned by this lock: families by full name.
    private let families = Mutex<[String: any RenderableMetricFamily]>([:])
    /// Owned by this lock: callbacks that refresh gauges just before each render.
    private let collectors = Mutex<[@Sendable () -> Void]>([])

    public init(namespace: String = "materi") {
        precondition(
            namespace.isEmpty || PrometheusText.isValidMetricName(namespace),
            "metrics namespace \"\(namespace)\" must match [a-zA-Z_:][a-zA-Z0-9_:]*")
        self.namespace = namespace
    }

    public func counter(_ name: String, help: String, labels: [String] = []) -> CounterFamily {
        register(name, help: help, type: .counter, labels: labels) { Counter() }
    }

    public func gauge(_ name: String, help: String, labels: [String] = []) -> GaugeFamily {
        register(name, help: help, type: .gauge, labels: labels) { Gauge() }
    }

    /// Registers a histogram. `buckets` are finite upper bounds in strictly increasing order, in the
    /// unit of the observations (seconds for latencies); `+Inf` is added.
    public func histogram(
        _ name: String, help: String, labels: [String] = [], buckets: [Double] = Histogram.defaultBuckets
    ) -> HistogramFamily {
        precondition(!buckets.isEmpty, "histogram \(name) needs at least one bucket")
        precondition(buckets.allSatisfy(\.isFinite), "histogram \(name) buckets must be finite: \(buckets)")
        precondition(
            zip(buckets, buckets.dropFirst()).allSatisfy { $0 < $1 },
            "histogram \(name) buckets must be strictly increasing: \(buckets)")
        precondition(!labels.contains("le"), "histogram \(name) cannot use the label name le")
        return register(name, help: help, type: .histogram, labels: labels, buckets: buckets) {
            Histogram(upperBounds: buckets)
        }
    }

    /// Adds a callback that runs at the start of every `render()`, for values that are cheaper to read
    /// on demand than to track (open file descriptors, queue sizes). It must not call `render()`.
    public func addCollector(_ collect: @escaping @Sendable () -> Void) {
        collectors.withLock { $0.append(collect) }
    }

    /// Renders every family, sorted by name, in the Prometheus text exposition format.
    public func render() -> String {
        for collect in collectors.withLock({ $0 }) {
            collect()
        }
        let snapshot = families.withLock { $0 }
        var output = ""
        for name in snapshot.keys.sorted() {
            snapshot[name]!.appendExposition(to: &output)
        }
        return output
    }

    private func register<Child: MetricChild>(
        _ shortName: String, help: String, type: MetricType, labels: [String], buckets: [Double] = [],
        makeChild: @escaping @Sendable () -> Child
    ) -> MetricFamily<Child> {
        let name = namespace.isEmpty ? shortName : namespace + "_" + shortName
        precondition(PrometheusText.isValidMetricName(name), "metric name \(name) must match [a-zA-Z_:][a-zA-Z0-9_:]*")
        for label in labels {
            precondition(
                PrometheusText.isValidLabelName(label),
                "label name \(label) of metric \(name) must match [a-zA-Z_][a-zA-Z0-9_]* and not start with __")
        }
        precondition(Set(labels).count == labels.count, "metric \(name) repeats a label name: \(labels)")

        return families.withLock { families in
            if let existing = families[name] {
                guard let family = existing as? MetricFamily<Child>, existing.labelNames == labels,
                    existing.bucketBounds == buckets
                else {
                    preconditionFailure(
                        "metric \(name) was registered before as a \(existing.type.rawValue) with labels "
                            + "\(existing.labelNames) and buckets \(existing.bucketBounds); now requested as a "
                            + "\(type.rawValue) with labels \(labels) and buckets \(buckets)")
                }
                return family
            }
            let family = MetricFamily(
                name: name, help: help, type: type, labelNames: labels, bucketBounds: buckets, makeChild: makeChild)
            families[name] = family
            return family
        }
    }
}
