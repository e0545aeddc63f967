/// Measurements of one room run, merged over its loops.
struct RoomStepResult {
    var layout: RoomLayout
    var joinedClients = 0
    var joinSeconds = 0.0
    var positionsSent = 0
    var delivered = 0
    var expectedDeliveries = 0
    var finalPairs = 0
    var finalDelivered = 0
    var latency = LatencyHistogram()
    var windowSeconds = 0.0
    var server: (before: ProcessSample, after: ProcessSample)?
    var generator: (before: ProcessSample, after: ProcessSample)
    var reordered = 0
    var unexpected = 0
    var malformed = 0
    var serverErrors = 0
    var serverErrorExamples: [String] = []
    var maxSendLagUs: UInt64 = 0
    var drained = true
    var counters = LoopCounters()

    var allFinalsDelivered: Bool { finalPairs > 0 && finalDelivered == finalPairs }
    var deliveredPerSecond: Double { windowSeconds > 0 ? Double(delivered) / windowSeconds : 0 }

    /// Server CPU seconds per million delivered cursor events, or nil without `--server-pid`.
    var serverCPUPerMillion: Double? {
        guard let server, delivered > 0 else { return nil }
        return (server.after.cpuSeconds - server.before.cpuSeconds) / (Double(delivered) / 1_000_000)
    }
}

/// Runs busy-room, many-rooms and each step of capacity.
enum RoomScenario {
    /// Connects and joins every client, moves cursors for `duration` seconds, waits for the last
    /// events, then checks which final positions arrived.
    static func run(
        layout: RoomLayout, duration: Double, options: BenchOptions, endpoints: [ServerEndpoint], watch: ProcessWatch
    ) throws(BenchError) -> RoomStepResult {
        let control = RunControl()
        let loops = try LoopSet(options: options, endpoints: endpoints, control: control) { index in
            var random = SeededGenerator(seed: options.seed, stream: 100 + index)
            return RoomWorkload(layout: layout, control: control, loopIndex: index, loopCount: options.threads, random: &random)
        }
        let total = layout.clientCount
        loops.start()
        let joinStart = control.clock.nowUs()
        let settled = control.wait(timeoutSeconds: options.joinTimeout) {
            control.readyClients.load(ordering: .relaxed) + control.failedClients.load(ordering: .relaxed) >= total
        }
        let joinSeconds = Double(control.clock.nowUs() - joinStart) / 1_000_000
        let ready = control.readyClients.load(ordering: .relaxed)
        guard settled, ready >= max(2, total * 9 / 10) else {
            loops.stop()
            let counters = loops.counters
            throw BenchError("only \(ready) of \(total) clients joined within \(formatDecimal(joinSeconds, digits: 1)) s "
                + "(\(counters.failureCount) connection failures: \(counters.failureExamples.first ?? "none")); "
                + "check the server's limits such as max_connections_per_ip, or raise --join-timeout")
        }
        // Let the join announcements drain so that they do not count against the cursor window.
        _ = control.waitForQuiet(quietSeconds: 0.5, timeoutSeconds: 60)

        let serverBefore = try watch.sampleServers()
        let generatorBefore = ProcessSample.readSelf()
        control.enter(.measuring)
        let measureStart = control.measureStartUs.load(ordering: .relaxed)
        control.sleep(seconds: duration)
        control.enter(.draining)
        let drained = control.waitForQuiet(quietSeconds: 1.0, timeoutSeconds: 20)
        let serverAfter = try watch.sampleServers()
        let generatorAfter = ProcessSample.readSelf()
        let lastActivity = control.lastActivityUs.load(ordering: .relaxed)
        loops.stop()

        var result = RoomStepResult(layout: layout, generator: (generatorBefore, generatorAfter))
        if let serverBefore, let serverAfter { result.server = (serverBefore, serverAfter) }
        result.joinedClients = ready
        result.joinSeconds = joinSeconds
        result.drained = drained
        result.windowSeconds = Double(max(lastActivity, measureStart + UInt64(duration * 1_000_000)) - measureStart) / 1_000_000
        result.counters = loops.counters
        merge(loops.workloads, into: &result)
        return result
    }

    private static func merge(_ workloads: [RoomWorkload], into result: inout RoomStepResult) {
        let layout = result.layout
        var finalSequence = [UInt32](repeating: 0, count: layout.clientCount)
        var joinedInDocument = [Int](repeating: 0, count: layout.documents)
        var joined = [Bool](repeating: false, count: layout.clientCount)
        for workload in workloads {
            result.positionsSent += workload.positionsSent
            result.delivered += workload.delivered
            result.latency.merge(workload.latency)
            result.reordered += workload.reorderedEvents
            result.unexpected += workload.unexpectedEvents
            result.malformed += workload.malformedEvents
            result.serverErrors += workload.serverErrors
            result.serverErrorExamples += workload.serverErrorExamples
            result.maxSendLagUs = max(result.maxSendLagUs, workload.maxSendLagUs)
            for (local, global) in workload.globalIndex.enumerated() {
                finalSequence[global] = workload.sentSequence[local]
                if workload.hasJoined(local) {
                    joined[global] = true
                    joinedInDocument[global / layout.members] += 1
                }
            }
        }
        for global in 0..<layout.clientCount where global % layout.members < layout.movers {
            let others = joinedInDocument[global / layout.members] - (joined[global] ? 1 : 0)
            result.expectedDeliveries += Int(finalSequence[global]) * others
        }
        for workload in workloads {
            for (local, receiver) in workload.globalIndex.enumerated() where workload.hasJoined(local) {
                let firstInDocument = receiver / layout.members * layout.members
                for rank in 0..<layout.movers where firstInDocument + rank != receiver {
                    let final = finalSequence[firstInDocument + rank]
                    guard final > 0 else { continue }
                    result.finalPairs += 1
                    if workload.lastSeen[local * layout.movers + rank] == final { result.finalDelivered += 1 }
                }
            }
        }
    }

    /// Adds a room run's rows to `report`.
    static func describe(_ result: RoomStepResult, in report: inout Report) {
        let layout = result.layout
        let parameters: [(String, BenchJSON)] = [
            ("documents", .int(layout.documents)), ("members_per_document", .int(layout.members)),
            ("movers_per_document", .int(layout.movers)), ("rate_hz", .double(layout.rate)),
        ]
        report.parameters.append(contentsOf: parameters)

        report.add("clients_joined", "clients joined", result.joinedClients, unit: "of \(layout.clientCount)")
        report.add("join_seconds", "time to join all", result.joinSeconds, digits: 2, unit: "s")

        report.add("positions_sent", "positions sent", result.positionsSent)
        report.add("events_delivered", "cursor events delivered", result.delivered)
        report.add("events_expected", "cursor events expected without throttling", result.expectedDeliveries)
        report.add("delivered_per_second", "delivered events per second", result.deliveredPerSecond, digits: 0)
        report.add("final_positions_delivered", "final positions delivered", result.finalDelivered, unit: "of \(result.finalPairs)")
        report.add("all_final_positions_delivered", "every final position delivered", result.allFinalsDelivered)

        report.addLatency("latency", "latency", result.latency)
        if let perMillion = result.serverCPUPerMillion {
            report.add("server_cpu_seconds_per_million", "server CPU per million delivered", perMillion, digits: 2, unit: "s")
        }

        report.addProcessUsage(server: result.server, generator: result.generator, wallSeconds: result.windowSeconds)
        report.add("generator_max_send_lag_ms", "generator max send lag", Double(result.maxSendLagUs) / 1000, digits: 2, unit: "ms")

        report.add("reordered_events", "events older than one already seen", result.reordered)
        report.add("unexpected_events", "events from unexpected users", result.unexpected)
        report.add("server_errors", "error events from the server", result.serverErrors)
        report.addCounters(result.counters)

        if !result.drained { report.warnings.append("events were still arriving 20 s after the moves stopped") }
        if result.malformed > 0 { report.warnings.append("\(result.malformed) CursorMoved events lacked a user id, line or offset") }
        for example in result.serverErrorExamples { report.warnings.append("server error: \(example)") }
        if result.maxSendLagUs > 50_000 {
            report.warnings.append("the generator fell up to \(result.maxSendLagUs / 1000) ms behind its send schedule; it may be the bottleneck")
        }
    }
}
