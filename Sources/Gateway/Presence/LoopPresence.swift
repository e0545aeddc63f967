import Observability
import PresenceCore
import Transport

/// One frame on its way to the members on one event loop, handed to that loop in a batch. The
/// frame's bytes are shared by every recipient, so a frame for a thousand members costs one
/// encoding and one reference per member.
struct Delivery: Sendable {
    let documentID: String
    /// The event inside the message's envelope, found once for the clients that batch. Nil for
    /// frames that are never batched (control frames) and for messages without an envelope.
    let event: ArraySlice<UInt8>?
    /// The message framed as a WebSocket message.
    let wire: [UInt8]
    let coalesceKey: UInt64
    /// Monotonic ms at which the cursor message was read, for cursor frames only.
    let cursorReadMs: UInt64?
    var recipients: [ConnectionReference]
}

/// The presence state owned by one event loop: the rooms whose documents hash to it and the
/// connections that are members of them.
///
/// Everything here is touched only on `loop`'s thread; other loops reach it through
/// `loop.execute`. A room's frames are grouped by the loop of each recipient and handed over with
/// one task per loop per batch, not one per member.
final class LoopPresence: @unchecked Sendable {
    // @unchecked Sendable: all mutable state is confined to `loop` (see the type's comment).
    let loop: EventLoop
    unowned let service: PresenceService
    private(set) var rooms: [String: RoomSlot] = [:]
    private var members: [MemberID: (reference: ConnectionReference, rooms: Int)] = [:]
    private(set) var policy: PresencePolicy
    private var pending: [[Delivery]]
    /// Scratch space of `deliver`: one frame's recipients grouped by their loop.
    private var recipientsByLoop: [[ConnectionReference]]

    init(loop: EventLoop, service: PresenceService, policy: PresencePolicy, loopCount: Int) {
        self.loop = loop
        self.service = service
        self.policy = policy
        pending = Array(repeating: [], count: loopCount)
        recipientsByLoop = Array(repeating: [], count: loopCount)
    }

    // MARK: - Operations, called on `loop`

    func join(_ reference: ConnectionReference, identity: UserIdentity, documentID: String) throws(PresenceError) {
        let slot = room(for: documentID, workspaceID: identity.workspaceID)
        addMember(reference)
        do {
            try slot.room.join(member: reference.id, identity: identity)
        } catch {
            removeMember(reference.id)
            dropIfEmpty(slot)
            throw error
        }
        slot.members.insert(reference.id)
        service.metrics.documentChanged(slot, users: slot.room.userCount)
        arm(slot)
    }

    func leave(member: MemberID, documentID: String) {
        guard let slot = rooms[documentID] else { return }
        guard slot.members.remove(member) != nil else { return }
        slot.room.leave(member: member)
        removeMember(member)
        service.metrics.documentChanged(slot, users: slot.room.userCount)
        dropIfEmpty(slot)
        if rooms[documentID] != nil { arm(slot) }
    }

    /// Runs `body` on the joined room of `documentID`, or throws NotJoined.
    func update(documentID: String, _ body: (DocumentRoom) throws(PresenceError) -> Void) throws(PresenceError) {
        guard let slot = rooms[documentID] else {
            throw PresenceError(code: .notJoined, message: "not joined to document \"\(documentID)\"; send a join message first")
        }
        try body(slot.room)
        arm(slot)
    }

    func replacePolicy(_ policy: PresencePolicy) {
        self.policy = policy
        for slot in rooms.values { slot.room.replacePolicy(policy) }
    }

    /// Removes every member of every room (shutdown), so the other members see them leave.
    func removeAll() {
        for slot in Array(rooms.values) {
            for member in slot.members { slot.room.leave(member: member) }
            slot.members.removeAll()
            service.metrics.documentChanged(slot, users: 0)
            dropIfEmpty(slot)
        }
        members.removeAll()
    }

    // MARK: - Rooms and members

    private func room(for documentID: String, workspaceID: String) -> RoomSlot {
        if let slot = rooms[documentID] { return slot }
        let output = RoomFrameOutput(owner: self, documentID: documentID)
        let room = DocumentRoom(documentID: documentID, workspaceID: workspaceID, config: service.live.presence,
                                policy: policy, clock: service.clock, store: service.store, output: output)
        let slot = RoomSlot(room: room, documentID: documentID, workspaceID: workspaceID)
        rooms[documentID] = slot
        service.cluster?.attach(room)
        service.metrics.documents.increment()
        return slot
    }

    private func dropIfEmpty(_ slot: RoomSlot) {
        guard slot.room.isEmpty, rooms[slot.documentID] === slot else { return }
        if let timer = slot.timerID { loop.cancelTimer(timer) }
        rooms[slot.documentID] = nil
        service.cluster?.detach(documentID: slot.documentID)
        service.metrics.documents.decrement()
        service.metrics.removeDocument(slot)
    }

    private func addMember(_ reference: ConnectionReference) {
        if let entry = members[reference.id] {
            members[reference.id] = (entry.reference, entry.rooms + 1)
        } else {
            members[reference.id] = (reference, 1)
        }
    }

    private func removeMember(_ id: MemberID) {
        guard let entry = members[id] else { return }
        members[id] = entry.rooms > 1 ? (entry.reference, entry.rooms - 1) : nil
    }

    /// Arms the room's timer for its next deadline when that is earlier than the armed one.
    func arm(_ slot: RoomSlot) {
        guard let deadline = slot.room.nextDeadlineMs else { return }
        if let armed = slot.armedDeadlineMs, armed <= deadline { return }
        if let timer = slot.timerID { loop.cancelTimer(timer) }
        slot.armedDeadlineMs = deadline
        slot.timerID = loop.scheduleTimer(atNs: deadline * 1_000_000) { [weak self, weak slot] in
            guard let self, let slot else { return }
            slot.armedDeadlineMs = nil
            slot.timerID = nil
            slot.room.tick()
            self.service.metrics.documentChanged(slot, users: slot.room.userCount)
            self.dropIfEmpty(slot)
            if self.rooms[slot.documentID] === slot { self.arm(slot) }
        }
    }

    // MARK: - Output

    fileprivate func deliver(_ frame: OutgoingFrame, documentID: String, to recipients: [MemberID]) {
        let wire = WebSocketFrameEncoder.frame(service.binaryFrames ? .binary : .text, payload: frame.bytes)
        let key = Self.coalesceKey(frame.kind, documentID: documentID)
        var cursorReadMs: UInt64?
        if case .cursor = frame.kind { cursorReadMs = frame.createdMonotonicMs }
        let event = key == 0 ? nil : EventBatch.eventPayload(ofEnvelope: frame.bytes)
        for index in recipientsByLoop.indices { recipientsByLoop[index].removeAll(keepingCapacity: true) }
        for member in recipients {
            guard let entry = members[member] else { continue }
            recipientsByLoop[entry.reference.loop.index].append(entry.reference)
        }
        for index in recipientsByLoop.indices where !recipientsByLoop[index].isEmpty {
            pending[index].append(
                Delivery(documentID: documentID, event: event, wire: wire, coalesceKey: key,
                         cursorReadMs: cursorReadMs, recipients: recipientsByLoop[index]))
        }
        service.metrics.framesEncoded.increment()
    }

    /// Hands each loop its frames: the other loops first, so they start while this one queues
    /// the frames of its own connections.
    fileprivate func flushBatch() {
        var own: [Delivery]?
        for index in pending.indices where !pending[index].isEmpty {
            let batch = pending[index]
            pending[index].removeAll(keepingCapacity: true)
            let target = service.group.loops[index]
            if target === loop {
                own = batch
            } else {
                let service = self.service
                target.execute { service.apply(batch) }
            }
        }
        if let own { service.apply(own) }
    }

    /// A non-zero key per (kind, document, user) for frames that a newer one may replace in a send
    /// queue; 0 for frames that must all arrive.
    static func coalesceKey(_ kind: FrameKind, documentID: String) -> UInt64 {
        let tag: UInt8
        let userID: String
        switch kind {
        case .control: return 0
        case .cursor(let user): tag = 1; userID = user
        case .viewport(let user): tag = 2; userID = user
        case .typing(let user): tag = 3; userID = user
        }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(tag)
        for byte in documentID.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        hash = (hash ^ 0xFF) &* 0x100_0000_01b3
        for byte in userID.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash == 0 ? 1 : hash
    }
}

/// The `RoomOutput` of one room: tags frames with the document and forwards them to the loop.
private final class RoomFrameOutput: RoomOutput {
    unowned let owner: LoopPresence
    let documentID: String

    init(owner: LoopPresence, documentID: String) {
        self.owner = owner
        self.documentID = documentID
    }

    func deliver(_ frame: OutgoingFrame, to members: [MemberID]) {
        owner.deliver(frame, documentID: documentID, to: members)
    }

    func endOfBatch() {
        owner.flushBatch()
    }
}
