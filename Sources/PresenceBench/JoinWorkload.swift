/// One loop's share of idle-crowd or join-storm: clients that connect, join one document each and
/// then only read.
///
/// Client `g` is user `u<g>` in document `g % documents`. With a window, the clients open at
/// seeded random times within it after the coordinator enters `measuring`. Without one, they all
/// open at once when the loop starts.
final class JoinWorkload: LoopWorkload {
    let control: RunControl
    let documents: Int
    let documentPrefix: String
    let globalIndex: [Int]
    /// Time after the start of measuring at which each local client opens, in µs, sorted; empty
    /// when every client opens at once.
    private let openOffsets: [UInt64]
    private var nextToOpen = 0
    private var openedAtUs: [UInt64]
    private var joined: [Bool]
    private var messages = ClientMessages()

    /// Time from opening a connection to receiving its snapshot, in µs.
    private(set) var joinLatency = LatencyHistogram()
    /// Run clock time of the last snapshot received.
    private(set) var lastSnapshotUs: UInt64 = 0
    private(set) var serverErrors = 0
    private(set) var serverErrorExamples: [String] = []
    /// Clients whose connection failed or closed after they joined.
    private(set) var lostAfterJoin = 0

    init(
        connections: Int, documents: Int, windowUs: UInt64?, documentPrefix: String, control: RunControl,
        loopIndex: Int, loopCount: Int, random: inout SeededGenerator
    ) {
        self.control = control
        self.documents = documents
        self.documentPrefix = documentPrefix
        globalIndex = Array(stride(from: loopIndex, to: connections, by: loopCount))
        if let windowUs {
            openOffsets = globalIndex.map { _ in windowUs == 0 ? 0 : UInt64.random(in: 0..<windowUs, using: &random) }.sorted()
        } else {
            openOffsets = []
        }
        openedAtUs = Array(repeating: 0, count: globalIndex.count)
        joined = Array(repeating: false, count: globalIndex.count)
    }

    func start(loop: ClientLoop) {
        guard openOffsets.isEmpty else { return }
        let now = control.clock.nowUs()
        for local in globalIndex.indices { open(local, atUs: now, loop: loop) }
    }

    private func open(_ local: Int, atUs time: UInt64, loop: ClientLoop) {
        openedAtUs[local] = time
        loop.open(tag: local, endpointIndex: globalIndex[local] % loop.endpoints.count)
    }

    func tick(nowUs: UInt64, phase: RunPhase, loop: ClientLoop) -> UInt64? {
        guard phase == .measuring, nextToOpen < openOffsets.count else { return nil }
        let start = control.measureStartUs.load(ordering: .relaxed)
        while nextToOpen < openOffsets.count {
            let due = start + openOffsets[nextToOpen]
            if due > nowUs { return due }
            // Clients open in the order of their times, so local client n takes the n-th time.
            open(nextToOpen, atUs: due, loop: loop)
            nextToOpen += 1
        }
        return nil
    }

    func connectionOpened(_ connection: ConnectionID, tag local: Int, loop: ClientLoop) {
        let global = globalIndex[local]
        let message = messages.join(documentID: "\(documentPrefix)-d\(global % documents)", userID: "u\(global)")
        message.withUnsafeBytes { _ = loop.sendText($0, on: connection) }
    }

    func connectionFailed(_ connection: ConnectionID, tag local: Int, failure: ConnectionFailure, loop: ClientLoop) {
        if joined[local] {
            lostAfterJoin += 1
        } else {
            control.failedClients.add(1, ordering: .relaxed)
        }
    }

    func messageReceived(_ text: UnsafeRawBufferPointer, connection: ConnectionID, tag local: Int, loop: ClientLoop) {
        loop.markActivity()
        switch EventScanner.kind(of: text) {
        case .snapshot where !joined[local]:
            joined[local] = true
            let now = control.clock.nowUs()
            joinLatency.record(now - min(now, openedAtUs[local]))
            lastSnapshotUs = max(lastSnapshotUs, now)
            control.readyClients.add(1, ordering: .relaxed)
        case .error:
            serverErrors += 1
            if serverErrorExamples.count < 5 { serverErrorExamples.append(EventScanner.errorDescription(in: text)) }
        default:
            break
        }
    }
}
