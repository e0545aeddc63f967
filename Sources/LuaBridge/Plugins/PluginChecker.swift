import Observability

/// The load checks a plugin file passes before any loop runs it, in a scratch Lua state with the
/// configured limits. The file must compile as text and its top level must run within the budget.
/// The table it returns must follow the plugin API, and its config must convert to a table.
enum PluginChecker {
    static func check(
        file: String, source: [UInt8], contentHash: String, configs: [String: String], settings: PluginSettings,
        logger: Logger, now: UInt64
    ) -> Result<LoadedPlugin, PluginError> {
        guard source.count <= PluginSettings.maxFileBytes else {
            return .failure(
                PluginError(
                    kind: "invalid_value",
                    message: "file is \(source.count) bytes, more than the limit of \(PluginSettings.maxFileBytes)",
                    file: file, atMs: now))
        }

        let pluginLogger = logger.with(["plugin.file": file])
        do {
            let runtime = try LuaRuntime(
                memoryLimitBytes: settings.memoryLimitBytes, instructionLimit: settings.instructionLimit
            ) { _, level, message in
                pluginLogger.log(LogLevel(pluginLevel: level), message)
            }
            let handle = try runtime.load(source: source, chunkName: file)
            let definition: PluginDefinition
            let config: LuaValue
            do {
                definition = try PluginDefinition(describing: try runtime.describe(handle: handle))
                config = try PluginConfig.table(fromJSON: configs[definition.name])
            } catch let error as PluginDefinitionError {
                return .failure(PluginError(kind: "invalid_value", message: error.message, file: file, atMs: now))
            }
            try runtime.setConfig(handle: handle, config: config)
            return .success(
                LoadedPlugin(
                    definition: definition, file: file, source: source, contentHash: contentHash, loadedAtMs: now,
                    config: config, configText: configs[definition.name]))
        } catch let failure as LuaFailure {
            return .failure(
                PluginError(
                    kind: failure.kind.rawValue, message: failure.message, file: failure.file ?? file,
                    line: failure.line, atMs: now))
        } catch {
            return .failure(PluginError(kind: "error", message: "\(error)", file: file, atMs: now))
        }
    }
}

extension LogLevel {
    init(pluginLevel: PluginLogLevel) {
        switch pluginLevel {
        case .debug: self = .debug
        case .info: self = .info
        case .warning: self = .warning
        case .error: self = .error
        }
    }
}
