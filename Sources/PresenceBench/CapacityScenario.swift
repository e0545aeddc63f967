#if canImport(Glibc)
import Glibc
#endif

/// The capacity scenario: busy-room runs of growing size, until one misses a final position or its
/// p99 latency passes the limit. It reports the largest delivered-events-per-second rate of a
/// passing run.
enum CapacityScenario {
    static func run(options: BenchOptions, endpoints: [ServerEndpoint], watch: ProcessWatch, into report: inout Report) throws(BenchError) {
        let firstMembers = options.members ?? 100
        let maxMembers = options.maxMembers ?? 5000
        let rate = options.rate ?? 20
        let duration = options.duration ?? 10
        let limitUs = UInt64(options.p99LimitMs * 1000)
        report.parameters += [
            ("first_members", .int(firstMembers)), ("max_members", .int(maxMembers)), ("growth", .double(options.growth)),
            ("rate_hz", .double(rate)), ("step_duration_seconds", .double(duration)), ("p99_limit_ms", .double(options.p99LimitMs)),
        ]

        var steps: [BenchJSON] = []
        var best: RoomStepResult?
        var stopReason = "reached --max-members \(maxMembers)"
        var members = firstMembers
        var step = 0
        while members <= maxMembers {
            let movers = min(members, options.movers ?? max(1, members / 10))
            let layout = RoomLayout(
                documents: 1, members: members, movers: movers, rate: rate, documentPrefix: "\(options.documentPrefix)-cap\(step)")
            let result: RoomStepResult
            do {
                result = try RoomScenario.run(layout: layout, duration: duration, options: options, endpoints: endpoints, watch: watch)
            } catch {
                stopReason = "\(members) members: \(error.description)"
                steps.append(.object([("members", .int(members)), ("movers", .int(movers)), ("error", .string(error.description))]))
                break
            }
            let p99 = result.latency.percentile(0.99)
            let passed = result.allFinalsDelivered && p99 <= limitUs && result.joinedClients == members
            steps.append(describe(result, passed: passed))
            printProgress(result, passed: passed)
            if !passed {
                stopReason = result.allFinalsDelivered
                    ? "\(members) members: p99 \(formatDecimal(Double(p99) / 1000, digits: 1)) ms passed \(formatDecimal(options.p99LimitMs, digits: 1)) ms"
                    : "\(members) members: \(result.finalPairs - result.finalDelivered) of \(result.finalPairs) final positions missed"
                break
            }
            if best == nil || result.deliveredPerSecond > best!.deliveredPerSecond { best = result }
            members = max(members + 1, Int((Double(members) * options.growth).rounded(.up)))
            step += 1
            watch.waitUntilServersIdle()
        }

        report.add("steps", "steps run", steps.count)
        report.add("stop_reason", "stopped because", text: stopReason)
        if let best {
            report.add("max_passing_members", "largest passing room", best.layout.members, unit: "members")
            report.add("max_delivered_per_second", "max sustained delivered events per second", best.deliveredPerSecond, digits: 0)
            report.add("latency_p99_ms_at_max", "p99 latency at that rate", Double(best.latency.percentile(0.99)) / 1000, digits: 2, unit: "ms")
            if let perMillion = best.serverCPUPerMillion {
                report.add("server_cpu_seconds_per_million_at_max", "server CPU per million delivered at that rate", perMillion, digits: 2, unit: "s")
            }
        } else {
            report.add("max_delivered_per_second", "max sustained delivered events per second", 0)
            report.warnings.append("no step passed")
        }
        report.details.append(("steps", .array(steps)))
    }

    private static func describe(_ result: RoomStepResult, passed: Bool) -> BenchJSON {
        var fields: [(String, BenchJSON)] = [
            ("members", .int(result.layout.members)), ("movers", .int(result.layout.movers)), ("passed", .bool(passed)),
            ("positions_sent", .int(result.positionsSent)), ("events_delivered", .int(result.delivered)),
            ("delivered_per_second", .double(result.deliveredPerSecond)),
            ("final_positions_delivered", .int(result.finalDelivered)), ("final_positions", .int(result.finalPairs)),
            ("latency_p50_ms", .double(Double(result.latency.percentile(0.5)) / 1000)),
            ("latency_p99_ms", .double(Double(result.latency.percentile(0.99)) / 1000)),
            ("latency_max_ms", .double(Double(result.latency.percentile(1.0)) / 1000)),
            ("generator_max_send_lag_ms", .double(Double(result.maxSendLagUs) / 1000)),
            ("connection_failures", .int(result.counters.failureCount)),
        ]
        if let server = result.server {
            let cpu = server.after.cpuSeconds - server.before.cpuSeconds
            fields.append(("server_cpu_seconds", .double(cpu)))
            fields.append(("server_cores", .double(result.windowSeconds > 0 ? cpu / result.windowSeconds : 0)))
        }
        if let perMillion = result.serverCPUPerMillion { fields.append(("server_cpu_seconds_per_million", .double(perMillion))) }
        let generatorCPU = result.generator.after.cpuSeconds - result.generator.before.cpuSeconds
        fields.append(("generator_cores", .double(result.windowSeconds > 0 ? generatorCPU / result.windowSeconds : 0)))
        return .object(fields)
    }

    /// Prints one line per step to stderr, since a capacity run takes minutes.
    private static func printProgress(_ result: RoomStepResult, passed: Bool) {
        let line = "capacity: \(result.layout.members) members, \(formatDecimal(result.deliveredPerSecond, digits: 0)) events/s, "
            + "p99 \(formatDecimal(Double(result.latency.percentile(0.99)) / 1000, digits: 1)) ms, "
            + "finals \(result.finalDelivered)/\(result.finalPairs): \(passed ? "pass" : "fail")\n"
        writeToStandardError(line)
    }
}

extension ProcessWatch {
    /// Waits until the servers use less than a tenth of a core over half a second (at most 60 s),
    /// so that one step's disconnects do not load the next step. Without server ids it waits 3 s.
    func waitUntilServersIdle() {
        guard var previous = try? sampleServers() else {
            usleep(3_000_000)
            return
        }
        for _ in 0..<120 {
            usleep(500_000)
            guard let sample = try? sampleServers() else { return }
            if sample.cpuSeconds - previous.cpuSeconds < 0.05 { return }
            previous = sample
        }
    }
}
