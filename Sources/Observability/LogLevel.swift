/// Severity of a log entry, with the same names and order as swift-log's `Logger.Level`.
public enum LogLevel: UInt8, Sendable, CaseIterable, Comparable, CustomStringConvertible {
    case trace
    case debug
    case info
    case notice
    case warning
    case error
    case critical

    /// Creates a level from its lowercase name as written in `[log] level` (`"info"`), or nil.
    public init?(name: String) {
        guard let level = LogLevel.allCases.first(where: { $0.name == name }) else { return nil }
        self = level
    }

    /// Lowercase name as written in configuration files and in log lines.
    public var name: String {
        switch self {
        case .trace: "trace"
        case .debug: "debug"
        case .info: "info"
        case .notice: "notice"
        case .warning: "warning"
        case .error: "error"
        case .critical: "critical"
        }
    }

    public var description: String { name }

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool {
        lhs.rawValue < rhs.rawValue
    }
}

/// Layout of each log line on the output.
public enum LogFormat: String, Sendable, CaseIterable {
    /// `2026-12-04T19:00:00.123Z info gateway: listener started listen.address=127.0.0.1:8080`
    case text
    /// One JSON object per line: `{"ts":"…","level":"info","label":"gateway","message":"…",…}`
    case json
}
