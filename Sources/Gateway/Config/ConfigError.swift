/// Reason a configuration file was rejected. `description` is a full sentence that names the file,
/// the key path and the value, and states what to change.
struct ConfigError: Error, Equatable, CustomStringConvertible {
    enum Kind: Equatable {
        /// The file could not be read; `reason` is the system's message.
        case unreadableFile(reason: String)
        /// toml++ rejected the text; `message` starts with its line and column.
        case syntax(message: String)
        /// A key that no section defines, with the closest known key path when one is close.
        case unknownKey(path: String, suggestion: String?)
        /// A value of the wrong TOML type; `expected` reads like "an integer".
        case wrongType(path: String, value: String, expected: String)
        /// A number outside its allowed range; `range` reads like "from 1 to 65535".
        case outOfRange(path: String, value: String, range: String)
        /// A value of the right type that is still unusable; `reason` completes "… is invalid because".
        case invalidValue(path: String, value: String, reason: String)
        /// Keys that contradict each other; `reason` is a full sentence that names them.
        case conflict(paths: [String], reason: String)
    }

    var kind: Kind
    /// Path of the file as given on the command line, or nil for text that did not come from a file.
    var file: String?

    init(_ kind: Kind, file: String? = nil) {
        self.kind = kind
        self.file = file
    }

    /// The key path the error is about, if it is about one key.
    var keyPath: String? {
        switch kind {
        case .unknownKey(let path, _), .wrongType(let path, _, _), .outOfRange(let path, _, _),
            .invalidValue(let path, _, _):
            path
        case .conflict(let paths, _):
            paths.first
        case .unreadableFile, .syntax:
            nil
        }
    }

    var description: String {
        let source = file ?? "the configuration"
        switch kind {
        case .unreadableFile(let reason):
            return "Cannot read the configuration file \(source): \(reason). Create it (the repository's "
                + "config.toml lists every key with its default) or pass another file with --config PATH."
        case .syntax(let message):
            return "\(source) is not valid TOML at \(message). Fix the syntax at that line and column."
        case .unknownKey(let path, let suggestion):
            if let suggestion {
                return "\(source): unknown key \(path). Did you mean \(suggestion)? Rename or remove the key."
            }
            return "\(source): unknown key \(path). Remove it, or see docs/configuration.md for the keys "
                + "of each section."
        case .wrongType(let path, let value, let expected):
            return "\(source): \(path) = \(value) has the wrong type. Change it to \(expected)."
        case .outOfRange(let path, let value, let range):
            return "\(source): \(path) = \(value) is out of range. Use a value \(range)."
        case .invalidValue(let path, let value, let reason):
            return "\(source): \(path) = \(value) is invalid because \(reason)."
        case .conflict(_, let reason):
            return "\(source): \(reason)"
        }
    }
}
