import Foundation

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
        print("configuration \(configPath) is valid")
        print("  public listener \(config.server.listen), admin listener \(config.admin.listen)")
        print("  store: \(config.redis.isEmbedded ? "embedded in-memory" : "redis"), auth: \(config.auth.mode.rawValue)")
        return 0
    }
}
