import Foundation
import PresenceCore

/// A presence event sent from one node to the others on a document's channel, as JSON:
/// `{"node":"gw-1","sent_at":1733300000000,"event":{"UserLeft":"u1"}}`.
///
/// `UserJoined` from a node means that node now holds a connection of the user (or writes the user
/// back after a reconnect); `UserLeft` means it let go of its last one. The user leaves a document
/// when no node holds them.
public struct RelayMessage: Sendable, Equatable {
    public var nodeID: String
    /// Wall-clock ms at which the message was published, for the relay latency metric.
    public var sentAtMs: UInt64
    public var event: PresenceEvent

    public init(nodeID: String, sentAtMs: UInt64, event: PresenceEvent) {
        self.nodeID = nodeID
        self.sentAtMs = sentAtMs
        self.event = event
    }

    /// Returns the JSON form published on the channel.
    public func encoded() -> [UInt8] {
        var writer = JSONWriter()
        writer.appendRaw("{\"node\":")
        writer.appendString(nodeID)
        writer.appendRaw(",\"sent_at\":")
        writer.appendUInt64(sentAtMs)
        writer.appendRaw(",\"event\":")
        writer.appendRaw(ServerMessageEncoder.encode(event))
        writer.appendRaw("}")
        return writer.bytes
    }

    /// Decodes a published message; throws when it is not valid JSON of this shape.
    public init(decoding bytes: [UInt8]) throws {
        let wire = try JSONDecoder().decode(Wire.self, from: Data(bytes))
        self.init(nodeID: wire.node, sentAtMs: wire.sent_at, event: wire.event)
    }

    private struct Wire: Decodable {
        var node: String
        var sent_at: UInt64
        var event: PresenceEvent
    }
}

/// A document's presence as stored in Redis, for a node that starts relaying it.
public struct DocumentSnapshot: Sendable, Equatable {
    public var users: [UserPresence]
    /// For each user, the nodes that hold a connection of that user.
    public var holders: [String: [String]]
    /// Nodes whose heartbeat was fresh at the last check, this node included.
    public var liveNodes: Set<String>

    public init(users: [UserPresence], holders: [String: [String]], liveNodes: Set<String>) {
        self.users = users
        self.holders = holders
        self.liveNodes = liveNodes
    }
}
