import Foundation
import PresenceCore
import Synchronization
import XCTest

/// A decoded server message, for assertions.
enum ReceivedMessage: Equatable {
    case snapshot(selfPresence: UserPresence, users: [UserPresence])
    case presence(PresenceEvent)
}

/// A `RoomOutput` that keeps every frame, for assertions.
final class RecordingOutput: RoomOutput {
    struct Delivery {
        let frame: OutgoingFrame
        let members: [MemberID]
        /// The clock's monotonic time when the room delivered the frame.
        let deliveredAtMs: UInt64
    }

    private let clock: ManualClock
    private(set) var deliveries: [Delivery] = []
    private(set) var batchEnds = 0

    init(clock: ManualClock) {
        self.clock = clock
    }

    func deliver(_ frame: OutgoingFrame, to members: [MemberID]) {
        deliveries.append(Delivery(frame: frame, members: members, deliveredAtMs: clock.monotonicMs))
    }

    func endOfBatch() {
        batchEnds += 1
    }

    func clear() {
        deliveries.removeAll()
        batchEnds = 0
    }

    /// Returns the decoded messages one member received, in order.
    func messages(for member: MemberID) -> [ReceivedMessage] {
        deliveries.filter { $0.members.contains(member) }.map { Self.decode($0.frame.bytes) }
    }

    /// Returns the presence events one member received, in order.
    func events(for member: MemberID) -> [PresenceEvent] {
        messages(for: member).compactMap {
            if case .presence(let event) = $0 { return event }
            return nil
        }
    }

    static func decode(_ bytes: [UInt8]) -> ReceivedMessage {
        do {
            let object = try JSONSerialization.jsonObject(with: Data(bytes)) as! [String: Any]
            let payload = try JSONSerialization.data(withJSONObject: object["payload"]!, options: .fragmentsAllowed)
            switch object["event_type"] as! String {
            case "snapshot":
                struct SnapshotPayload: Decodable {
                    let `self`: UserPresence
                    let users: [UserPresence]
                }
                let snapshot = try JSONDecoder().decode(SnapshotPayload.self, from: payload)
                return .snapshot(selfPresence: snapshot.`self`, users: snapshot.users)
            case "presence":
                return .presence(try JSONDecoder().decode(PresenceEvent.self, from: payload))
            case let other:
                fatalError("unexpected event_type \(other)")
            }
        } catch {
            fatalError("undecodable frame \(String(decoding: bytes, as: UTF8.self)): \(error)")
        }
    }
}

/// A `PresenceStore` that records each write before passing it to an in-memory store.
final class RecordingStore: PresenceStore {
    enum Write: Equatable {
        case store(UserPresence)
        case remove(userID: String)
        case refresh(userIDs: [String])
    }

    let backing: InMemoryPresenceStore
    /// The write log, behind a mutex because `PresenceStore` requires `Sendable`.
    private let log = Mutex<[Write]>([])

    init(clock: ManualClock) {
        backing = InMemoryPresenceStore(ttlSeconds: 30, clock: clock)
    }

    var writes: [Write] { log.withLock { $0 } }

    func clear() {
        log.withLock { $0.removeAll() }
    }

    func store(_ presence: UserPresence) {
        log.withLock { $0.append(.store(presence)) }
        backing.store(presence)
    }

    func remove(userID: String, documentID: String, workspaceID: String) {
        log.withLock { $0.append(.remove(userID: userID)) }
        backing.remove(userID: userID, documentID: documentID, workspaceID: workspaceID)
    }

    func refresh(documentID: String, workspaceID: String, userIDs: [String]) {
        log.withLock { $0.append(.refresh(userIDs: userIDs)) }
        backing.refresh(documentID: documentID, workspaceID: workspaceID, userIDs: userIDs)
    }

    func documentPresence(
        documentID: String, completion: @escaping @Sendable (Result<[UserPresence], PresenceError>) -> Void
    ) {
        backing.documentPresence(documentID: documentID, completion: completion)
    }

    func activeDocuments(
        workspaceID: String, completion: @escaping @Sendable (Result<[DocumentUserCount], PresenceError>) -> Void
    ) {
        backing.activeDocuments(workspaceID: workspaceID, completion: completion)
    }

    func documents(
        userID: String, completion: @escaping @Sendable (Result<[UserDocumentActivity], PresenceError>) -> Void
    ) {
        backing.documents(userID: userID, completion: completion)
    }
}

/// One room with a manual clock, a recording output and a recording store.
final class RoomHarness {
    let clock = ManualClock()
    let output: RecordingOutput
    let store: RecordingStore
    let room: DocumentRoom

    init(config: PresenceConfig = PresenceConfig(), policy: PresencePolicy = DefaultPresencePolicy()) {
        output = RecordingOutput(clock: clock)
        store = RecordingStore(clock: clock)
        room = DocumentRoom(
            documentID: "d1", workspaceID: "w1", config: config, policy: policy, clock: clock, store: store,
            output: output
        )
    }

    var nowMs: UInt64 { clock.monotonicMs }

    @discardableResult
    func join(_ member: MemberID, _ userID: String, name: String? = nil) throws -> UserPresence {
        try room.join(
            member: member, identity: UserIdentity(userID: userID, workspaceID: "w1", name: name ?? userID.uppercased(), avatarURL: nil)
        )
    }

    func cursor(_ member: MemberID, line: UInt32, selection: Selection? = nil) throws {
        try room.cursor(
            member: member, cursor: CursorPosition(line: line, column: 0, offset: line * 10), selection: selection,
            receivedMonotonicMs: clock.monotonicMs
        )
    }

    /// Advances the clock by `ms`, calling `tick()` at every deadline on the way, as an event loop
    /// timer would.
    func run(for ms: UInt64) {
        let endMs = clock.monotonicMs + ms
        var ticks = 0
        while let dueMs = room.nextDeadlineMs, dueMs <= endMs {
            if dueMs > clock.monotonicMs {
                clock.advance(by: dueMs - clock.monotonicMs)
            }
            room.tick()
            ticks += 1
            precondition(ticks < 1_000_000, "the room keeps scheduling work in the past")
        }
        clock.advance(by: endMs - clock.monotonicMs)
    }

    func events(for member: MemberID) -> [PresenceEvent] {
        output.events(for: member)
    }
}

let selectionSample = Selection(
    anchor: CursorPosition(line: 0, column: 0, offset: 0), head: CursorPosition(line: 1, column: 0, offset: 10),
    isBackward: false
)
