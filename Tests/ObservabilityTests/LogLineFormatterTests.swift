import Foundation
import XCTest

@testable import Observability

final class LogLineFormatterTests: XCTestCase {
    private func entry(
        message: String = "listener started", metadata: [String: String] = [:], level: LogLevel = .info
    ) -> LogEntry {
        LogEntry(timestampMs: fixedTimestampMs, level: level, label: "gateway", message: message, metadata: metadata)
    }

    func testTimestampFormatsEpoch() {
        XCTAssertEqual(LogLineFormatter.iso8601(milliseconds: 0), "1970-01-01T00:00:00.000Z")
    }

    func testTimestampFormatsKnownDates() {
        XCTAssertEqual(LogLineFormatter.iso8601(milliseconds: fixedTimestampMs), "2026-12-04T19:00:00.123Z")
        XCTAssertEqual(LogLineFormatter.iso8601(milliseconds: 1_709_251_199_999), "2024-02-29T23:59:59.999Z")
        XCTAssertEqual(LogLineFormatter.iso8601(milliseconds: 4_107_542_400_000), "2100-03-01T00:00:00.000Z")
    }

    func testTextLineHasSortedMetadata() {
        let line = LogLineFormatter.text(
            entry(metadata: ["listen.address": "127.0.0.1:8080", "connection.id": "42"]))
        XCTAssertEqual(
            line, "2026-12-04T19:00:00.123Z info gateway: listener started connection.id=42 listen.address=127.0.0.1:8080\n")
    }

    func testTextQuotesValuesWithSpacesAndQuotes() {
        let line = LogLineFormatter.text(entry(metadata: ["user.name": "Ada \"the first\"", "empty": ""]))
        XCTAssertTrue(line.hasSuffix(" empty=\"\" user.name=\"Ada \\\"the first\\\"\"\n"), line)
    }

    func testTextEscapesNewlinesToStayOnOneLine() {
        let line = LogLineFormatter.text(entry(message: "first\nsecond\r\u{1B}", metadata: ["value": "a\nb"]))
        XCTAssertEqual(line.filter { $0 == "\n" }.count, 1)
        XCTAssertTrue(line.contains("first\\nsecond\\r\\u{1b}"), line)
        XCTAssertTrue(line.contains("value=\"a\\nb\""), line)
    }

    func testJSONLineHasFieldsInOrder() {
        let line = LogLineFormatter.json(entry(metadata: ["connection.id": "42", "document.id": "d1"]))
        XCTAssertEqual(
            line,
            "{\"ts\":\"2026-12-04T19:00:00.123Z\",\"level\":\"info\",\"label\":\"gateway\",\"message\":\"listener started\","
                + "\"connection.id\":\"42\",\"document.id\":\"d1\"}\n")
    }

    func testJSONLineParsesWithEscapedContent() throws {
        let message = "quote \" backslash \\ newline \n tab \t bell \u{07} snowman ☃"
        let line = LogLineFormatter.json(entry(message: message, metadata: ["user.name": "Zoë\u{0}"]))
        XCTAssertEqual(line.filter { $0 == "\n" }.count, 1)
        let object = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        XCTAssertEqual(object["message"], message)
        XCTAssertEqual(object["user.name"], "Zoë\u{0}")
        XCTAssertEqual(object["level"], "info")
        XCTAssertEqual(object["label"], "gateway")
        XCTAssertEqual(object["ts"], "2026-12-04T19:00:00.123Z")
    }

    func testJSONRenamesMetadataThatCollidesWithFields() throws {
        let line = LogLineFormatter.json(entry(metadata: ["level": "spoofed", "message": "other"]))
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        XCTAssertEqual(object["level"], "info")
        XCTAssertEqual(object["message"], "listener started")
        XCTAssertEqual(object["metadata.level"], "spoofed")
        XCTAssertEqual(object["metadata.message"], "other")
    }

    func testLevelNamesRoundTrip() {
        XCTAssertEqual(LogLevel.allCases.map(\.name), ["trace", "debug", "info", "notice", "warning", "error", "critical"])
        for level in LogLevel.allCases {
            XCTAssertEqual(LogLevel(name: level.name), level)
        }
        XCTAssertNil(LogLevel(name: "INFO"))
        XCTAssertNil(LogLevel(name: "warn"))
        XCTAssertLessThan(LogLevel.debug, LogLevel.critical)
    }
}
