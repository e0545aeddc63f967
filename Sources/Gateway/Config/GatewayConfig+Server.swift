import Glibc

extension GatewayConfig {
    /// `[server]`: the public WebSocket listener and the limits every connection gets.
    struct Server: Decodable, Equatable, Sendable {
        /// Address of the public listener.
        var listen: ListenAddress
        /// Event loop threads; 0 starts one per CPU core.
        var eventLoops: Int
        /// Largest WebSocket message, after reassembling fragments, in bytes; larger ones close with 1009.
        var maxMessageBytes: Int
        /// Time between pings the gateway sends, in milliseconds.
        var pingIntervalMs: Int
        /// Time a peer has to answer a ping before it is closed, in milliseconds.
        var pongTimeoutMs: Int
        /// Bound of each connection's outgoing queue, in bytes.
        var sendQueueBytes: Int
        /// Accepted `Origin` header values; `"*"` accepts every origin.
        var allowedOrigins: [String]
        /// Path of the echo endpoint for conformance runs; empty turns it off.
        var echoPath: String
        /// Time SIGTERM or SIGINT waits for connections to close before exiting, in milliseconds.
        var shutdownTimeoutMs: Int
        var maxDocumentsPerConnection: Int
        /// Send events in binary frames instead of text frames (the JSON is the same).
        var binaryFrames: Bool
        /// Directory of static files served over HTTP; empty serves none.
        var webRoot: String
        /// Time a new connection has to complete its WebSocket handshake, in milliseconds.
        var handshakeTimeoutMs: Int
        var maxConnections: Int
        var maxConnectionsPerIP: Int
        /// Sustained messages per second per connection; a token bucket allows bursts of twice this.
        var messagesPerSecond: Int
        /// Deepest nesting of arrays and objects accepted in a client message.
        var maxJSONDepth: Int
        var tls: TLS

        init(from decoder: any Decoder) throws {
            let reader = try ConfigTableReader(decoder)
            listen = try reader.listenAddress("listen", default: "127.0.0.1:8080")
            eventLoops = try reader.integer("event_loops", default: 0, range: 0...1_024)
            maxMessageBytes = try reader.integer("max_message_bytes", default: 65_536, range: 1_024...1_073_741_824)
            pingIntervalMs = try reader.integer("ping_interval_ms", default: 10_000, range: 100...3_600_000)
            pongTimeoutMs = try reader.integer("pong_timeout_ms", default: 20_000, range: 100...3_600_000)
            sendQueueBytes = try reader.integer("send_queue_bytes", default: 1_048_576, range: 1_024...1_073_741_824)
            allowedOrigins = try reader.strings("allowed_origins", default: ["*"])
            echoPath = try reader.string("echo_path", default: "")
            shutdownTimeoutMs = try reader.integer("shutdown_timeout_ms", default: 5_000, range: 0...600_000)
            maxDocumentsPerConnection = try reader.integer("max_documents_per_connection", default: 32, range: 1...10_000)
            binaryFrames = try reader.boolean("binary_frames", default: false)
            webRoot = try reader.string("web_root", default: "web")
            handshakeTimeoutMs = try reader.integer("handshake_timeout_ms", default: 10_000, range: 100...600_000)
            maxConnections = try reader.integer("max_connections", default: 100_000, range: 1...10_000_000)
            maxConnectionsPerIP = try reader.integer("max_connections_per_ip", default: 1_000, range: 1...10_000_000)
            messagesPerSecond = try reader.integer("messages_per_second", default: 100, range: 1...1_000_000)
            maxJSONDepth = try reader.integer("max_json_depth", default: 32, range: 2...1_024)
            tls = try reader.table("tls")
            try reader.finishReading()

            try validateOrigins(reader)
            try validateEchoPath(reader)
        }

        private func validateOrigins(_ reader: ConfigTableReader) throws {
            guard !allowedOrigins.isEmpty else {
                throw ConfigError(
                    .invalidValue(
                        path: reader.keyPath("allowed_origins"), value: "[]",
                        reason: "it would reject every browser. Use [\"*\"] to accept all origins, or list them"))
            }
            for origin in allowedOrigins where origin != "*" {
                if let reason = Server.originProblem(origin) {
                    throw ConfigError(
                        .invalidValue(
                            path: reader.keyPath("allowed_origins"), value: "\"\(origin)\"",
                            reason: "\(reason). Write each origin as a browser sends it, such as "
                                + "\"https://docs.example.com\" or \"http://localhost:3000\", or use \"*\""))
                }
            }
        }

        /// Returns why `origin` can never equal an `Origin` header (scheme://host[:port]), or nil.
        static func originProblem(_ origin: String) -> String? {
            guard let schemeEnd = origin.range(of: "://") else { return "it has no scheme such as https://" }
            let scheme = origin[..<schemeEnd.lowerBound]
            guard scheme == "http" || scheme == "https" else { return "the scheme \"\(scheme)\" is not http or https" }
            let authority = origin[schemeEnd.upperBound...]
            if authority.isEmpty { return "it has no host" }
            if authority.contains("/") { return "an origin has no path, not even a trailing slash" }
            if authority.contains(where: { $0.isWhitespace }) { return "it contains whitespace" }
            return nil
        }

        private func validateEchoPath(_ reader: ConfigTableReader) throws {
            guard !echoPath.isEmpty else { return }
            let path = reader.keyPath("echo_path")
            let value = reader.displayedValue("echo_path")
            guard echoPath.hasPrefix("/") else {
                throw ConfigError(.invalidValue(path: path, value: value, reason: "a path must start with /, such as \"/echo\""))
            }
            guard !echoPath.contains(where: { $0.isWhitespace || $0 == "?" || $0 == "#" }) else {
                throw ConfigError(
                    .invalidValue(path: path, value: value, reason: "it contains whitespace, ? or #. Use a plain path such as \"/echo\""))
            }
            guard echoPath != "/v1/ws" else {
                throw ConfigError(
                    .invalidValue(path: path, value: value, reason: "/v1/ws is the presence endpoint. Use another path such as \"/echo\""))
            }
        }
    }

    /// `[server.tls]`: certificate and key for wss:// on the public listener; both empty means plain ws://.
    struct TLS: Decodable, Equatable, Sendable {
        /// PEM certificate chain file.
        var certFile: String
        /// PEM private key file.
        var keyFile: String

        var isEnabled: Bool { !certFile.isEmpty }

        init(from decoder: any Decoder) throws {
            let reader = try ConfigTableReader(decoder)
            certFile = try reader.string("cert_file", default: "")
            keyFile = try reader.string("key_file", default: "")
            try reader.finishReading()

            if certFile.isEmpty != keyFile.isEmpty {
                let (set, missing) = certFile.isEmpty ? ("key_file", "cert_file") : ("cert_file", "key_file")
                throw ConfigError(
                    .conflict(
                        paths: [reader.keyPath(missing), reader.keyPath(set)],
                        reason: "\(reader.keyPath(set)) is set but \(reader.keyPath(missing)) is empty. "
                            + "Set both for wss://, or leave both empty for plain ws://."))
            }
            if isEnabled {
                try reader.requireReadableFile("cert_file", certFile)
                try reader.requireReadableFile("key_file", keyFile)
            }
        }
    }
}

extension ConfigTableReader {
    func listenAddress(_ key: String, default defaultValue: String) throws -> ListenAddress {
        let text = try string(key, default: defaultValue)
        do {
            return try ListenAddress(parsing: text)
        } catch {
            throw ConfigError(.invalidValue(path: keyPath(key), value: displayedValue(key), reason: error.reason))
        }
    }

    /// Throws unless `file` names a readable file, because a missing certificate or key should stop
    /// `--check`, not the first TLS handshake.
    func requireReadableFile(_ key: String, _ file: String) throws {
        var status = stat()
        guard stat(file, &status) == 0 else {
            let reason = String(cString: strerror(errno))
            throw ConfigError(
                .invalidValue(
                    path: keyPath(key), value: displayedValue(key),
                    reason: "the file cannot be opened (\(reason)). Check the path, which is relative to the "
                        + "working directory"))
        }
        guard (status.st_mode & S_IFMT) == S_IFREG, access(file, R_OK) == 0 else {
            throw ConfigError(
                .invalidValue(
                    path: keyPath(key), value: displayedValue(key),
                    reason: "it is not a regular file that this user can read"))
        }
    }
}
