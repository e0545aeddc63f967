import Foundation
import Glibc
import XCTest

@testable import Observability

final class LoggerTests: XCTestCase {
    private func makeSink(level: LogLevel = .info, format: LogFormat = .text) -> (LogSink, CapturingLogWriter) {
        let writer = CapturingLogWriter()
        let sink = LogSink(level: level, format: format, writer: writer, wallClockMs: { fixedTimestampMs })
        return (sink, writer)
    }

    func testLoggerWritesTextLine() {
        let (sink, writer) = makeSink()
        let logger = Logger(label: "gateway", sink: sink)
        logger.info("listener started", metadata: ["listen.address": "127.0.0.1:8080"])
        XCTAssertEqual(
            writer.lines, ["2026-12-04T19:00:00.123Z info gateway: listener started listen.address=127.0.0.1:8080\n"])
    }

    func testLoggerSkipsLevelsBelowMinimumWithoutFormatting() {
        let (sink, writer) = makeSink(level: .warning)
        let logger = Logger(label: "gateway", sink: sink)
        var evaluated = false
        func expensive() -> String {
            evaluated = true
            return "expensive"
        }
        logger.debug(expensive())
        logger.info(expensive())
        XCTAssertFalse(evaluated)
        XCTAssertTrue(writer.lines.isEmpty)
        logger.warning("kept")
        logger.critical("kept too")
        XCTAssertEqual(writer.lines.count, 2)
    }

    func testConfigureChangesLevelAndFormatAtRunTime() throws {
        let (sink, writer) = makeSink(level: .error)
        let logger = Logger(label: "transport", sink: sink)
        logger.notice("dropped")
        sink.configure(level: .trace, format: .json)
        XCTAssertEqual(sink.minimumLevel, .trace)
        XCTAssertEqual(sink.format, .json)
        logger.trace("kept", metadata: ["connection.id": "7"])
        XCTAssertEqual(writer.lines.count, 1)
        let object = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(writer.lines[0].utf8)) as? [String: String])
        XCTAssertEqual(object["level"], "trace")
        XCTAssertEqual(object["connection.id"], "7")
    }

    func testCallMetadataOverridesLoggerMetadata() {
        let (sink, writer) = makeSink()
        let logger = Logger(label: "presence", sink: sink).with(["document.id": "d1", "connection.id": "1"])
        logger.info("joined", metadata: ["connection.id": "2"])
        XCTAssertEqual(writer.lines.count, 1)
        XCTAssertTrue(writer.lines[0].hasSuffix("joined connection.id=2 document.id=d1\n"), writer.lines[0])
        XCTAssertEqual(logger[metadataKey: "connection.id"], "1")
    }

    func testFileDescriptorWriterKeepsConcurrentLinesWhole() throws {
        let path = NSTemporaryDirectory() + "observability-log-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).txt"
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        XCTAssertGreaterThanOrEqual(descriptor, 0, "cannot open \(path): errno \(errno)")
        defer {
            close(descriptor)
            unlink(path)
        }
        let sink = LogSink(
            level: .info, format: .json, writer: FileDescriptorLogWriter(fileDescriptor: descriptor),
            wallClockMs: { fixedTimestampMs })
        let logger = Logger(label: "stress", sink: sink)
        let threads = 8
        let linesPerThread = 500
        let padding = String(repeating: "x", count: 300)
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for index in 0..<linesPerThread {
                logger.info(padding, metadata: ["thread": String(thread), "index": String(index)])
            }
        }

        let text = try String(contentsOfFile: path, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        XCTAssertEqual(lines.count, threads * linesPerThread)
        var seen = Set<String>()
        for line in lines {
            let object = try XCTUnwrap(
                JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String], "torn line: \(line)")
            XCTAssertEqual(object["message"], padding)
            seen.insert(object["thread"]! + ":" + object["index"]!)
        }
        XCTAssertEqual(seen.count, threads * linesPerThread)
    }
}
