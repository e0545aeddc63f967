import Foundation
import PresenceCore
import XCTest

final class JSONParserTests: XCTestCase {
    private func parse(_ text: String, limits: JSONParseLimits = JSONParseLimits()) throws -> JSONValue {
        try JSONParser.parse(text, limits: limits)
    }

    private func assertRejects(
        _ bytes: [UInt8], containing reason: String, limits: JSONParseLimits = JSONParseLimits(),
        file: StaticString = #filePath, line: UInt = #line
    ) {
        do {
            let value = try JSONParser.parse(bytes, limits: limits)
            XCTFail("accepted \(value)", file: file, line: line)
        } catch {
            XCTAssertTrue(error.reason.contains(reason), "\(error) lacks \"\(reason)\"", file: file, line: line)
        }
    }

    private func assertRejects(
        _ text: String, containing reason: String, limits: JSONParseLimits = JSONParseLimits(),
        file: StaticString = #filePath, line: UInt = #line
    ) {
        assertRejects(Array(text.utf8), containing: reason, limits: limits, file: file, line: line)
    }

    func testParserReadsEveryValueType() throws {
        let value = try parse(#" {"a":[1,-2.5e3,true,false,null,"x"],"b":{}} "#)
        guard case .object(let members) = value else { return XCTFail("not an object") }
        XCTAssertEqual(members.map(\.key), ["a", "b"])
        guard case .array(let elements) = value["a"] else { return XCTFail("a is not an array") }
        XCTAssertEqual(elements.count, 6)
        XCTAssertEqual(elements[1], .number(JSONNumber(text: "-2.5e3")!))
        XCTAssertEqual(elements[2], .bool(true))
        XCTAssertEqual(elements[4], .null)
        XCTAssertEqual(elements[5], .string("x"))
        XCTAssertEqual(value["b"], .object([]))
    }

    func testParserKeepsNumberText() throws {
        guard case .number(let number) = try parse("7.50") else { return XCTFail("not a number") }
        XCTAssertEqual(number.text, "7.50")
        XCTAssertEqual(number.doubleValue, 7.5)
    }

    func testParserDecodesEscapes() throws {
        XCTAssertEqual(try parse(#""\"\\\/\b\f\n\r\t""#), .string("\"\\/\u{8}\u{C}\n\r\t"))
        XCTAssertEqual(try parse(#""\u00e9\u4e2d""#), .string("é中"))
        XCTAssertEqual(try parse(#""\ud83d\ude00 ok""#), .string("😀 ok"))
        XCTAssertEqual(try parse("\"plain é 😀\""), .string("plain é 😀"))
    }

    func testParserRejectsGrammarViolations() {
        let cases: [(String, String)] = [
            ("", "end of input"),
            ("{", "end of input"),
            (#"{"a":1,}"#, "expected an object key"),
            ("[1,]", "expected a value"),
            ("[1 2]", "expected ',' or ']'"),
            (#"{"a" 1}"#, "expected ':'"),
            ("{'a':1}", "expected an object key"),
            ("01", "after the JSON value"),
            ("1.", "invalid number"),
            ("-", "invalid number"),
            (".5", "expected a value"),
            ("+1", "expected a value"),
            ("1e", "invalid number"),
            ("NaN", "expected a value"),
            ("Infinity", "expected a value"),
            ("tru", "expected true"),
            ("nul", "expected null"),
            ("{} {}", "after the JSON value"),
            ("// comment\n{}", "expected a value"),
            (#""\x""#, "invalid escape"),
            (#""\u12g4""#, "invalid hex digit"),
            ("\"tab\there\"", "control character"),
            ("\"unterminated", "end of input inside a string"),
        ]
        for (text, reason) in cases {
            assertRejects(text, containing: reason)
        }
    }

    func testParserRejectsDuplicateKeys() {
        assertRejects(#"{"a":1,"a":2}"#, containing: "duplicate object key \"a\"")
    }

    func testParserReadsOutOfRangeNumbersAsInfinities() throws {
        guard case .number(let positive) = try parse("1e400") else { return XCTFail("1e400 is not a number") }
        XCTAssertEqual(positive.doubleValue, .infinity)
        XCTAssertEqual(positive.text, "1e400")
        guard case .number(let negative) = try parse("-1e400") else { return XCTFail("-1e400 is not a number") }
        XCTAssertEqual(negative.doubleValue, -.infinity)
    }

    func testParserRejectsLoneSurrogates() {
        assertRejects(#""\ud800""#, containing: "unpaired high surrogate")
        assertRejects(#""\ud800\u0041""#, containing: "not followed by a low surrogate")
        assertRejects(#""\udc00""#, containing: "unpaired low surrogate")
    }

    func testParserRejectsInvalidUTF8() {
        let quote = UInt8(ascii: "\"")
        let cases: [[UInt8]] = [
            [0xC0, 0xAF],  // overlong "/"
            [0xE0, 0x80, 0xAF],  // overlong three-byte form
            [0xED, 0xA0, 0x80],  // encoded surrogate U+D800
            [0xF4, 0x90, 0x80, 0x80],  // beyond U+10FFFF
            [0xF5, 0x80, 0x80, 0x80],  // invalid lead byte
            [0x80],  // lone continuation byte
            [0xE4, 0xB8],  // truncated sequence
            [0xC3, 0x28],  // bad continuation byte
        ]
        for sequence in cases {
            assertRejects([quote] + sequence + [quote], containing: "UTF-8")
        }
        assertRejects([0xEF, 0xBB, 0xBF] + Array("{}".utf8), containing: "expected a value")
    }

    func testParserEnforcesDepthLimit() throws {
        let limits = JSONParseLimits(maxDepth: 3)
        XCTAssertNoThrow(try parse("[[[1]]]", limits: limits))
        assertRejects("[[[[1]]]]", containing: "maximum depth of 3", limits: limits)
        assertRejects(#"{"a":{"b":{"c":{}}}}"#, containing: "maximum depth of 3", limits: limits)
        let deep = String(repeating: "[", count: 100_000)
        assertRejects(deep, containing: "maximum depth of 32")
    }

    func testParserHandlesDepth1024OnSmallStack() {
        let text = String(repeating: "[", count: 1024) + String(repeating: "]", count: 1024)
        let finished = expectation(description: "parsed on a 512 KiB stack")
        let thread = Thread {
            let value = try? JSONParser.parse(text, limits: JSONParseLimits(maxDepth: 1024))
            XCTAssertNotNil(value)
            finished.fulfill()
        }
        thread.stackSize = 512 * 1024
        thread.start()
        wait(for: [finished], timeout: 10)
    }

    func testParserEnforcesSizeLimit() {
        assertRejects("[1,2,3]", containing: "exceeds the limit of 4", limits: JSONParseLimits(maxBytes: 4))
    }

    func testNumberIntegerViews() throws {
        XCTAssertEqual(JSONNumber(text: "3")?.uint32Value, 3)
        XCTAssertEqual(JSONNumber(text: "3.0")?.uint32Value, 3)
        XCTAssertEqual(JSONNumber(text: "4294967295")?.uint32Value, UInt32.max)
        XCTAssertNil(JSONNumber(text: "4294967296")?.uint32Value)
        XCTAssertNil(JSONNumber(text: "-1")?.uint32Value)
        XCTAssertNil(JSONNumber(text: "1.5")?.uint32Value)
        XCTAssertNil(JSONNumber(text: "01"))
        XCTAssertNil(JSONNumber(text: "1e999"))
        XCTAssertEqual(JSONNumber(2.5)?.text, "2.5")
        XCTAssertEqual(JSONNumber(7.0)?.text, "7")
        XCTAssertNil(JSONNumber(Double.nan))
    }
}
