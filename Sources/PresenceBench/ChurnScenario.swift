/// churn: clients join, leave and drop at random; at the end every member's view must equal the
/// true membership of its document.
enum ChurnScenario {
    static func run(options: BenchOptions, endpoints: [ServerEndpoint], watch: ProcessWatch, into report: inout Report) throws(BenchError) {
        let connections = options.connections ?? 200
        let documents = options.documents ?? 10
        let rate = options.rate ?? 50
        let duration = options.duration ?? 60
        let settle = options.hold ?? 2
        report.parameters += [
            ("connections", .int(connections)), ("documents", .int(documents)), ("operations_per_second", .double(rate)),
            ("duration_seconds", .double(duration)), ("settle_seconds", .double(settle)),
        ]

        let control = RunControl()
        let loops = try LoopSet(options: options, endpoints: endpoints, control: control) { index in
            let slotCount = connections / options.threads + (index < connections % options.threads ? 1 : 0)
            return ChurnWorkload(
                slotCount: slotCount, documents: documents, operationsPerSecond: rate, documentPrefix: options.documentPrefix,
                control: control, loopIndex: index, loopCount: options.threads,
                random: SeededGenerator(seed: options.seed, stream: 400 + index))
        }
        loops.start()
        let joined = control.wait(timeoutSeconds: options.joinTimeout) {
            control.readyClients.load(ordering: .relaxed) + control.failedClients.load(ordering: .relaxed) >= connections
        }
        guard joined else {
            loops.stop()
            throw BenchError("only \(control.readyClients.load(ordering: .relaxed)) of \(connections) clients joined "
                + "within --join-timeout \(formatDecimal(options.joinTimeout, digits: 0)) s")
        }
        _ = control.waitForQuiet(quietSeconds: 0.5, timeoutSeconds: 30)

        let serverBefore = try watch.sampleServers()
        let generatorBefore = ProcessSample.readSelf()
        let start = control.clock.nowUs()
        control.enter(.measuring)
        control.sleep(seconds: duration)
        control.enter(.draining)
        control.sleep(seconds: settle)
        let quiet = control.waitForQuiet(quietSeconds: 1, timeoutSeconds: 30)
        let serverAfter = try watch.sampleServers()
        let generatorAfter = ProcessSample.readSelf()
        let wall = Double(control.clock.nowUs() - start) / 1_000_000
        loops.stop()

        let check = ViewCheck(loops.workloads)
        let workloads = loops.workloads
        report.add("joins", "joins", workloads.map(\.joins).reduce(0, +))
        report.add("leaves", "leaves (leave message and close frame)", workloads.map(\.leaves).reduce(0, +))
        report.add("drops", "drops (TCP reset without close frame)", workloads.map(\.drops).reduce(0, +))
        report.add("skipped_operations", "operations skipped on a joining client", workloads.map(\.skipped).reduce(0, +))
        report.add("members_at_end", "members at the end", check.members)
        report.add("pending_joins", "joins without a snapshot at the end", check.pendingJoins)
        report.add("views_matching", "views equal to the true membership", check.matching, unit: "of \(check.members)")
        report.add("all_views_match", "every view equals the truth", check.matching == check.members && check.pendingJoins == 0)
        report.add("lost_sessions", "sessions lost without the client closing", workloads.map(\.lost).reduce(0, +))
        report.add("server_errors", "error events from the server", workloads.map(\.serverErrors).reduce(0, +))
        report.addProcessUsage(
            server: serverBefore.flatMap { before in serverAfter.map { (before, $0) } },
            generator: (generatorBefore, generatorAfter), wallSeconds: wall)
        report.addCounters(loops.counters)
        if !quiet { report.warnings.append("membership events were still arriving 30 s after the operations stopped") }
        for example in check.examples { report.warnings.append("view mismatch: \(example)") }
        for example in workloads.flatMap(\.serverErrorExamples).prefix(5) { report.warnings.append("server error: \(example)") }
    }
}

/// Comparison of each member's view with the true membership, which is every slot that received
/// its snapshot and has not left or dropped since.
private struct ViewCheck {
    var members = 0
    var matching = 0
    var pendingJoins = 0
    var examples: [String] = []

    init(_ workloads: [ChurnWorkload]) {
        var truth: [Int: Set<String>] = [:]
        for workload in workloads {
            for state in workload.slots {
                switch state {
                case .member(_, let document, let userID): truth[document, default: []].insert(userID)
                case .joining: pendingJoins += 1
                case .idle: break
                }
            }
        }
        for workload in workloads {
            for (slot, state) in workload.slots.enumerated() {
                guard case .member(_, let document, let userID) = state else { continue }
                members += 1
                let expected = truth[document, default: []]
                let view = workload.views[slot]
                if view == expected {
                    matching += 1
                } else if examples.count < 5 {
                    let missing = expected.subtracting(view).sorted().prefix(5).joined(separator: " ")
                    let extra = view.subtracting(expected).sorted().prefix(5).joined(separator: " ")
                    examples.append("\(userID) in \(workload.documentID(document)) misses [\(missing)] and has extra [\(extra)]")
                }
            }
        }
    }
}
