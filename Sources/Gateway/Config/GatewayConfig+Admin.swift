extension GatewayConfig {
    /// `[admin]`: the listener for `/internal/presence`, `/metrics`, health checks and plugin admin.
    struct Admin: Decodable, Equatable, Sendable {
        var listen: ListenAddress
        /// Bearer token that every admin route but `/healthz` requires; empty requires none, which is
        /// accepted only on a loopback address.
        var token: String

        init(from decoder: any Decoder) throws {
            let reader = try ConfigTableReader(decoder, secretKeys: ["token"])
            listen = try reader.listenAddress("listen", default: "127.0.0.1:9090")
            token = try reader.string("token", default: "")
            try reader.finishReading()

            if token.isEmpty && !listen.isLoopback {
                throw ConfigError(
                    .conflict(
                        paths: [reader.keyPath("token"), reader.keyPath("listen")],
                        reason: "\(reader.keyPath("listen")) = \"\(listen)\" is reachable from other machines but "
                            + "\(reader.keyPath("token")) is empty, so anyone could read every user's presence. "
                            + "Set a token, or listen on 127.0.0.1."))
            }
        }
    }
}
