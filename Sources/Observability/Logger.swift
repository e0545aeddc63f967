/// A structured logger: a label (the component, such as `gateway` or `transport`), metadata with
/// dotted keys (`connection.id`, `document.id`, `plugin.name`) and the shared `LogSink`.
///
/// A value type: copy it and add metadata for a connection or a document without touching the
/// original. Metadata given to one call overrides the logger's own for equal keys.
public struct Logger: Sendable {
    public let label: String
    public var metadata: [String: String]
    public let sink: LogSink

    public init(label: String, metadata: [String: String] = [:], sink: LogSink = .shared) {
        self.label = label
        self.metadata = metadata
        self.sink = sink
    }

    /// Returns a copy with `extra` added to the metadata.
    public func with(_ extra: [String: String]) -> Logger {
        var copy = self
        copy.metadata.merge(extra) { _, new in new }
        return copy
    }

    public subscript(metadataKey key: String) -> String? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Writes `message` when `level` is enabled; the message and metadata closures run only then.
    public func log(
        _ level: LogLevel, _ message: @autoclosure () -> String,
        metadata extra: @autoclosure () -> [String: String] = [:]
    ) {
        guard sink.isEnabled(level) else { return }
        emit(level, message(), extra())
    }

    /// Writes `message` unless `limiter` has already passed its quota for `key` in the current interval.
    /// The first entry written after a suppressed run ends with "(suppressed N similar messages)".
    public func log(
        _ level: LogLevel, _ message: @autoclosure () -> String,
        metadata extra: @autoclosure () -> [String: String] = [:],
        limitedBy limiter: LogRateLimiter, key: String
    ) {
        guard sink.isEnabled(level) else { return }
        switch limiter.admit(key: key) {
        case .suppress:
            return
        case .emit(let suppressedBefore):
            var text = message()
            if suppressedBefore > 0 {
                let noun = suppressedBefore == 1 ? "message" : "messages"
                text += " (suppressed \(suppressedBefore) similar \(noun))"
            }
            emit(level, text, extra())
        }
    }

    private func emit(_ level: LogLevel, _ message: String, _ extra: [String: String]) {
        var merged = metadata
        if !extra.isEmpty {
            merged.merge(extra) { _, new in new }
        }
        sink.emit(level: level, label: label, message: message, metadata: merged)
    }

    public func trace(_ message: @autoclosure () -> String, metadata: @autoclosure () -> [String: String] = [:]) {
        log(.trace, message(), metadata: metadata())
    }

    public func debug(_ message: @autoclosure () -> String, metadata: @autoclosure () -> [String: String] = [:]) {
        log(.debug, message(), metadata: metadata())
    }

    public func info(_ message: @autoclosure () -> String, metadata: @autoclosure () -> [String: String] = [:]) {
        log(.info, message(), metadata: metadata())
    }

    public func notice(_ message: @autoclosure () -> String, metadata: @autoclosure () -> [String: String] = [:]) {
        log(.notice, message(), metadata: metadata())
    }

    public func warning(_ message: @autoclosure () -> String, metadata: @autoclosure () -> [String: String] = [:]) {
        log(.warning, message(), metadata: metadata())
    }

    public func error(_ message: @autoclosure () -> String, metadata: @autoclosure () -> [String: String] = [:]) {
        log(.error, message(), metadata: metadata())
    }

    public func critical(_ message: @autoclosure () -> String, metadata: @autoclosure () -> [String: String] = [:]) {
        log(.critical, message(), metadata: metadata())
    }
}
