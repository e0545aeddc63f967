#if canImport(Glibc)
import Glibc
#endif

/// The results of one run: a table for people and a JSON document for scripts.
struct Report {
    struct Row {
        var key: String
        var label: String
        var value: BenchJSON
        var text: String
    }

    let scenario: Scenario
    let options: BenchOptions
    let machine: MachineInfo
    var parameters: [(String, BenchJSON)] = []
    private(set) var rows: [Row] = []
    /// Larger results that do not fit a table row, such as histograms and per-step results.
    var details: [(String, BenchJSON)] = []
    /// Warnings printed under the table and stored in the JSON, such as failed connections.
    var warnings: [String] = []

    init(options: BenchOptions, machine: MachineInfo) {
        self.scenario = options.scenario
        self.options = options
        self.machine = machine
    }

    mutating func add(_ key: String, _ label: String, _ value: Int, unit: String = "") {
        rows.append(Row(key: key, label: label, value: .int(value), text: unit.isEmpty ? String(value) : "\(value) \(unit)"))
    }

    mutating func add(_ key: String, _ label: String, _ value: Double, digits: Int = 2, unit: String = "") {
        let text = formatDecimal(value, digits: digits)
        rows.append(Row(key: key, label: label, value: .double(value), text: unit.isEmpty ? text : "\(text) \(unit)"))
    }

    mutating func add(_ key: String, _ label: String, _ value: Bool) {
        rows.append(Row(key: key, label: label, value: .bool(value), text: value ? "yes" : "no"))
    }

    mutating func add(_ key: String, _ label: String, text: String) {
        rows.append(Row(key: key, label: label, value: .string(text), text: text))
    }

    /// Adds p50, p95, p99, max and mean in milliseconds, and the histogram for plots.
    mutating func addLatency(_ key: String, _ label: String, _ histogram: LatencyHistogram) {
        for (suffix, fraction) in [("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("max", 1.0)] {
            add("\(key)_\(suffix)_ms", "\(label) \(suffix)", Double(histogram.percentile(fraction)) / 1000, digits: 2, unit: "ms")
        }
        add("\(key)_mean_ms", "\(label) mean", histogram.mean / 1000, digits: 2, unit: "ms")
        details.append(("\(key)_histogram_us", .array(histogram.nonEmptyBuckets.map { bucket in
            .array([.int(Int(bucket.lower)), .int(Int(bucket.upper)), .int(Int(bucket.count))])
        })))
    }

    /// Adds the CPU the servers and the generator spent between two samples and their memory at the end.
    mutating func addProcessUsage(
        server: (before: ProcessSample, after: ProcessSample)?, generator: (before: ProcessSample, after: ProcessSample),
        wallSeconds: Double
    ) {
        add("window_seconds", "measured window", wallSeconds, digits: 2, unit: "s")
        if let server {
            let cpu = server.after.cpuSeconds - server.before.cpuSeconds
            add("server_cpu_seconds", "server CPU", cpu, digits: 2, unit: "s")
            add("server_cores", "server cores busy", wallSeconds > 0 ? cpu / wallSeconds : 0, digits: 2)
            add("server_rss_kib", "server resident memory", server.after.residentKiB, unit: "KiB")
            add("server_threads", "server threads", server.after.threads)
        }
        let cpu = generator.after.cpuSeconds - generator.before.cpuSeconds
        add("generator_cpu_seconds", "generator CPU", cpu, digits: 2, unit: "s")
        add("generator_cores", "generator cores busy", wallSeconds > 0 ? cpu / wallSeconds : 0, digits: 2)
        add("generator_rss_kib", "generator resident memory", generator.after.residentKiB, unit: "KiB")
    }

    /// Adds the loops' traffic and failure counts, with a warning for each kind of failure.
    mutating func addCounters(_ counters: LoopCounters) {
        add("messages_sent", "messages sent", counters.messagesSent)
        add("messages_received", "messages received", counters.messagesReceived)
        add("bytes_received", "bytes received", counters.bytesReceived)
        add("connection_failures", "connection failures", counters.failureCount)
        for (category, count) in counters.failures.sorted(by: { $0.key < $1.key }) {
            warnings.append("\(count) connection(s): \(category)")
        }
        for example in counters.failureExamples { warnings.append("example: \(example)") }
        if !counters.failures.isEmpty {
            details.append(("connection_failures_by_kind", .object(counters.failures.sorted(by: { $0.key < $1.key }).map { ($0.key, .int($0.value)) })))
        }
    }

    func tableText() -> String {
        var lines = ["presence-bench \(scenario.rawValue) against \(options.label) (\(options.urls.joined(separator: ", ")))"]
        let width = rows.map(\.label.count).max() ?? 0
        for row in rows {
            lines.append("  " + row.label + String(repeating: " ", count: width - row.label.count) + "  " + row.text)
        }
        for warning in warnings { lines.append("  warning: \(warning)") }
        return lines.joined(separator: "\n") + "\n"
    }

    func json() -> BenchJSON {
        .object([
            ("scenario", .string(scenario.rawValue)),
            ("server", .string(options.label)),
            ("urls", .array(options.urls.map { .string($0) })),
            ("seed", .int(Int(truncatingIfNeeded: options.seed))),
            ("threads", .int(options.threads)),
            ("batch_ms", options.batchMs.map { .int($0) } ?? .null),
            ("parameters", .object(parameters)),
            ("machine", .object([
                ("online_cpus", .int(machine.onlineCPUs)),
                ("cpu_model", .string(machine.cpuModel)),
                ("kernel", .string(machine.kernel)),
                ("load_average_1m", .double(machine.loadAverage)),
            ])),
            ("results", .object(rows.map { ($0.key, $0.value) })),
            ("warnings", .array(warnings.map { .string($0) })),
        ] + details)
    }

    func writeJSON(to path: String) throws(BenchError) {
        guard let file = fopen(path, "w") else { throw BenchError("cannot write --json \(path): \(errorText(errno))") }
        let written = fputs(json().rendered(), file)
        let closed = fclose(file)
        guard written >= 0, closed == 0 else { throw BenchError("writing \(path) failed: \(errorText(errno))") }
    }
}

/// Writes `text` to standard error with write(2), which needs no shared FILE stream.
func writeToStandardError(_ text: String) {
    var bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress! + offset, $0.count - offset) }
        if written < 0 && errno == EINTR { continue }
        if written <= 0 { return }
        offset += written
    }
}
