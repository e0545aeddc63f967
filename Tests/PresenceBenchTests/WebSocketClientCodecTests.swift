import XCTest
@testable import PresenceBench

final class WebSocketClientCodecTests: XCTestCase {
    func testSHA1MatchesKnownDigest() {
        let hex = SHA1.digest(Array("abc".utf8)).map { String($0, radix: 16).leftPadded(to: 2) }.joined()
        XCTAssertEqual(hex, "a9993e364706816aba3e25717850c26c9cd0d89d")
    }

    func testHandshakeComputesAcceptOfRFCExample() {
        // RFC 6455 section 1.3: key "dGhlIHNhbXBsZSBub25jZQ==" is the bytes of "the sample nonce".
        let handshake = WebSocketClientCodec.handshake(hostHeader: "127.0.0.1:1", path: "/v1/ws", key: Array("the sample nonce".utf8))
        XCTAssertEqual(handshake.expectedAccept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        let request = String(decoding: handshake.request, as: UTF8.self)
        XCTAssertTrue(request.hasPrefix("GET /v1/ws HTTP/1.1\r\n"))
        XCTAssertTrue(request.contains("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"))
    }

    func testResponseParserChecksStatusAndAccept() {
        let good = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nsec-websocket-accept: abc=\r\n\r\nrest"
        let wrongAccept = "HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: xyz=\r\n\r\n"
        let unavailable = "HTTP/1.1 503 Service Unavailable\r\n\r\n"
        func parse(_ text: String) -> WebSocketClientCodec.ResponseResult {
            Array(text.utf8).withUnsafeBytes { WebSocketClientCodec.parseResponse($0, expectedAccept: "abc=") }
        }
        guard case .accepted(let length) = parse(good) else { return XCTFail("valid response was not accepted") }
        XCTAssertEqual(length, good.utf8.count - 4)
        guard case .rejected = parse(wrongAccept) else { return XCTFail("wrong accept value was not rejected") }
        guard case .rejected = parse(unavailable) else { return XCTFail("503 was not rejected") }
        guard case .incomplete = parse("HTTP/1.1 101 Switching") else { return XCTFail("partial head was not incomplete") }
    }

    func testMaskedFrameUnmasksToPayload() {
        let payload = Array(String(repeating: "presence ", count: 30).utf8)
        var frame: [UInt8] = []
        payload.withUnsafeBytes {
            WebSocketClientCodec.appendMaskedFrame(opcode: .text, payload: $0, maskKey: 0xA1B2_C3D4, to: &frame)
        }
        XCTAssertEqual(frame[0], 0x81)
        XCTAssertEqual(frame[1], 0x80 | 126)
        XCTAssertEqual(Int(frame[2]) << 8 | Int(frame[3]), payload.count)
        let mask = Array(frame[4..<8])
        XCTAssertEqual(mask, [0xA1, 0xB2, 0xC3, 0xD4])
        let unmasked = frame[8...].enumerated().map { $0.element ^ mask[$0.offset & 3] }
        XCTAssertEqual(unmasked, payload)
    }

    func testFrameParserReadsServerFrames() {
        let small: [UInt8] = [0x81, 0x02, 0x68, 0x69]
        let medium: [UInt8] = [0x82, 126, 0x01, 0x00] + Array(repeating: 0x41, count: 256)
        func parse(_ bytes: [UInt8]) -> WebSocketClientCodec.FrameResult {
            bytes.withUnsafeBytes { WebSocketClientCodec.parseFrame($0, at: 0) }
        }
        guard case .frame(let first) = parse(small) else { return XCTFail("small frame not parsed") }
        XCTAssertEqual(first.payload, 2..<4)
        XCTAssertTrue(first.isFinal)
        guard case .frame(let second) = parse(medium) else { return XCTFail("medium frame not parsed") }
        XCTAssertEqual(second.payload, 4..<260)
        guard case .incomplete = parse(Array(medium.prefix(100))) else { return XCTFail("partial frame not incomplete") }
        guard case .invalid = parse([0x81, 0x82, 0, 0, 0, 0, 0, 0]) else { return XCTFail("masked server frame accepted") }
        guard case .invalid = parse([0xC1, 0x00]) else { return XCTFail("frame with RSV1 accepted") }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
