extension GatewayConfig {
    /// Method by which WebSocket clients prove their identity.
    enum AuthMode: String, Equatable, Sendable {
        /// Development: identity comes from the join message, and the gateway logs a warning at start.
        case none
        /// A JWT on the upgrade request (`?token=` or `Authorization: Bearer`).
        case jwt
    }

    /// `[auth]`: identity of WebSocket clients.
    struct Auth: Decodable, Equatable, Sendable {
        var mode: AuthMode
        /// HS256 key; at least 32 bytes, as RFC 7518 section 3.2 requires for HMAC-SHA-256.
        var jwtSecret: String
        /// PEM public key for RS256 or ES256 tokens.
        var jwtPublicKeyFile: String
        /// Clock skew allowed when checking `exp` and `nbf`, in seconds.
        var leewaySeconds: Int
        /// Required `iss` claim; empty accepts any.
        var issuer: String
        /// Required `aud` claim; empty accepts any.
        var audience: String

        init(from decoder: any Decoder) throws {
            let reader = try ConfigTableReader(decoder, secretKeys: ["jwt_secret"])
            mode = try reader.choice(
                "mode", default: "none", choices: [("none", AuthMode.none), ("jwt", AuthMode.jwt)])
            jwtSecret = try reader.string("jwt_secret", default: "")
            jwtPublicKeyFile = try reader.string("jwt_public_key_file", default: "")
            leewaySeconds = try reader.integer("leeway_seconds", default: 30, range: 0...3_600)
            issuer = try reader.string("issuer", default: "")
            audience = try reader.string("audience", default: "")
            try reader.finishReading()

            if !jwtSecret.isEmpty && jwtSecret.utf8.count < 32 {
                throw ConfigError(
                    .invalidValue(
                        path: reader.keyPath("jwt_secret"), value: "<redacted>",
                        reason: "it is \(jwtSecret.utf8.count) bytes long and an HS256 key needs at least 32 "
                            + "(RFC 7518 section 3.2). Generate one with `openssl rand -base64 48`"))
            }
            if mode == .jwt && jwtSecret.isEmpty && jwtPublicKeyFile.isEmpty {
                throw ConfigError(
                    .conflict(
                        paths: [reader.keyPath("mode"), reader.keyPath("jwt_secret"), reader.keyPath("jwt_public_key_file")],
                        reason: "\(reader.keyPath("mode")) = \"jwt\" needs a key to verify tokens. Set "
                            + "\(reader.keyPath("jwt_secret")) for HS256 or \(reader.keyPath("jwt_public_key_file")) "
                            + "for RS256 and ES256."))
            }
            if !jwtPublicKeyFile.isEmpty {
                try reader.requireReadableFile("jwt_public_key_file", jwtPublicKeyFile)
            }
        }
    }
}
