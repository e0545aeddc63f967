/// Chooses the scenario's defaults and runs it.
struct ScenarioRunner {
    let options: BenchOptions
    let endpoints: [ServerEndpoint]
    let watch: ProcessWatch
    let machine: MachineInfo

    init(options: BenchOptions) throws(BenchError) {
        self.options = options
        var endpoints: [ServerEndpoint] = []
        for url in options.urls { endpoints.append(try ServerEndpoint(url: url, batchMs: options.batchMs)) }
        self.endpoints = endpoints
        watch = ProcessWatch(serverPIDs: options.serverPIDs)
        machine = MachineInfo.current()
        _ = try watch.sampleServers()
    }

    func run() throws(BenchError) -> Report {
        var report = Report(options: options, machine: machine)
        switch options.scenario {
        case .busyRoom:
            let members = options.members ?? 200
            let layout = RoomLayout(
                documents: options.documents ?? 1, members: members, movers: options.movers ?? min(20, members),
                rate: options.rate ?? 20, documentPrefix: options.documentPrefix)
            try runRoom(layout, duration: options.duration ?? 30, into: &report)
        case .manyRooms:
            let members = options.members ?? 10
            let layout = RoomLayout(
                documents: options.documents ?? 50, members: members, movers: options.movers ?? members,
                rate: options.rate ?? 20, documentPrefix: options.documentPrefix)
            try runRoom(layout, duration: options.duration ?? 30, into: &report)
        case .capacity:
            try CapacityScenario.run(options: options, endpoints: endpoints, watch: watch, into: &report)
        case .idleCrowd:
            try IdleCrowdScenario.run(options: options, endpoints: endpoints, watch: watch, into: &report)
        case .joinStorm:
            try JoinStormScenario.run(options: options, endpoints: endpoints, watch: watch, into: &report)
        case .churn:
            try ChurnScenario.run(options: options, endpoints: endpoints, watch: watch, into: &report)
        }
        return report
    }

    private func runRoom(_ layout: RoomLayout, duration: Double, into report: inout Report) throws(BenchError) {
        guard layout.movers <= layout.members else {
            throw BenchError("--movers \(layout.movers) is more than --members \(layout.members); movers are members who move")
        }
        report.parameters.append(("duration_seconds", .double(duration)))
        let result = try RoomScenario.run(layout: layout, duration: duration, options: options, endpoints: endpoints, watch: watch)
        RoomScenario.describe(result, in: &report)
    }
}
