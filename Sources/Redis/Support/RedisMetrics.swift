import Observability

/// The Redis store's metrics, registered under the registry's namespace (`materi_redis_…`).
public final class RedisMetrics: Sendable {
    let commands: CounterFamily
    let errors: CounterFamily
    let reconnects: CounterFamily
    let connected: GaugeFamily
    let degraded: GaugeFamily
    /// Time from a relay message's publication on one node to its receipt on another, in seconds.
    public let relayLatency: HistogramFamily
    let sweptUsers: CounterFamily
    let droppedWrites: CounterFamily

    public init(registry: MetricsRegistry) {
        commands = registry.counter(
            "redis_commands_total", help: "Commands sent to Redis, by command name.", labels: ["command"])
        errors = registry.counter(
            "redis_errors_total",
            help: "Failed Redis commands and connect attempts, by kind (connect, timeout, server, ...).",
            labels: ["kind"])
        reconnects = registry.counter(
            "redis_reconnects_total", help: "Attempts to reconnect to Redis after a failure, by connection.",
            labels: ["connection"])
        connected = registry.gauge(
            "redis_connected", help: "1 while the connection to Redis is up, by connection.",
            labels: ["connection"])
        degraded = registry.gauge(
            "redis_degraded", help: "1 while any Redis shard is unreachable and presence is served from this node only.")
        relayLatency = registry.histogram(
            "presence_relay_latency_seconds",
            help: "Time from publishing a presence event on one node to receiving it on another, by wall clocks.",
            buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1])
        sweptUsers = registry.counter(
            "presence_swept_users_total", help: "Users removed from Redis because their node stopped heartbeating.")
        droppedWrites = registry.counter(
            "redis_deferred_writes_total",
            help: "Presence writes not sent because Redis was unreachable or busy; they are written back on reconnect.")
    }

    func command(_ name: String) {
        commands.labels(name).increment()
    }

    func error(kind: String) {
        errors.labels(kind).increment()
    }

    func reconnect(name: String) {
        reconnects.labels(name).increment()
    }

    func connectedChanged(name: String, connected isConnected: Bool) {
        connected.labels(name).set(isConnected ? 1 : 0)
    }
}
