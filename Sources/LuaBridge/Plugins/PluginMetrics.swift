import Observability

/// The plugin metrics, registered once per registry and shared by the manager and every loop.
///
/// - `plugin_calls_total{plugin,hook}`: hook calls, faulted ones included.
/// - `plugin_errors_total{plugin,hook,reason}`: faults; `reason` is `error`, `syntax_error`,
///   `instruction_limit`, `memory_limit`, `invalid_value` (a wrong return type) or `unavailable`.
/// - `plugin_call_duration_seconds{plugin,hook}`: time spent in Lua per call.
/// - `plugin_reloads_total{result}`: reloads by result, `success` or `failure`.
public struct PluginMetrics: Sendable {
    public let calls: CounterFamily
    public let errors: CounterFamily
    public let duration: HistogramFamily
    public let reloads: CounterFamily

    /// Buckets in seconds, from 1 µs (a trivial hook) to 50 ms (far past any sane hook).
    static let durationBuckets: [Double] = [
        0.000_001, 0.000_002_5, 0.000_005, 0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001,
        0.005, 0.05,
    ]

    public init(registry: MetricsRegistry) {
        calls = registry.counter(
            "plugin_calls_total", help: "Lua plugin hook calls, by plugin and hook.", labels: ["plugin", "hook"])
        errors = registry.counter(
            "plugin_errors_total", help: "Lua plugin hook faults, by plugin, hook and reason.",
            labels: ["plugin", "hook", "reason"])
        duration = registry.histogram(
            "plugin_call_duration_seconds", help: "Time spent in one Lua plugin hook call.",
            labels: ["plugin", "hook"], buckets: PluginMetrics.durationBuckets)
        reloads = registry.counter(
            "plugin_reloads_total", help: "Plugin directory reloads, by result.", labels: ["result"])
    }
}
