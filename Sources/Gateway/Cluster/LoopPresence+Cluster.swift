import PresenceCore
import Redis

extension LoopPresence {
    /// Applies another node's event to the open room of `documentID`, if any.
    func applyRemote(documentID: String, event: PresenceEvent, from nodeID: String) {
        guard let slot = rooms[documentID] else { return }
        slot.room.applyRemote(event, from: nodeID)
        arm(slot)
    }

    /// Sends the snapshots a new room held back, when its first load from Redis is late.
    func finishRemoteLoad(documentID: String) {
        guard let slot = rooms[documentID] else { return }
        slot.room.finishRemoteLoad()
        arm(slot)
    }

    /// Marks, in the open room of `documentID`, that the load `loadID` was sent.
    func remoteLoadSent(documentID: String, loadID: UInt64) {
        rooms[documentID]?.room.remoteLoadSent(id: loadID)
    }

    /// Forgets the load `loadID`, which failed.
    func remoteLoadFailed(documentID: String, loadID: UInt64) {
        rooms[documentID]?.room.remoteLoadFailed(id: loadID)
    }

    /// Makes the open room of `documentID` match a state loaded from Redis. Nodes that are not
    /// live keep their holdings until `dropMissingNodes` gives up on them, because after Redis lost
    /// its data they may not have written their presence back yet.
    func reconcileRemote(documentID: String, snapshot: DocumentSnapshot, selfNodeID: String, loadID: UInt64) {
        guard let slot = rooms[documentID] else { return }
        var holders: [String: Set<String>] = [:]
        for (userID, nodes) in snapshot.holders {
            let others = Set(nodes).subtracting([selfNodeID])
            if !others.isEmpty { holders[userID] = others }
        }
        let unverified = slot.room.remoteNodes.subtracting(snapshot.liveNodes)
        let isStale = slot.room.reconcileRemote(
            users: snapshot.users, holders: holders, unverifiedNodes: unverified, loadID: loadID)
        arm(slot)
        if isStale { service.cluster?.reload(documentID: documentID) }
    }

    /// Returns the open documents in which any of `nodes` holds a user.
    func documents(heldBy nodes: Set<String>) -> [String] {
        rooms.values.filter { !$0.room.remoteNodes.isDisjoint(with: nodes) }.map(\.documentID)
    }

    /// Forgets, in every open room, the nodes that have been missing from `live` for `timeoutMs`.
    /// `absences` is this loop's record of when each node was first seen missing.
    func dropMissingNodes(live: Set<String>, timeoutMs: UInt64, absences: NodeAbsences) {
        var absentSince = absences.firstMissingMs
        defer { absences.firstMissingMs = absentSince }
        let nowMs = service.clock.monotonicMs
        var present: Set<String> = []
        for slot in rooms.values {
            present.formUnion(slot.room.remoteNodes)
        }
        absentSince = absentSince.filter { present.contains($0.key) && !live.contains($0.key) }
        var expired: [String] = []
        for node in present where !live.contains(node) {
            let since = absentSince[node] ?? nowMs
            absentSince[node] = since
            if nowMs - since >= timeoutMs { expired.append(node) }
        }
        guard !expired.isEmpty else { return }
        service.logger.notice(
            "forgetting the users of nodes missing from Redis", metadata: ["nodes": expired.sorted().joined(separator: ",")])
        for slot in Array(rooms.values) {
            for node in expired where slot.room.remoteNodes.contains(node) {
                slot.room.dropRemoteNode(node)
            }
            arm(slot)
        }
        for node in expired { absentSince[node] = nil }
    }
}
