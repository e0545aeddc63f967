import LuaBridge
import PresenceCore
import Transport

/// The version printed by `--version` and logged at start.
enum GatewayVersion {
    static let current = String(LaunchCommand.versionText.split(separator: " ").last ?? "")
}

/// Conversions from the validated configuration to the settings of each module.
extension GatewayConfig {
    var presenceConfig: PresenceConfig {
        PresenceConfig(
            cursorThrottleMs: UInt64(presence.cursorThrottleMs),
            typingDebounceMs: UInt64(presence.typingDebounceMs),
            presenceTTLSeconds: UInt64(presence.presenceTTLSeconds),
            activityTimeoutMs: UInt64(presence.activityTimeoutMs),
            awayTimeoutMs: UInt64(presence.awayTimeoutMs),
            maxUsersPerDocument: presence.maxUsersPerDocument,
            flushIntervalMs: UInt64(presence.flushIntervalMs),
            maxDocumentsPerConnection: server.maxDocumentsPerConnection)
    }

    var sessionSettings: SessionSettings {
        SessionSettings(
            limits: ClientMessageLimits(maxMessageBytes: server.maxMessageBytes, maxDepth: server.maxJSONDepth),
            maxDocumentsPerConnection: server.maxDocumentsPerConnection,
            messagesPerSecond: Double(server.messagesPerSecond))
    }

    var pluginSettings: PluginSettings {
        PluginSettings(
            directory: plugins.dir, instructionLimit: Int64(plugins.instructionLimit),
            memoryLimitMB: plugins.memoryLimitMB, maxConsecutiveErrors: plugins.maxConsecutiveErrors,
            configs: plugins.config)
    }

    var publicListener: HTTPServerConfiguration {
        var listener = HTTPServerConfiguration(name: "public", listen: server.listen.socketAddress)
        listener.maxMessageBytes = server.maxMessageBytes
        listener.pingIntervalMs = UInt64(server.pingIntervalMs)
        listener.pongTimeoutMs = UInt64(server.pongTimeoutMs)
        listener.sendQueueBytes = server.sendQueueBytes
        listener.allowedOrigins = server.allowedOrigins
        listener.handshakeTimeoutMs = UInt64(server.handshakeTimeoutMs)
        return listener
    }

    var adminListener: HTTPServerConfiguration {
        var listener = HTTPServerConfiguration(name: "admin", listen: admin.listen.socketAddress)
        listener.handshakeTimeoutMs = 30_000
        return listener
    }
}

extension ListenAddress {
    /// The transport's form of the address; the config check already validated it.
    var socketAddress: SocketAddress {
        let text = isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)"
        guard let address = try? SocketAddress(parsing: text) else {
            preconditionFailure("validated listen address \(text) was rejected by the transport")
        }
        return address
    }
}
