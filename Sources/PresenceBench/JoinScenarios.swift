/// idle-crowd: many joined, quiet connections; measures the server's memory per connection.
enum IdleCrowdScenario {
    static func run(options: BenchOptions, endpoints: [ServerEndpoint], watch: ProcessWatch, into report: inout Report) throws(BenchError) {
        let connections = options.connections ?? 1000
        let documents = options.documents ?? max(1, connections / 10)
        let hold = options.hold ?? 5
        report.parameters += [("connections", .int(connections)), ("documents", .int(documents)), ("hold_seconds", .double(hold))]

        let control = RunControl()
        let loops = try LoopSet(options: options, endpoints: endpoints, control: control) { index in
            var random = SeededGenerator(seed: options.seed, stream: 200 + index)
            return JoinWorkload(
                connections: connections, documents: documents, windowUs: nil, documentPrefix: options.documentPrefix,
                control: control, loopIndex: index, loopCount: options.threads, random: &random)
        }
        let serverBefore = try watch.sampleServers()
        let generatorBefore = ProcessSample.readSelf()
        let start = control.clock.nowUs()
        loops.start()
        _ = control.wait(timeoutSeconds: options.joinTimeout) {
            control.readyClients.load(ordering: .relaxed) + control.failedClients.load(ordering: .relaxed) >= connections
        }
        let joinSeconds = Double(control.clock.nowUs() - start) / 1_000_000
        _ = control.waitForQuiet(quietSeconds: 1, timeoutSeconds: 30)
        control.sleep(seconds: hold)
        let serverAfter = try watch.sampleServers()
        let generatorAfter = ProcessSample.readSelf()
        let wall = Double(control.clock.nowUs() - start) / 1_000_000
        loops.stop()

        let summary = JoinSummary(loops.workloads)
        report.add("clients_joined", "clients joined", summary.joined, unit: "of \(connections)")
        report.add("join_seconds", "time to join all", joinSeconds, digits: 2, unit: "s")
        if let serverBefore, let serverAfter {
            let added = serverAfter.residentKiB - serverBefore.residentKiB
            report.add("server_rss_before_kib", "server resident memory before", serverBefore.residentKiB, unit: "KiB")
            report.add("server_rss_after_kib", "server resident memory joined", serverAfter.residentKiB, unit: "KiB")
            report.add("server_kib_per_connection", "server memory per connection (added)",
                       summary.joined > 0 ? Double(added) / Double(summary.joined) : 0, digits: 2, unit: "KiB")
            report.add("server_total_kib_per_connection", "server memory per connection (total)",
                       summary.joined > 0 ? Double(serverAfter.residentKiB) / Double(summary.joined) : 0, digits: 2, unit: "KiB")
        }
        summary.describe(in: &report)
        report.addProcessUsage(
            server: serverBefore.flatMap { before in serverAfter.map { (before, $0) } },
            generator: (generatorBefore, generatorAfter), wallSeconds: wall)
        report.addCounters(loops.counters)
    }
}

/// join-storm: clients joining within a short window; measures the time until every snapshot arrived.
enum JoinStormScenario {
    static func run(options: BenchOptions, endpoints: [ServerEndpoint], watch: ProcessWatch, into report: inout Report) throws(BenchError) {
        let connections = options.connections ?? 5000
        let documents = options.documents ?? max(1, connections / 10)
        let window = options.window ?? 2
        report.parameters += [("connections", .int(connections)), ("documents", .int(documents)), ("window_seconds", .double(window))]

        let control = RunControl()
        let loops = try LoopSet(options: options, endpoints: endpoints, control: control) { index in
            var random = SeededGenerator(seed: options.seed, stream: 300 + index)
            return JoinWorkload(
                connections: connections, documents: documents, windowUs: UInt64(window * 1_000_000),
                documentPrefix: options.documentPrefix, control: control, loopIndex: index, loopCount: options.threads,
                random: &random)
        }
        let serverBefore = try watch.sampleServers()
        let generatorBefore = ProcessSample.readSelf()
        loops.start()
        control.enter(.measuring)
        let start = control.measureStartUs.load(ordering: .relaxed)
        let settled = control.wait(timeoutSeconds: window + options.joinTimeout) {
            control.readyClients.load(ordering: .relaxed) + control.failedClients.load(ordering: .relaxed) >= connections
        }
        _ = control.waitForQuiet(quietSeconds: 0.5, timeoutSeconds: 30)
        let serverAfter = try watch.sampleServers()
        let generatorAfter = ProcessSample.readSelf()
        let wall = Double(control.clock.nowUs() - start) / 1_000_000
        loops.stop()

        let summary = JoinSummary(loops.workloads)
        let lastSnapshot = loops.workloads.map(\.lastSnapshotUs).max() ?? start
        let counters = loops.counters
        report.add("snapshots_received", "snapshots received", summary.joined, unit: "of \(connections)")
        report.add("all_snapshots_received", "every snapshot received", summary.joined == connections)
        report.add("seconds_to_last_snapshot", "time from first open to last snapshot",
                   Double(max(lastSnapshot, start) - start) / 1_000_000, digits: 2, unit: "s")
        report.add("errors", "errors (failed connections and error events)", counters.failureCount + summary.serverErrors)
        if !settled { report.warnings.append("not every client joined or failed within --join-timeout") }
        summary.describe(in: &report)
        report.addProcessUsage(
            server: serverBefore.flatMap { before in serverAfter.map { (before, $0) } },
            generator: (generatorBefore, generatorAfter), wallSeconds: wall)
        report.addCounters(counters)
    }
}

/// The join results of several loops' `JoinWorkload`s, merged.
private struct JoinSummary {
    var joined = 0
    var joinLatency = LatencyHistogram()
    var serverErrors = 0
    var serverErrorExamples: [String] = []
    var lostAfterJoin = 0

    init(_ workloads: [JoinWorkload]) {
        for workload in workloads {
            joined += Int(workload.joinLatency.total)
            joinLatency.merge(workload.joinLatency)
            serverErrors += workload.serverErrors
            serverErrorExamples += workload.serverErrorExamples
            lostAfterJoin += workload.lostAfterJoin
        }
    }

    func describe(in report: inout Report) {
        report.addLatency("join_latency", "open to snapshot", joinLatency)
        report.add("server_errors", "error events from the server", serverErrors)
        report.add("lost_after_join", "connections lost after joining", lostAfterJoin)
        for example in serverErrorExamples { report.warnings.append("server error: \(example)") }
    }
}
