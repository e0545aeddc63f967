import XCTest
@testable import Transport

final class UTF8ValidatorTests: XCTestCase {
    /// Validates `bytes` in one call and reports whether they form complete, valid UTF-8.
    private func isValid(_ bytes: [UInt8]) -> Bool {
        var validator = UTF8Validator()
        return validator.validate(bytes) && validator.isComplete
    }

    /// Returns the index of the byte at which a byte-by-byte validation first fails, or nil.
    private func firstFailure(_ bytes: [UInt8]) -> Int? {
        var validator = UTF8Validator()
        for (index, byte) in bytes.enumerated() where !validator.validate([byte]) {
            return index
        }
        return nil
    }

    func testValidatorAcceptsASCIIAndEmpty() {
        XCTAssertTrue(isValid([]))
        XCTAssertTrue(isValid(Array("Hello, presence! 0123456789 abcdefghijklmnopqrstuvwxyz".utf8)))
    }

    func testValidatorAcceptsEveryEncodingLength() {
        XCTAssertTrue(isValid(Array("é€𝄞κόσμε".utf8)))
        XCTAssertTrue(isValid([0xC2, 0x80]))              // U+0080, the first two-byte code point
        XCTAssertTrue(isValid([0xDF, 0xBF]))              // U+07FF
        XCTAssertTrue(isValid([0xE0, 0xA0, 0x80]))        // U+0800
        XCTAssertTrue(isValid([0xED, 0x9F, 0xBF]))        // U+D7FF, just below the surrogates
        XCTAssertTrue(isValid([0xEE, 0x80, 0x80]))        // U+E000, just above them
        XCTAssertTrue(isValid([0xEF, 0xBF, 0xBF]))        // U+FFFF
        XCTAssertTrue(isValid([0xF0, 0x90, 0x80, 0x80]))  // U+10000
        XCTAssertTrue(isValid([0xF4, 0x8F, 0xBF, 0xBF]))  // U+10FFFF, the last code point
    }

    func testValidatorRejectsOverlongEncodings() {
        XCTAssertFalse(isValid([0xC0, 0xAF]))             // "/" in two bytes
        XCTAssertFalse(isValid([0xC1, 0xBF]))
        XCTAssertFalse(isValid([0xE0, 0x80, 0xAF]))       // "/" in three bytes
        XCTAssertFalse(isValid([0xE0, 0x9F, 0xBF]))       // U+07FF in three bytes
        XCTAssertFalse(isValid([0xF0, 0x80, 0x80, 0xAF])) // "/" in four bytes
        XCTAssertFalse(isValid([0xF0, 0x8F, 0xBF, 0xBF])) // U+FFFF in four bytes
    }

    func testValidatorRejectsSurrogates() {
        XCTAssertFalse(isValid([0xED, 0xA0, 0x80]))       // U+D800
        XCTAssertFalse(isValid([0xED, 0xAF, 0xBF]))       // U+DBFF
        XCTAssertFalse(isValid([0xED, 0xB0, 0x80]))       // U+DC00
        XCTAssertFalse(isValid([0xED, 0xBF, 0xBF]))       // U+DFFF
        XCTAssertFalse(isValid([0xED, 0xA0, 0x80, 0xED, 0xB0, 0x80])) // a surrogate pair, CESU-8 style
    }

    func testValidatorRejectsCodePointsAboveMaximum() {
        XCTAssertFalse(isValid([0xF4, 0x90, 0x80, 0x80])) // U+110000
        XCTAssertFalse(isValid([0xF5, 0x80, 0x80, 0x80]))
        XCTAssertFalse(isValid([0xF7, 0xBF, 0xBF, 0xBF]))
        XCTAssertFalse(isValid([0xF8, 0x88, 0x80, 0x80, 0x80])) // old five-byte form
        XCTAssertFalse(isValid([0xFC, 0x84, 0x80, 0x80, 0x80, 0x80]))
    }

    func testValidatorRejectsStrayAndMissingContinuationBytes() {
        XCTAssertFalse(isValid([0x80]))
        XCTAssertFalse(isValid([0xBF]))
        XCTAssertFalse(isValid([0x61, 0x80, 0x61]))
        XCTAssertFalse(isValid([0xC3, 0x41]))             // lead byte followed by ASCII
        XCTAssertFalse(isValid([0xE2, 0x82, 0x41]))
        XCTAssertFalse(isValid([0xFE]))
        XCTAssertFalse(isValid([0xFF]))
    }

    func testValidatorFailsAtFirstBadByte() {
        XCTAssertEqual(firstFailure([0x61, 0x62, 0xFF, 0x63]), 2)
        XCTAssertEqual(firstFailure([0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xED, 0xA0, 0x80]), 6)
        XCTAssertEqual(firstFailure([0xF4, 0x90, 0x80, 0x80]), 1)
        XCTAssertEqual(firstFailure([0xE0, 0x80, 0x80]), 1)
        XCTAssertEqual(firstFailure(Array("κόσμε".utf8)), nil)
    }

    func testValidatorAcceptsSequencesSplitAcrossCalls() {
        let text = Array("a€𝄞b".utf8)
        for split in 0...text.count {
            var validator = UTF8Validator()
            XCTAssertTrue(validator.validate(Array(text[..<split])), "first part up to \(split)")
            XCTAssertTrue(validator.validate(Array(text[split...])), "second part from \(split)")
            XCTAssertTrue(validator.isComplete, "split at \(split)")
        }
    }

    func testValidatorReportsIncompleteSequence() {
        var validator = UTF8Validator()
        XCTAssertTrue(validator.validate([0xF0, 0x9D]))
        XCTAssertFalse(validator.isComplete)
        XCTAssertTrue(validator.validate([0x84, 0x9E]))
        XCTAssertTrue(validator.isComplete)
    }

    func testValidatorKeepsRestrictionAcrossSplit() {
        // E0 must be followed by A0...BF even when the next byte arrives in another call.
        var validator = UTF8Validator()
        XCTAssertTrue(validator.validate([0xE0]))
        XCTAssertFalse(validator.validate([0x80]))
    }

    func testValidatorChecksBytesAfterLongASCIIRun() {
        // The ASCII fast path reads eight bytes at a time; a bad byte at any offset after it must fail.
        for offset in 0..<24 {
            var bytes = [UInt8](repeating: 0x61, count: 40)
            bytes[offset + 8] = 0x80
            XCTAssertFalse(isValid(bytes), "bad byte at \(offset + 8)")
        }
    }

    func testValidatorMatchesStandardLibraryOnAllTwoByteInputs() {
        for first in 0...255 {
            for second in 0...255 {
                let bytes = [UInt8(first), UInt8(second)]
                let expected = String(validating: bytes, as: UTF8.self) != nil
                XCTAssertEqual(isValid(bytes), expected, "bytes \(bytes)")
            }
        }
    }

    func testValidatorMatchesStandardLibraryOnThreeByteLeads() {
        for first: UInt8 in 0xE0...0xF4 {
            for second in 0...255 {
                let bytes = [first, UInt8(second), 0x80, 0x80]
                let expected = String(validating: bytes, as: UTF8.self) != nil
                XCTAssertEqual(isValid(bytes), expected, "bytes \(bytes)")
            }
        }
    }
}
