import CLua

/// The level of a `gateway.log` call.
public enum PluginLogLevel: Int32, Sendable {
    case debug = 0
    case info = 1
    case warning = 2
    case error = 3
}

/// One sandboxed Lua state (see CLua.h) with the plugins loaded into it.
///
/// Not thread-safe: the thread that creates it is its only user until it is released, and the
/// state is closed in `deinit`. Each plugin gets an integer handle from `load`.
final class LuaRuntime {
    /// Receives `gateway.log` calls: the plugin handle, the level and the message.
    typealias LogHandler = (Int32, PluginLogLevel, String) -> Void

    /// Keeps the log handler alive at a stable address for the C callback's context pointer.
    private final class LogContext {
        let handler: LogHandler
        init(handler: @escaping LogHandler) { self.handler = handler }
    }

    private let runtime: OpaquePointer
    private let logContext: LogContext

    /// Creates a state limited to `memoryLimitBytes` whose every call may run about
    /// `instructionLimit` VM instructions (checked every 1,000).
    init(memoryLimitBytes: Int, instructionLimit: Int64, log: @escaping LogHandler) throws(LuaFailure) {
        let context = LogContext(handler: log)
        let callback: clua_log_callback = { context, handle, level, message, length in
            guard let context, let message else { return }
            let box = Unmanaged<LogContext>.fromOpaque(context).takeUnretainedValue()
            let bytes = UnsafeRawBufferPointer(start: message, count: length)
            box.handler(handle, PluginLogLevel(rawValue: level) ?? .info, String(decoding: bytes, as: UTF8.self))
        }
        guard
            let created = clua_runtime_create(
                memoryLimitBytes, instructionLimit, callback, Unmanaged.passUnretained(context).toOpaque())
        else {
            throw LuaFailure(
                kind: .unavailable,
                message: "could not create a Lua state within the memory limit of \(memoryLimitBytes) bytes")
        }
        runtime = created
        logContext = context
    }

    deinit {
        clua_runtime_destroy(runtime)
    }

    /// Bytes the state has allocated.
    var memoryUsed: Int { clua_runtime_memory_used(runtime) }

    /// Compiles `source` as text, runs its top level under the budget and returns the new plugin's
    /// handle. `chunkName` is the name error messages use for the file.
    func load(source: [UInt8], chunkName: String) throws(LuaFailure) -> Int32 {
        var handle: Int32 = 0
        let status = source.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { characters in
                clua_plugin_load(runtime, characters.baseAddress, characters.count, "@" + chunkName, &handle)
            }
        }
        guard status == Int32(CLUA_OK.rawValue) else { throw LuaFailure(status: status, runtime: runtime) }
        return handle
    }

    /// Returns the plugin's table one level deep, with functions as `.opaque`.
    func describe(handle: Int32) throws(LuaFailure) -> LuaValue {
        var output: UnsafePointer<UInt8>?
        var length = 0
        let status = clua_plugin_describe(runtime, handle, &output, &length)
        guard status == Int32(CLUA_OK.rawValue) else { throw LuaFailure(status: status, runtime: runtime) }
        do {
            return try LuaValueCodec.decodeValue(UnsafeRawBufferPointer(start: output, count: length))
        } catch {
            throw LuaFailure(kind: .invalidValue, message: error.description)
        }
    }

    /// Sets the plugin's read-only `config` field to `config`, which must be a table.
    func setConfig(handle: Int32, config: LuaValue) throws(LuaFailure) {
        var bytes: [UInt8] = []
        LuaValueCodec.encode(config, into: &bytes)
        let status = bytes.withUnsafeBufferPointer { buffer in
            clua_plugin_set_config(runtime, handle, buffer.baseAddress, buffer.count)
        }
        guard status == Int32(CLUA_OK.rawValue) else { throw LuaFailure(status: status, runtime: runtime) }
    }

    /// Calls the plugin's `hook` with pre-encoded arguments and returns every value it returned
    /// (none when the plugin has no such hook).
    func call(handle: Int32, hook: String, arguments: [UInt8]) throws(LuaFailure) -> [LuaValue] {
        var output: UnsafePointer<UInt8>?
        var length = 0
        let status = arguments.withUnsafeBufferPointer { buffer in
            clua_plugin_call(runtime, handle, hook, buffer.baseAddress, buffer.count, &output, &length)
        }
        guard status == Int32(CLUA_OK.rawValue) else { throw LuaFailure(status: status, runtime: runtime) }
        do {
            return try LuaValueCodec.decodeResults(UnsafeRawBufferPointer(start: output, count: length))
        } catch {
            throw LuaFailure(kind: .invalidValue, message: error.description)
        }
    }
}

@available(*, unavailable, message: "a Lua state belongs to the thread that created it")
extension LuaRuntime: Sendable {}
