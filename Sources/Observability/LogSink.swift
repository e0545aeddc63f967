import CLinux
import Glibc
import Synchronization

/// Destination for finished log lines.
public protocol LogWriter: Sendable {
    /// Writes one complete line, trailing newline included. Called from any thread.
    func write(_ line: String)
}

/// Writes each line to a file descriptor (stderr by default) with one `write(2)` call.
///
/// The lock is held across the call so that lines from different threads never interleave, even when
/// the kernel accepts only part of a line and the rest goes out in a second call. A blocked stderr
/// therefore blocks every thread that logs, as it does with swift-log's `StreamLogHandler`.
public final class FileDescriptorLogWriter: LogWriter {
    /// Owned by `lock`: the descriptor is only written to while the lock is held.
    private let fileDescriptor: Int32
    private let lock = Mutex<Void>(())

    public init(fileDescriptor: Int32 = STDERR_FILENO) {
        self.fileDescriptor = fileDescriptor
    }

    public func write(_ line: String) {
        var line = line
        line.withUTF8 { bytes in
            lock.withLock { _ in
                var offset = 0
                while offset < bytes.count {
                    let written = Glibc.write(fileDescriptor, bytes.baseAddress! + offset, bytes.count - offset)
                    if written > 0 {
                        offset += written
                    } else if written < 0 && errno == EINTR {
                        continue
                    } else {
                        // Nowhere left to report a failed log write (closed stderr, full disk): drop the line.
                        return
                    }
                }
            }
        }
    }
}

/// Global log configuration shared by every `Logger`: the minimum level, the line format and the writer.
///
/// The minimum level lives in an atomic, so a disabled `debug` call costs one relaxed load and no
/// formatting. Format and writer are owned by `state`'s lock and copied out once per line.
public final class LogSink: Sendable {
    /// The sink that `Logger` uses unless given another: level `info`, text lines on stderr.
    public static let shared = LogSink()

    private struct State {
        var format: LogFormat
        var writer: any LogWriter
    }

    private let minimumLevelRaw: Atomic<UInt8>
    private let state: Mutex<State>
    /// Wall clock in milliseconds since the Unix epoch, replaceable so tests get fixed timestamps.
    private let wallClockMs: @Sendable () -> UInt64

    public init(
        level: LogLevel = .info,
        format: LogFormat = .text,
        writer: any LogWriter = FileDescriptorLogWriter(),
        wallClockMs: @escaping @Sendable () -> UInt64 = { clinux_wall_ms() }
    ) {
        minimumLevelRaw = Atomic(level.rawValue)
        state = Mutex(State(format: format, writer: writer))
        self.wallClockMs = wallClockMs
    }

    /// The least severe level that is written; entries below it are discarded before formatting.
    public var minimumLevel: LogLevel {
        LogLevel(rawValue: minimumLevelRaw.load(ordering: .relaxed)) ?? .info
    }

    public var format: LogFormat {
        state.withLock { $0.format }
    }

    /// Sets the level, and the format and writer when given. Safe to call while other threads log,
    /// for example when SIGHUP reloads `[log] level`.
    public func configure(level: LogLevel, format: LogFormat? = nil, writer: (any LogWriter)? = nil) {
        state.withLock { state in
            if let format { state.format = format }
            if let writer { state.writer = writer }
        }
        minimumLevelRaw.store(level.rawValue, ordering: .relaxed)
    }

    /// Returns whether an entry at `level` would be written.
    public func isEnabled(_ level: LogLevel) -> Bool {
        level.rawValue >= minimumLevelRaw.load(ordering: .relaxed)
    }

    /// Formats one entry and hands it to the writer. The caller has checked `isEnabled`.
    func emit(level: LogLevel, label: String, message: String, metadata: [String: String]) {
        let (format, writer) = state.withLock { ($0.format, $0.writer) }
        let entry = LogEntry(
            timestampMs: wallClockMs(), level: level, label: label, message: message, metadata: metadata)
        let line: String
        switch format {
        case .text: line = LogLineFormatter.text(entry)
        case .json: line = LogLineFormatter.json(entry)
        }
        writer.write(line)
    }
}
