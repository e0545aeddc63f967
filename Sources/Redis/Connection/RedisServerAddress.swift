/// Where one Redis server is and how to log in to it.
public struct RedisServerAddress: Sendable, Equatable, CustomStringConvertible {
    /// A host name, or an IPv4 or IPv6 address without brackets.
    public var host: String
    public var port: UInt16
    /// Sent with `AUTH` after connecting when set.
    public var password: String?
    /// Chosen with `SELECT` after connecting when not 0.
    public var database: Int

    public init(host: String, port: UInt16, password: String? = nil, database: Int = 0) {
        self.host = host
        self.port = port
        self.password = password
        self.database = database
    }

    /// The address with any password masked, safe to log.
    public var description: String {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        let auth = password == nil ? "" : ":***@"
        return "redis://\(auth)\(hostPart):\(port)/\(database)"
    }
}
