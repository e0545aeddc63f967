/// One loop's share of churn: client slots that join, leave and drop at random while each member
/// keeps the membership view a browser would, built from its snapshot and later UserJoined and
/// UserLeft events.
///
/// Slot `s` of loop `i` of `n` is global slot `s × n + i`. Each join uses a new user id,
/// `u<global slot>g<join count>`, so that a late UserLeft of an earlier session can never remove a
/// newer one from a view.
final class ChurnWorkload: LoopWorkload {
    enum SlotState {
        case idle
        case joining(connection: ConnectionID, document: Int, userID: String)
        case member(connection: ConnectionID, document: Int, userID: String)
    }

    let control: RunControl
    let documents: Int
    let documentPrefix: String
    let loopIndex: Int
    let loopCount: Int
    /// Time between this loop's operations, in µs.
    let operationIntervalUs: UInt64
    private(set) var slots: [SlotState]
    /// Each member slot's view of its document: the user ids it believes are present.
    private(set) var views: [Set<String>]
    private var joinCounts: [Int]
    private var random: SeededGenerator
    private var operationsDone: UInt64 = 0
    private var messages = ClientMessages()

    private(set) var joins = 0
    private(set) var leaves = 0
    private(set) var drops = 0
    /// Operations that picked a slot still waiting for its snapshot, and so did nothing.
    private(set) var skipped = 0
    /// Sessions that ended without the workload closing them.
    private(set) var lost = 0
    private(set) var serverErrors = 0
    private(set) var serverErrorExamples: [String] = []

    init(
        slotCount: Int, documents: Int, operationsPerSecond: Double, documentPrefix: String, control: RunControl,
        loopIndex: Int, loopCount: Int, random: SeededGenerator
    ) {
        self.control = control
        self.documents = documents
        self.documentPrefix = documentPrefix
        self.loopIndex = loopIndex
        self.loopCount = loopCount
        operationIntervalUs = UInt64(1_000_000 * Double(loopCount) / operationsPerSecond)
        slots = Array(repeating: .idle, count: slotCount)
        views = Array(repeating: [], count: slotCount)
        joinCounts = Array(repeating: 0, count: slotCount)
        self.random = random
    }

    func documentID(_ document: Int) -> String { "\(documentPrefix)-d\(document)" }

    func start(loop: ClientLoop) {
        for slot in slots.indices { beginJoin(slot, loop: loop) }
    }

    private func beginJoin(_ slot: Int, loop: ClientLoop) {
        let global = slot * loopCount + loopIndex
        joinCounts[slot] += 1
        let userID = "u\(global)g\(joinCounts[slot])"
        let document = Int.random(in: 0..<documents, using: &random)
        let connection = loop.open(tag: slot, endpointIndex: global % loop.endpoints.count)
        slots[slot] = .joining(connection: connection, document: document, userID: userID)
    }

    func connectionOpened(_ connection: ConnectionID, tag slot: Int, loop: ClientLoop) {
        guard case .joining(connection, let document, let userID) = slots[slot] else { return }
        let message = messages.join(documentID: documentID(document), userID: userID)
        message.withUnsafeBytes { _ = loop.sendText($0, on: connection) }
    }

    func connectionFailed(_ connection: ConnectionID, tag slot: Int, failure: ConnectionFailure, loop: ClientLoop) {
        switch slots[slot] {
        case .joining(connection, _, _):
            if control.phase == .preparing { control.failedClients.add(1, ordering: .relaxed) }
            lost += 1
        case .member(connection, _, _):
            lost += 1
        default:
            return
        }
        slots[slot] = .idle
        views[slot] = []
    }

    func messageReceived(_ text: UnsafeRawBufferPointer, connection: ConnectionID, tag slot: Int, loop: ClientLoop) {
        switch (EventScanner.kind(of: text), slots[slot]) {
        case (.snapshot, .joining(connection, let document, let userID)):
            var view: Set<String> = [userID]
            EventScanner.forEachSnapshotUser(in: text) { view.insert(String(decoding: $0, as: UTF8.self)) }
            views[slot] = view
            slots[slot] = .member(connection: connection, document: document, userID: userID)
            control.readyClients.add(1, ordering: .relaxed)
            loop.markActivity()
        case (.presence, .member(connection, _, _)), (.batch, .member(connection, _, _)):
            EventScanner.forEachMembershipChange(in: text) { change in
                switch change {
                case .joined(let user): views[slot].insert(String(decoding: user, as: UTF8.self))
                case .left(let user): views[slot].remove(String(decoding: user, as: UTF8.self))
                }
                loop.markActivity()
            }
        case (.error, _):
            serverErrors += 1
            if serverErrorExamples.count < 5 { serverErrorExamples.append(EventScanner.errorDescription(in: text)) }
        default:
            break
        }
    }

    func tick(nowUs: UInt64, phase: RunPhase, loop: ClientLoop) -> UInt64? {
        guard phase == .measuring, !slots.isEmpty else { return nil }
        let start = control.measureStartUs.load(ordering: .relaxed)
        // Loops start their operations at staggered offsets within one interval.
        let offset = operationIntervalUs * UInt64(loopIndex) / UInt64(loopCount)
        while true {
            let due = start + offset + operationsDone * operationIntervalUs
            if due > nowUs { return due }
            operate(loop: loop)
            operationsDone += 1
        }
    }

    /// Picks a random slot: an idle one joins, a member leaves or drops with equal chance.
    private func operate(loop: ClientLoop) {
        let slot = Int.random(in: 0..<slots.count, using: &random)
        switch slots[slot] {
        case .idle:
            beginJoin(slot, loop: loop)
            joins += 1
        case .joining:
            skipped += 1
        case .member(let connection, let document, _):
            if Bool.random(using: &random) {
                let message = messages.leave(documentID: documentID(document))
                message.withUnsafeBytes { _ = loop.sendText($0, on: connection) }
                loop.close(connection, mode: .graceful)
                leaves += 1
            } else {
                loop.close(connection, mode: .abortive)
                drops += 1
            }
            slots[slot] = .idle
            views[slot] = []
        }
    }
}
