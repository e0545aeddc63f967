extension GatewayConfig {
    /// `[redis]`: the shared store for several gateway nodes. With neither `url` nor `urls` set, the
    /// gateway keeps presence in memory and runs as a single node.
    struct Redis: Decodable, Equatable, Sendable {
        /// Servers in the order given: one from `url`, or the shards from `urls`; empty when embedded.
        var endpoints: [RedisEndpoint]
        /// Stream that joins and leaves are appended to.
        var stream: String
        /// Approximate cap of the stream (`XADD … MAXLEN ~`), in entries.
        var streamMaxLength: Int
        /// Time without a heartbeat after which a node counts as dead and its users are removed, in milliseconds.
        var nodeTimeoutMs: Int
        /// This node's id in Redis keys; empty generates one at start.
        var nodeID: String
        /// Time between this node's heartbeats, in milliseconds.
        var heartbeatIntervalMs: Int

        /// Whether presence stays in this process's memory.
        var isEmbedded: Bool { endpoints.isEmpty }

        init(from decoder: any Decoder) throws {
            let reader = try ConfigTableReader(decoder)
            let url = try reader.string("url", default: "")
            let urls = try reader.strings("urls", default: [])
            stream = try reader.string("stream", default: "materi:events:presence")
            streamMaxLength = try reader.integer("stream_maxlen", default: 100_000, range: 1...1_000_000_000)
            nodeTimeoutMs = try reader.integer("node_timeout_ms", default: 10_000, range: 1_000...3_600_000)
            nodeID = try reader.string("node_id", default: "")
            heartbeatIntervalMs = try reader.integer("heartbeat_interval_ms", default: 2_000, range: 100...600_000)
            try reader.finishReading()

            if !url.isEmpty && !urls.isEmpty {
                throw ConfigError(
                    .conflict(
                        paths: [reader.keyPath("url"), reader.keyPath("urls")],
                        reason: "\(reader.keyPath("url")) and \(reader.keyPath("urls")) are both set. Use url for "
                            + "one Redis server or urls to shard over several, not both."))
            }
            if url.isEmpty {
                endpoints = try urls.enumerated().map { index, text in
                    try Redis.endpoint(text, path: reader.keyPath("urls") + "[\(index)]")
                }
            } else {
                endpoints = [try Redis.endpoint(url, path: reader.keyPath("url"))]
            }
            if Set(endpoints.map { "\($0.host):\($0.port)/\($0.database)" }).count != endpoints.count {
                throw ConfigError(
                    .invalidValue(
                        path: reader.keyPath("urls"), value: "[…]",
                        reason: "it lists the same server and database twice, so two shards would share keys"))
            }
            try validateNames(reader)
        }

        private func validateNames(_ reader: ConfigTableReader) throws {
            if stream.isEmpty || stream.contains(where: \.isWhitespace) {
                throw ConfigError(
                    .invalidValue(
                        path: reader.keyPath("stream"), value: reader.displayedValue("stream"),
                        reason: "a stream key must be non-empty and without whitespace, such as \"materi:events:presence\""))
            }
            let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
            if nodeID.count > 64 || !nodeID.allSatisfy(allowed.contains) {
                throw ConfigError(
                    .invalidValue(
                        path: reader.keyPath("node_id"), value: reader.displayedValue("node_id"),
                        reason: "a node id is at most 64 letters, digits, '.', '_' or '-', because it becomes "
                            + "part of Redis keys. Leave it empty to generate one"))
            }
            if nodeTimeoutMs < 2 * heartbeatIntervalMs {
                let timeout = reader.keyPath("node_timeout_ms")
                let heartbeat = reader.keyPath("heartbeat_interval_ms")
                throw ConfigError(
                    .conflict(
                        paths: [timeout, heartbeat],
                        reason: "\(timeout) (\(nodeTimeoutMs)) must be at least twice \(heartbeat) "
                            + "(\(heartbeatIntervalMs)), or a live node that misses one heartbeat would be "
                            + "declared dead. Raise \(timeout) or lower \(heartbeat)."))
            }
        }

        private static func endpoint(_ text: String, path: String) throws -> RedisEndpoint {
            do {
                return try RedisEndpoint(parsing: text)
            } catch {
                var shown = ""
                JSONValue.appendQuoted(RedisEndpoint.maskingPassword(in: text), to: &shown)
                throw ConfigError(.invalidValue(path: path, value: shown, reason: error.reason))
            }
        }
    }
}
