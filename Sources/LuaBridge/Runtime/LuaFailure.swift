import CLua

/// The reason a call into Lua failed, with the position of the Lua code that was running when known.
public struct LuaFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable {
        /// The code raised an error.
        case runtimeError = "error"
        /// The chunk did not compile, or it was not text.
        case syntaxError = "syntax_error"
        case memoryLimit = "memory_limit"
        case instructionLimit = "instruction_limit"
        /// A value could not cross into or out of Lua, or a hook returned the wrong type.
        case invalidValue = "invalid_value"
        /// The Lua state could not be created or the plugin was not loaded in it.
        case unavailable = "unavailable"
    }

    public var kind: Kind
    /// The message without its "file:line:" prefix.
    public var message: String
    /// The chunk name (the plugin's file name), or nil when unknown.
    public var file: String?
    /// The line, or nil when unknown.
    public var line: Int?

    public init(kind: Kind, message: String, file: String? = nil, line: Int? = nil) {
        self.kind = kind
        self.message = message
        self.file = file
        self.line = line
    }

    /// "file:line: message", or as much of it as is known.
    public var description: String {
        switch (file, line) {
        case (let file?, let line?): "\(file):\(line): \(message)"
        case (let file?, nil): "\(file): \(message)"
        default: message
        }
    }

    /// Reads the last error of `runtime` after a call returned `status`.
    init(status: Int32, runtime: OpaquePointer) {
        switch clua_status(UInt32(status)) {
        case CLUA_ERROR_SYNTAX: kind = .syntaxError
        case CLUA_ERROR_MEMORY: kind = .memoryLimit
        case CLUA_ERROR_INSTRUCTIONS: kind = .instructionLimit
        case CLUA_ERROR_VALUE: kind = .invalidValue
        case CLUA_ERROR_NO_PLUGIN: kind = .unavailable
        default: kind = .runtimeError
        }
        var text = String(cString: clua_last_error_message(runtime))
        let source = String(cString: clua_last_error_source(runtime))
        let recordedLine = Int(clua_last_error_line(runtime))
        file = source.isEmpty ? nil : source
        line = recordedLine > 0 ? recordedLine : nil

        // Lua prefixes most messages with "chunk:line: ". Move that position into the fields, since
        // syntax errors carry it only in the message.
        if let (prefixFile, prefixLine, rest) = LuaFailure.splitPosition(text) {
            if file == nil || file == prefixFile {
                file = prefixFile
                line = line ?? prefixLine
                text = rest
            }
        }
        message = text
    }

    /// Splits "name:12: rest" into its parts, or returns nil when `text` has no such prefix.
    static func splitPosition(_ text: String) -> (String, Int, String)? {
        let parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, let line = Int(parts[1]), line > 0 else { return nil }
        let rest = parts[2].hasPrefix(" ") ? parts[2].dropFirst() : parts[2]
        return (String(parts[0]), line, String(rest))
    }
}
