import PresenceCore

/// Maps a shard key (a document id) to one of several Redis servers by consistent hashing, so that
/// adding or removing a server moves only about 1/n of the keys.
///
/// Each server gets `pointsPerServer` points on a 64-bit ring, placed by the SeaHash of its address
/// and the point's index, so the mapping depends on the servers and not on their order in the
/// configuration. A key belongs to the server of the first point at or after the key's hash.
public struct ConsistentHashRing: Sendable {
    private let points: [(hash: UInt64, server: Int)]
    public let serverCount: Int

    /// - Parameter serverNames: one stable name per server, such as `host:port/db`; the index in
    ///   this list is the value `server(for:)` returns.
    public init(serverNames: [String], pointsPerServer: Int = 160) {
        precondition(!serverNames.isEmpty, "a hash ring needs at least one server")
        serverCount = serverNames.count
        var points: [(hash: UInt64, server: Int)] = []
        points.reserveCapacity(serverNames.count * pointsPerServer)
        for (index, name) in serverNames.enumerated() {
            for point in 0..<pointsPerServer {
                points.append((SeaHash.hash("\(name)#\(point)"), index))
            }
        }
        self.points = points.sorted { ($0.hash, $0.server) < ($1.hash, $1.server) }
    }

    /// The index of the server that owns `key`.
    public func server(for key: String) -> Int {
        guard serverCount > 1 else { return 0 }
        let hash = SeaHash.hash(key)
        var low = 0
        var high = points.count
        while low < high {
            let middle = (low + high) / 2
            if points[middle].hash < hash {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return points[low == points.count ? 0 : low].server
    }
}
