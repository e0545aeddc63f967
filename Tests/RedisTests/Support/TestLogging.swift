import Observability
import Synchronization

/// Collects written log lines in memory; the array is owned by its lock.
final class CapturingLogWriter: LogWriter {
    private let captured = Mutex<[String]>([])

    func write(_ line: String) {
        captured.withLock { $0.append(line) }
    }

    var lines: [String] {
        captured.withLock { $0 }
    }
}

/// A logger whose lines go to `writer`, or nowhere, so test output stays readable.
func testLogger(_ writer: CapturingLogWriter = CapturingLogWriter(), level: LogLevel = .info) -> Logger {
    Logger(label: "redis-test", sink: LogSink(level: level, writer: writer))
}
