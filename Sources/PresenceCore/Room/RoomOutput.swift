/// One connection's membership in one room. The gateway passes its connection id.
public typealias MemberID = UInt64

/// The content class of an outgoing frame, from which a gateway under back-pressure can find the
/// frames that a later one replaces. A frame of kind `cursor`, `viewport` or `typing` is superseded
/// by a later frame of the same kind and user in the same document. `control` frames must all be
/// delivered.
public enum FrameKind: Sendable, Equatable {
    /// Snapshots, joins, leaves, errors, activity, idle and focus changes.
    case control
    case cursor(userID: String)
    case viewport(userID: String)
    case typing(userID: String)
}

/// One complete, encoded server message (a UTF-8 JSON text) for one or more members.
public struct OutgoingFrame: Sendable {
    public let bytes: [UInt8]
    public let kind: FrameKind
    /// The monotonic time at which the frame's cause arrived. For a cursor frame it is when the
    /// gateway read the cursor message, so the cursor latency metric is measured from here. For
    /// other frames it is when the room created the frame.
    public let createdMonotonicMs: UInt64

    public init(bytes: [UInt8], kind: FrameKind, createdMonotonicMs: UInt64) {
        self.bytes = bytes
        self.kind = kind
        self.createdMonotonicMs = createdMonotonicMs
    }
}

/// The receiver of a room's frames. The room calls it only on the thread that owns the room.
public protocol RoomOutput: AnyObject {
    /// Delivers one encoded frame to these members. The room encodes each event once and passes the
    /// same bytes to every recipient. Each member must receive its frames in call order.
    func deliver(_ frame: OutgoingFrame, to members: [MemberID])
    /// Marks the end of one room operation or tick that delivered at least one frame, so that the
    /// gateway can hand one batch to each event loop.
    func endOfBatch()
}
