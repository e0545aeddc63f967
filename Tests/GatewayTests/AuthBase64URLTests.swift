import XCTest

@testable import Gateway

final class AuthBase64URLTests: XCTestCase {
    private func decode(_ text: String) throws(Base64URL.DecodingError) -> String {
        String(decoding: try Base64URL.decode(Array(text.utf8)), as: UTF8.self)
    }

    func testDecoderReadsRFC4648Vectors() throws {
        // RFC 4648 section 10, without the padding that base64url in JWS leaves out.
        let vectors = ["": "", "Zg": "f", "Zm8": "fo", "Zm9v": "foo", "Zm9vYg": "foob", "Zm9vYmE": "fooba", "Zm9vYmFy": "foobar"]
        for (encoded, decoded) in vectors {
            XCTAssertEqual(try decode(encoded), decoded, encoded)
        }
    }

    func testDecoderReadsURLSafeAlphabet() throws {
        XCTAssertEqual(try Base64URL.decode(Array("-_-_".utf8)), [0xFB, 0xFF, 0xBF])
        XCTAssertEqual(try Base64URL.decode(Array("AQID".utf8)), [1, 2, 3])
    }

    func testDecoderRejectsPadding() {
        XCTAssertThrowsError(try decode("Zg==")) { error in
            XCTAssertEqual(error as? Base64URL.DecodingError, .invalidCharacter(byte: UInt8(ascii: "="), offset: 2))
            XCTAssertTrue("\(error)".contains("no padding"), "\(error)")
        }
    }

    func testDecoderRejectsStandardAlphabet() {
        XCTAssertThrowsError(try decode("+/+/")) { error in
            XCTAssertEqual(error as? Base64URL.DecodingError, .invalidCharacter(byte: UInt8(ascii: "+"), offset: 0))
        }
    }

    func testDecoderRejectsWhitespace() {
        for text in ["Zm9v Zg", "Zm9v\nZg", " Zg", "Zg\r"] {
            XCTAssertThrowsError(try decode(text), text.debugDescription)
        }
    }

    func testDecoderRejectsImpossibleLength() {
        XCTAssertThrowsError(try decode("Zm9vY")) { error in
            XCTAssertEqual(error as? Base64URL.DecodingError, .invalidLength(5))
        }
    }

    func testDecoderRejectsNonCanonicalTrailingBits() {
        // "Zg" is "f"; "Zh" carries a set bit past the end of the byte and must not also decode to "f".
        XCTAssertThrowsError(try decode("Zh")) { error in
            XCTAssertEqual(error as? Base64URL.DecodingError, .nonCanonicalTrailingBits)
        }
        XCTAssertThrowsError(try decode("Zm9")) { error in
            XCTAssertEqual(error as? Base64URL.DecodingError, .nonCanonicalTrailingBits)
        }
        XCTAssertEqual(try decode("Zm8"), "fo")
    }

    func testDecoderRejectsNonASCIIBytes() {
        XCTAssertThrowsError(try Base64URL.decode([0x5A, 0xC3, 0xA9, 0x41])) { error in
            XCTAssertEqual(error as? Base64URL.DecodingError, .invalidCharacter(byte: 0xC3, offset: 1))
        }
    }
}
