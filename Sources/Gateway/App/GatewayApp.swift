import CLinux
import Foundation
import LuaBridge
import Observability
import PresenceCore
import Redis
import Synchronization
import Transport

#if canImport(Glibc)
import Glibc
#endif

/// The running gateway: event loops, the public and admin listeners, presence, and signals.
final class GatewayApp {
    private var config: GatewayConfig
    private let configPath: String
    private let live: LiveSettings
    private let logger: Logger
    private let registry: MetricsRegistry
    private var group: EventLoopGroup?
    private var service: PresenceService?
    private var cluster: ClusterPresence?
    private var publicServer: HTTPServer?
    private var adminServer: HTTPServer?
    private var plugins: PluginManager?
    private var pluginWatcher: PluginDirectoryWatcher?
    private let stopping = StoppingFlag()

    init(config: GatewayConfig, configPath: String, logger: Logger) {
        self.config = config
        self.configPath = configPath
        live = LiveSettings(session: config.sessionSettings, presence: config.presenceConfig)
        self.logger = logger
        registry = MetricsRegistry(namespace: config.metrics.namespace)
    }

    /// Starts everything, then blocks until SIGTERM or SIGINT and shuts down; returns the exit code.
    func run() -> Int32 {
        // Signals are blocked before any thread starts so that every thread inherits the mask and
        // only the signalfd below receives them.
        let signals = clinux_signalfd_for_shutdown_signals()
        guard signals >= 0 else {
            logger.critical("cannot set up signal handling", metadata: ["error": String(cString: strerror(errno))])
            return 1
        }
        let limit = clinux_raise_nofile_limit()
        logger.info("file descriptor limit raised to the hard limit", metadata: ["limit": "\(limit)"])
        if config.auth.mode == .none {
            logger.warning("authentication is off ([auth] mode = \"none\"): clients choose their own identity; use only for development")
        }
        do {
            try start()
        } catch {
            logger.critical("gateway failed to start", metadata: ["error": "\(error)"])
            return 1
        }
        while true {
            let signal = clinux_read_signal(signals)
            if signal == SIGHUP {
                logger.info("SIGHUP received; reloading the configuration and plugins")
                reloadConfiguration()
                reloadPlugins()
                continue
            }
            if signal == SIGTERM || signal == SIGINT {
                logger.notice("shutting down", metadata: ["signal": signal == SIGTERM ? "SIGTERM" : "SIGINT"])
                shutdown()
                return 0
            }
        }
    }

    private func start() throws {
        let group = try EventLoopGroup(count: config.server.eventLoops)
        self.group = group
        logger.info("event loops started", metadata: ["event_loops": "\(group.loops.count)"])

        let cluster: ClusterPresence? = config.redis.isEmbedded
            ? nil
            : try ClusterPresence(
                configuration: RedisStoreConfiguration(gateway: config), registry: registry,
                logger: logger.with(["component": "redis"]))
        self.cluster = cluster
        let store: PresenceStore = cluster?.store ?? InMemoryPresenceStore()
        let metrics = PresenceMetrics(registry: registry, perDocumentLabels: config.metrics.perDocumentLabels)
        let plugins = try startPlugins()
        self.plugins = plugins
        let service = PresenceService(
            group: group, live: live, store: store, metrics: metrics,
            logger: logger.with(["component": "presence"]), binaryFrames: config.server.binaryFrames,
            cluster: cluster, makePolicy: { _ in
                // Each loop gets its own Lua state; it picks up every published reload between events.
                if let plugins { return LuaPolicy(manager: plugins) as PresencePolicy }
                return DefaultPresencePolicy()
            })
        self.service = service
        cluster?.start(service: service)

        let tls: TLSContext? = config.server.tls.isEnabled
            ? try TLSContext(certificateFile: config.server.tls.certFile, privateKeyFile: config.server.tls.keyFile)
            : nil
        let authenticator = try ClientAuthenticator(
            auth: config.auth, registry: registry, logger: logger.with(["component": "auth"]))
        let publicRoutes = PublicRoutes(
            service: service, live: live, authenticator: authenticator, echoPath: config.server.echoPath,
            staticFiles: config.server.webRoot.isEmpty ? nil : StaticFiles(root: config.server.webRoot),
            logger: logger.with(["component": "session"]))
        let publicServer = HTTPServer(
            configuration: config.publicListener, group: group, tls: tls, registry: registry,
            logger: logger) { request, connection in publicRoutes.route(request, connection) }
        publicServer.maxConnections = config.server.maxConnections
        publicServer.maxConnectionsPerHost = config.server.maxConnectionsPerIP
        self.publicServer = publicServer

        let stopping = self.stopping
        let adminRoutes = AdminRoutes(
            store: store, registry: registry, token: config.admin.token, clock: service.clock,
            readiness: {
                if stopping.isSet { return (false, "stopping") }
                // A Redis outage keeps the node serving its own clients, so it stays ready.
                return (true, cluster?.isDegraded == true ? "degraded" : "ready")
            },
            pluginStatus: { plugins.map { encodeJSON($0.status()) } },
            reloadPlugins: { plugins.map { encodeJSON($0.reload()) } })
        let adminServer = HTTPServer(
            configuration: config.adminListener, group: group, registry: registry,
            logger: logger) { request, connection in adminRoutes.route(request, connection) }
        self.adminServer = adminServer

        try publicServer.start()
        try adminServer.start()
        logger.notice("gateway started", metadata: [
            "version": GatewayVersion.current, "listen.address": "\(publicServer.boundAddress!)",
            "admin.address": "\(adminServer.boundAddress!)",
        ])
    }

    /// Loads every plugin once and starts watching the folder; nil when plugins are off.
    private func startPlugins() throws -> PluginManager? {
        guard config.plugins.enabled else {
            logger.info("plugins are disabled", metadata: ["plugins.dir": config.plugins.dir])
            return nil
        }
        let manager = PluginManager(
            settings: config.pluginSettings, logger: Logger(label: "plugins"), metrics: PluginMetrics(registry: registry))
        let summary = manager.reload()
        logger.info("plugins loaded", metadata: [
            "plugins.dir": config.plugins.dir, "plugins.loaded": "\(summary.loaded.count)",
            "plugins.failed": "\(summary.failures.count)", "plugins.version": "\(summary.version)",
        ])
        do {
            let watcher = try PluginDirectoryWatcher(
                directory: config.plugins.dir, debounceMs: Int32(config.plugins.reloadDebounceMs)
            ) { [logger] in
                let summary = manager.reload()
                logger.info("plugins reloaded after a file change", metadata: [
                    "plugins.result": summary.result.rawValue, "plugins.version": "\(summary.version)",
                ])
            }
            watcher.start()
            pluginWatcher = watcher
        } catch {
            logger.error("cannot watch the plugin folder; reload with SIGHUP or POST /admin/plugins/reload instead",
                         metadata: ["plugins.dir": config.plugins.dir, "error": "\(error)"])
        }
        return manager
    }

    /// Re-reads the configuration file and applies what can change while running: log level and
    /// format, session limits (for new connections), presence timings (for documents opened from
    /// now on) and plugin configs. Everything else is logged as needing a restart. An invalid file
    /// changes nothing.
    private func reloadConfiguration() {
        let fresh: GatewayConfig
        do {
            fresh = try GatewayConfig.load(path: configPath)
        } catch {
            logger.error("configuration reload failed; the running configuration stays", metadata: [
                "config.path": configPath, "error": error.description,
            ])
            return
        }
        let applied = ConfigDifference.applied(config, fresh)
        let restart = ConfigDifference.needingRestart(config, fresh)
        LogSink.shared.configure(level: fresh.log.level, format: fresh.log.format)
        live.update(session: fresh.sessionSettings, presence: fresh.presenceConfig)
        plugins?.updateConfigs(fresh.plugins.config)
        // Keep the running values of the keys that need a restart, so a later reload compares
        // against what actually runs.
        var running = config
        running.log = fresh.log
        running.presence = fresh.presence
        running.plugins.config = fresh.plugins.config
        running.server.maxDocumentsPerConnection = fresh.server.maxDocumentsPerConnection
        running.server.messagesPerSecond = fresh.server.messagesPerSecond
        running.server.maxJSONDepth = fresh.server.maxJSONDepth
        config = running
        logger.notice("configuration reloaded", metadata: [
            "config.path": configPath,
            "config.applied": applied.isEmpty ? "none" : applied.joined(separator: ","),
            "config.needs_restart": restart.isEmpty ? "none" : restart.joined(separator: ","),
        ])
    }

    private func reloadPlugins() {
        guard let plugins else {
            logger.info("plugins are disabled; nothing to reload")
            return
        }
        let summary = plugins.reload()
        logger.info("plugins reloaded", metadata: [
            "plugins.result": summary.result.rawValue, "plugins.version": "\(summary.version)",
            "plugins.loaded": "\(summary.loaded.count)", "plugins.failed": "\(summary.failures.count)",
        ])
    }

    /// Stops accepting, sends every member a `UserLeft` for each local user, closes each WebSocket with
    /// 1001 and waits for the sockets to close, at most `shutdown_timeout_ms`.
    private func shutdown() {
        stopping.set()
        publicServer?.stopAccepting()
        adminServer?.stopAccepting()
        service?.removeEveryone()
        cluster?.shutdown()
        publicServer?.closeAll(code: WebSocketCloseCode.goingAway, reason: "server shutting down")
        let deadline = clinux_monotonic_ns() + UInt64(config.server.shutdownTimeoutMs) * 1_000_000
        while (publicServer?.connectionCount ?? 0) > 0 && clinux_monotonic_ns() < deadline {
            usleep(5000)
        }
        adminServer?.closeAll(code: WebSocketCloseCode.goingAway, reason: "server shutting down")
        let left = publicServer?.connectionCount ?? 0
        pluginWatcher?.stop()
        group?.stop()
        logger.notice("gateway stopped", metadata: ["connections.left_open": "\(left)"])
    }
}

/// A flag set once from the signal thread and read from any loop.
final class StoppingFlag: Sendable {
    private let value = Synchronization.Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .relaxed) }
    func set() { value.store(true, ordering: .relaxed) }
}
