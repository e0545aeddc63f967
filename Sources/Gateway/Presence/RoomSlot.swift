import PresenceCore
import Transport

/// A room with its timer, owned by one event loop.
final class RoomSlot {
    let room: DocumentRoom
    let documentID: String
    let workspaceID: String
    /// Connections joined to the room through this gateway.
    var members: Set<MemberID> = []
    /// The user count last written to the active-users gauge.
    var reportedUsers = 0
    /// Monotonic milliseconds of the armed timer, if any.
    var armedDeadlineMs: UInt64?
    var timerID: UInt64?

    init(room: DocumentRoom, documentID: String, workspaceID: String) {
        self.room = room
        self.documentID = documentID
        self.workspaceID = workspaceID
    }
}
