import PresenceCore
import Synchronization

/// The settings that SIGHUP may change while the gateway runs: session limits, which apply to
/// connections opened afterwards, and presence timings, which apply to documents opened afterwards.
final class LiveSettings: Sendable {
    private struct Values {
        var session: SessionSettings
        var presence: PresenceConfig
    }

    private let values: Mutex<Values>

    init(session: SessionSettings, presence: PresenceConfig) {
        values = Mutex(Values(session: session, presence: presence))
    }

    var session: SessionSettings { values.withLock { $0.session } }
    var presence: PresenceConfig { values.withLock { $0.presence } }

    func update(session: SessionSettings, presence: PresenceConfig) {
        values.withLock {
            $0.session = session
            $0.presence = presence
        }
    }
}

/// Compares two configurations key by key for a SIGHUP reload.
enum ConfigDifference {
    /// Key paths whose new value the running gateway applies.
    static func applied(_ old: GatewayConfig, _ new: GatewayConfig) -> [String] {
        var keys: [String] = []
        func check<T: Equatable>(_ key: String, _ value: (GatewayConfig) -> T) {
            if value(old) != value(new) { keys.append(key) }
        }
        check("log.level") { $0.log.level }
        check("log.format") { $0.log.format }
        check("server.max_documents_per_connection") { $0.server.maxDocumentsPerConnection }
        check("server.messages_per_second") { $0.server.messagesPerSecond }
        check("server.max_json_depth") { $0.server.maxJSONDepth }
        check("presence") { $0.presence }
        check("plugins.config") { $0.plugins.config }
        return keys
    }

    /// Key paths whose new value takes effect only after a restart.
    static func needingRestart(_ old: GatewayConfig, _ new: GatewayConfig) -> [String] {
        var keys: [String] = []
        func check<T: Equatable>(_ key: String, _ value: (GatewayConfig) -> T) {
            if value(old) != value(new) { keys.append(key) }
        }
        check("server.listen") { $0.server.listen }
        check("server.event_loops") { $0.server.eventLoops }
        check("server.max_message_bytes") { $0.server.maxMessageBytes }
        check("server.tls") { $0.server.tls }
        check("server.ping_interval_ms") { $0.server.pingIntervalMs }
        check("server.pong_timeout_ms") { $0.server.pongTimeoutMs }
        check("server.send_queue_bytes") { $0.server.sendQueueBytes }
        check("server.allowed_origins") { $0.server.allowedOrigins }
        check("server.handshake_timeout_ms") { $0.server.handshakeTimeoutMs }
        check("server.max_connections") { $0.server.maxConnections }
        check("server.max_connections_per_ip") { $0.server.maxConnectionsPerIP }
        check("server.echo_path") { $0.server.echoPath }
        check("server.web_root") { $0.server.webRoot }
        check("server.binary_frames") { $0.server.binaryFrames }
        check("server.shutdown_timeout_ms") { $0.server.shutdownTimeoutMs }
        check("admin") { $0.admin }
        check("metrics") { $0.metrics }
        check("plugins.dir") { $0.plugins.dir }
        check("plugins.enabled") { $0.plugins.enabled }
        check("plugins.instruction_limit") { $0.plugins.instructionLimit }
        check("plugins.memory_limit_mb") { $0.plugins.memoryLimitMB }
        check("plugins.max_consecutive_errors") { $0.plugins.maxConsecutiveErrors }
        check("redis") { $0.redis }
        check("auth") { $0.auth }
        return keys
    }
}
