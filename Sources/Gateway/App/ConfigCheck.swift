import Foundation
import LuaBridge
import Observability

/// `presence-gateway --check`: validates the configuration (and, with plugins enabled, every
/// plugin) without starting anything. Prints what it found and returns the exit status.
enum ConfigCheck {
    static func run(configPath: String) -> Int32 {
        let config: GatewayConfig
        do {
            config = try GatewayConfig.load(path: configPath)
        } catch {
            FileHandle.standardError.write(Data("presence-gateway: \(error)\n".utf8))
            return 1
        }
        if config.auth.mode == .jwt {
            // Loading the key catches what reading the file cannot: no PEM key, a short RSA key, a wrong curve.
            do {
                _ = try TokenVerifier(auth: config.auth)
            } catch {
                FileHandle.standardError.write(Data("presence-gateway: \(error)\n".utf8))
                return 1
            }
        }
        print("configuration \(configPath) is valid")
        print("  public listener \(config.server.listen), admin listener \(config.admin.listen)")
        print("  store: \(config.redis.isEmbedded ? "embedded in-memory" : "redis"), auth: \(config.auth.mode.rawValue)")
        guard config.plugins.enabled else {
            print("  plugins: disabled")
            return 0
        }
        let manager = PluginManager(settings: config.pluginSettings, logger: Logger(label: "plugins"),
                                    metrics: PluginMetrics(registry: MetricsRegistry()))
        let summary = manager.reload()
        print("  plugins in \(config.plugins.dir): \(summary.loaded.count) loaded, \(summary.failures.count) failed")
        for failure in summary.failures {
            let line = failure.line.map { ":\($0)" } ?? ""
            FileHandle.standardError.write(Data("presence-gateway: plugin \(failure.file)\(line): \(failure.message)\n".utf8))
        }
        return summary.failures.isEmpty ? 0 : 1
    }
}
