/// The shape of a room scenario: `documents` documents of `members` members each, of whom the first
/// `movers` move their cursor `rate` times per second while the run measures.
struct RoomLayout {
    var documents: Int
    var members: Int
    var movers: Int
    var rate: Double
    var documentPrefix: String

    var clientCount: Int { documents * members }

    func documentID(_ document: Int) -> String { "\(documentPrefix)-d\(document)" }
}

/// One loop's share of a room scenario (busy-room, many-rooms, a capacity step).
///
/// Client `g` (0 ..< documents × members) is user `u<g>` in document `g / members`, with rank
/// `g % members`; ranks below `movers` move. Loop `i` of `n` owns the clients with `g % n == i`.
/// A cursor carries the mover's sequence number (from 1) as `line` and the low 32 bits of the run
/// clock in microseconds at sending as `offset`. A receiver thus computes latency from the event
/// alone and can tell whether it received the mover's final position.
final class RoomWorkload: LoopWorkload {
    let layout: RoomLayout
    let control: RunControl
    let loopIndex: Int
    let loopCount: Int
    /// Global client number of each local client.
    let globalIndex: [Int]
    private var connectionIDs: [ConnectionID?]
    private var joined: [Bool]
    /// Sequence number of the last position each local client sent (0 for none).
    private(set) var sentSequence: [UInt32]
    /// For local client `l` and mover rank `r`, the highest sequence it received from that mover,
    /// at `l * movers + r`.
    private(set) var lastSeen: [UInt32]
    /// Local movers in the order of their phase within the send period, with that phase in µs.
    private var schedule: [(local: Int, phaseUs: UInt64)] = []
    private var scheduleCursor = 0
    private var round: UInt64 = 0
    private var periodUs: UInt64
    private var messages = ClientMessages()

    private(set) var latency = LatencyHistogram()
    private(set) var delivered = 0
    private(set) var positionsSent = 0
    /// Events from a user that is not a mover of the receiver's document, or the receiver itself.
    private(set) var unexpectedEvents = 0
    /// Events whose sequence was lower than one already received from the same mover.
    private(set) var reorderedEvents = 0
    private(set) var malformedEvents = 0
    private(set) var serverErrors = 0
    private(set) var serverErrorExamples: [String] = []
    /// The largest delay between a send's planned time and its actual time, in µs. A large value
    /// means the generator could not keep up and the latency figures understate the server.
    private(set) var maxSendLagUs: UInt64 = 0

    init(layout: RoomLayout, control: RunControl, loopIndex: Int, loopCount: Int, random: inout SeededGenerator) {
        self.layout = layout
        self.control = control
        self.loopIndex = loopIndex
        self.loopCount = loopCount
        globalIndex = Array(stride(from: loopIndex, to: layout.clientCount, by: loopCount))
        connectionIDs = Array(repeating: nil, count: globalIndex.count)
        joined = Array(repeating: false, count: globalIndex.count)
        sentSequence = Array(repeating: 0, count: globalIndex.count)
        lastSeen = Array(repeating: 0, count: globalIndex.count * layout.movers)
        periodUs = UInt64(1_000_000 / layout.rate)
        for (local, global) in globalIndex.enumerated() where global % layout.members < layout.movers {
            schedule.append((local, UInt64.random(in: 0..<periodUs, using: &random)))
        }
        schedule.sort { $0.phaseUs < $1.phaseUs }
    }

    func start(loop: ClientLoop) {
        for (local, global) in globalIndex.enumerated() {
            connectionIDs[local] = loop.open(tag: local, endpointIndex: global % loop.endpoints.count)
        }
    }

    func connectionOpened(_ connection: ConnectionID, tag local: Int, loop: ClientLoop) {
        let global = globalIndex[local]
        let message = messages.join(documentID: layout.documentID(global / layout.members), userID: "u\(global)")
        message.withUnsafeBytes { _ = loop.sendText($0, on: connection) }
    }

    func connectionFailed(_ connection: ConnectionID, tag local: Int, failure: ConnectionFailure, loop: ClientLoop) {
        connectionIDs[local] = nil
        control.failedClients.add(1, ordering: .relaxed)
    }

    func messageReceived(_ text: UnsafeRawBufferPointer, connection: ConnectionID, tag local: Int, loop: ClientLoop) {
        loop.markActivity()
        switch EventScanner.kind(of: text) {
        case .snapshot:
            if !joined[local] {
                joined[local] = true
                control.readyClients.add(1, ordering: .relaxed)
            }
        case .presence, .batch:
            recordCursors(in: text, receiver: local)
        case .error:
            serverErrors += 1
            if serverErrorExamples.count < 5 { serverErrorExamples.append(EventScanner.errorDescription(in: text)) }
        case .pong, .other:
            break
        }
    }

    private func recordCursors(in text: UnsafeRawBufferPointer, receiver local: Int) {
        let receiver = globalIndex[local]
        let document = receiver / layout.members
        let now = UInt32(truncatingIfNeeded: control.clock.nowUs())
        malformedEvents += EventScanner.forEachCursorMoved(in: text) { sighting in
            guard let mover = EventScanner.userNumber(sighting.userID, prefixLength: 1),
                  mover / layout.members == document, mover % layout.members < layout.movers, mover != receiver
            else {
                unexpectedEvents += 1
                return
            }
            delivered += 1
            latency.record(UInt64(now &- UInt32(truncatingIfNeeded: sighting.offset)))
            let slot = local * layout.movers + mover % layout.members
            let sequence = UInt32(truncatingIfNeeded: sighting.line)
            if sequence < lastSeen[slot] {
                reorderedEvents += 1
            } else {
                lastSeen[slot] = sequence
            }
        }
    }

    func tick(nowUs: UInt64, phase: RunPhase, loop: ClientLoop) -> UInt64? {
        guard phase == .measuring, !schedule.isEmpty else { return nil }
        let start = control.measureStartUs.load(ordering: .relaxed)
        while true {
            let entry = schedule[scheduleCursor]
            let due = start + round * periodUs + entry.phaseUs
            if due > nowUs { return due }
            maxSendLagUs = max(maxSendLagUs, nowUs - due)
            sendPosition(of: entry.local, nowUs: nowUs, loop: loop)
            scheduleCursor += 1
            if scheduleCursor == schedule.count {
                scheduleCursor = 0
                round += 1
            }
        }
    }

    private func sendPosition(of local: Int, nowUs: UInt64, loop: ClientLoop) {
        guard let connection = connectionIDs[local], joined[local] else { return }
        let global = globalIndex[local]
        let sequence = sentSequence[local] + 1
        let message = messages.cursor(
            documentID: layout.documentID(global / layout.members), line: sequence, column: sequence % 80,
            offset: UInt32(truncatingIfNeeded: nowUs))
        let sent = message.withUnsafeBytes { loop.sendText($0, on: connection) }
        if sent {
            sentSequence[local] = sequence
            positionsSent += 1
        }
    }

    /// Returns whether local client `local` received its snapshot.
    func hasJoined(_ local: Int) -> Bool { joined[local] }
}
