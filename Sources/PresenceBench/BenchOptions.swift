/// The scenarios the generator can run.
enum Scenario: String, CaseIterable {
    case idleCrowd = "idle-crowd"
    case busyRoom = "busy-room"
    case manyRooms = "many-rooms"
    case joinStorm = "join-storm"
    case churn
    case capacity
}

/// The command line, parsed and checked. Sizes left nil take the scenario's default.
struct BenchOptions {
    var scenario: Scenario = .busyRoom
    var urls: [String] = []
    var serverPIDs: [Int32] = []
    var seed: UInt64 = 1
    var threads = 1
    var jsonPath: String?
    var label = "server"
    var batchMs: Int?
    var connectConcurrency = 256
    var sourceAddresses = 8
    var documentPrefix = "bench"
    var connections: Int?
    var documents: Int?
    var members: Int?
    var movers: Int?
    var rate: Double?
    var duration: Double?
    var window: Double?
    var hold: Double?
    var maxMembers: Int?
    var growth = 1.5
    var p99LimitMs = 100.0
    var joinTimeout = 120.0

    static let usage = """
    Usage: presence-bench SCENARIO --url ws://HOST:PORT/v1/ws [options]

    Drives a presence server over WebSocket and reports delivery, latency, and the CPU and memory of
    the server (with --server-pid) beside the generator's own.

    Scenarios:
      idle-crowd   --connections N (1000) over --documents D (N/10), joined, then quiet for --hold S (5);
                   reports the server's resident memory per connection.
      busy-room    one document of --members N (200), of whom --movers M (20) move at --rate HZ (20)
                   for --duration S (30); reports positions sent and delivered, final positions
                   delivered, latency from send to receipt and server CPU per million events.
      many-rooms   --documents D (50) of --members K (10), every member moving at --rate HZ (20).
      join-storm   --connections N (5000) joining within --window S (2) over --documents D (N/10);
                   reports the time until every snapshot arrived, and errors.
      churn        --connections N (200) over --documents D (10) joining, leaving and dropping at
                   --rate OPS (50 per second) for --duration S (60); then checks that every client's
                   view equals the true membership.
      capacity     a busy-room grown by --growth F (1.5) from --members N (100), with a tenth moving
                   at --rate HZ (20) for --duration S (10) per step, until a final position is missed,
                   p99 latency passes --p99-limit-ms MS (100) or --max-members (5000) is reached.

    Options:
      --url URL               server to connect to; repeat to spread clients over several nodes
      --server-pid PID        server process to read CPU and memory of; repeat for several nodes
      --label NAME            name of the server in the report, such as gateway or node (server)
      --seed N                seed of every random choice, so a run repeats exactly (1)
      --threads N             client event loop threads, 1 or 2 (1)
      --batch-ms MS           add batch_ms=MS to the URL to ask for batched events
      --json FILE             also write the results as JSON to FILE
      --document-prefix TEXT  prefix of document ids, to keep runs on one server apart (bench)
      --connect-concurrency N connections connecting or upgrading at once, per thread (256)
      --source-addresses N    loopback source addresses 127.0.0.1 to 127.0.0.N to connect from
                              when the server is on 127.0.0.0/8 (8); 1 uses only 127.0.0.1
      --join-timeout S        time allowed for every client to connect and join (120)
      --help                  print this help
    """

    /// Parses the arguments after the program name.
    init(arguments: [String]) throws(BenchError) {
        var remaining = arguments[...]
        if let first = remaining.first, !first.hasPrefix("--") {
            guard let scenario = Scenario(rawValue: first) else {
                throw BenchError("unknown scenario \"\(first)\"; use one of \(Scenario.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            self.scenario = scenario
            remaining = remaining.dropFirst()
        } else {
            throw BenchError("missing scenario; use one of \(Scenario.allCases.map(\.rawValue).joined(separator: ", "))")
        }

        while let option = remaining.popFirst() {
            guard let value = remaining.popFirst() else {
                throw BenchError("missing value after \(option); run presence-bench --help for the options")
            }
            switch option {
            case "--url": urls.append(value)
            case "--server-pid": serverPIDs.append(Int32(try Self.integer(value, option, in: 1...Int(Int32.max))))
            case "--label": label = value
            case "--seed":
                guard let seed = UInt64(value) else { throw BenchError("invalid --seed \"\(value)\"; expected a whole number from 0 to \(UInt64.max)") }
                self.seed = seed
            case "--threads": threads = try Self.integer(value, option, in: 1...2)
            case "--batch-ms": batchMs = try Self.integer(value, option, in: 0...1000)
            case "--json": jsonPath = value
            case "--document-prefix": documentPrefix = value
            case "--connect-concurrency": connectConcurrency = try Self.integer(value, option, in: 1...10_000)
            case "--source-addresses": sourceAddresses = try Self.integer(value, option, in: 1...250)
            case "--join-timeout": joinTimeout = try Self.number(value, option, in: 1...3600)
            case "--connections": connections = try Self.integer(value, option, in: 1...1_000_000)
            case "--documents": documents = try Self.integer(value, option, in: 1...1_000_000)
            case "--members": members = try Self.integer(value, option, in: 2...100_000)
            case "--movers": movers = try Self.integer(value, option, in: 1...100_000)
            case "--rate": rate = try Self.number(value, option, in: 0.1...10_000)
            case "--duration": duration = try Self.number(value, option, in: 0.1...86_400)
            case "--window": window = try Self.number(value, option, in: 0...3600)
            case "--hold": hold = try Self.number(value, option, in: 0...3600)
            case "--max-members": maxMembers = try Self.integer(value, option, in: 2...100_000)
            case "--growth": growth = try Self.number(value, option, in: 1.05...10)
            case "--p99-limit-ms": p99LimitMs = try Self.number(value, option, in: 0.1...600_000)
            default:
                throw BenchError("unknown option \(option); run presence-bench --help for the options")
            }
        }
        guard !urls.isEmpty else { throw BenchError("missing --url; give the server as --url ws://127.0.0.1:8080/v1/ws") }
        if let members, let movers, movers > members {
            throw BenchError("--movers \(movers) is more than --members \(members); movers are members who move")
        }
    }

    private static func integer(_ text: String, _ option: String, in range: ClosedRange<Int>) throws(BenchError) -> Int {
        guard let value = Int(text), range.contains(value) else {
            throw BenchError("invalid \(option) \"\(text)\"; expected a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    private static func number(_ text: String, _ option: String, in range: ClosedRange<Double>) throws(BenchError) -> Double {
        guard let value = Double(text), range.contains(value) else {
            throw BenchError("invalid \(option) \"\(text)\"; expected a number from \(formatDecimal(range.lowerBound, digits: 2, trimZeros: true)) to \(formatDecimal(range.upperBound, digits: 0))")
        }
        return value
    }
}
