extension GatewayConfig {
    /// `[plugins]`: the Lua plugins in `dir` and the limits each hook call runs under.
    struct Plugins: Decodable, Equatable, Sendable {
        /// Directory watched for `*.lua` files, relative to the working directory.
        var dir: String
        var enabled: Bool
        /// Lua VM instructions one hook call may run before it is stopped.
        var instructionLimit: Int
        /// Memory one Lua state may allocate, in MiB.
        var memoryLimitMB: Int
        /// Errors in a row after which a plugin is disabled until its file changes.
        var maxConsecutiveErrors: Int
        /// Quiet time after the last file change before a reload starts, in milliseconds.
        var reloadDebounceMs: Int
        /// `[plugins.config.NAME]` tables as compact JSON objects by plugin name, handed to each
        /// plugin as `plugin.config`.
        var config: [String: String]

        init(from decoder: any Decoder) throws {
            let reader = try ConfigTableReader(decoder)
            dir = try reader.string("dir", default: "plugins")
            enabled = try reader.boolean("enabled", default: true)
            instructionLimit = try reader.integer("instruction_limit", default: 1_000_000, range: 1_000...1_000_000_000)
            memoryLimitMB = try reader.integer("memory_limit_mb", default: 64, range: 1...4_096)
            maxConsecutiveErrors = try reader.integer("max_consecutive_errors", default: 20, range: 1...1_000_000)
            reloadDebounceMs = try reader.integer("reload_debounce_ms", default: 200, range: 0...60_000)
            config = try Plugins.pluginTables(reader)
            try reader.finishReading()

            if enabled && dir.isEmpty {
                throw ConfigError(
                    .invalidValue(
                        path: reader.keyPath("dir"), value: "\"\"",
                        reason: "plugins are enabled but no directory is given. Set a directory such as "
                            + "\"plugins\", or set \(reader.keyPath("enabled")) = false"))
            }
        }

        private static func pluginTables(_ reader: ConfigTableReader) throws -> [String: String] {
            guard let value = try reader.anyValue("config") else { return [:] }
            guard case .object(let tables) = value else {
                throw ConfigError(
                    .wrongType(
                        path: reader.keyPath("config"), value: value.tomlText,
                        expected: "tables named after plugins, such as [plugins.config.brand-palette]"))
            }
            var result: [String: String] = [:]
            for (name, table) in tables {
                guard case .object = table else {
                    throw ConfigError(
                        .wrongType(
                            path: reader.keyPath("config") + "." + name, value: table.tomlText,
                            expected: "a table, written as [plugins.config.\(name)] followed by its keys"))
                }
                result[name] = table.jsonText
            }
            return result
        }
    }
}
