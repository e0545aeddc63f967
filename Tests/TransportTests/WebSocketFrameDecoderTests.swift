import XCTest
@testable import Transport

final class WebSocketFrameDecoderTests: XCTestCase {
    /// Feeds `chunks` one call each and returns the messages decoded before the first error, and
    /// that error (nil when all chunks decoded).
    private func decode(
        _ chunks: [[UInt8]],
        into decoder: inout WebSocketFrameDecoder
    ) -> (messages: [WebSocketMessage], error: WebSocketProtocolError?, failedChunk: Int?) {
        var messages: [WebSocketMessage] = []
        for (index, chunk) in chunks.enumerated() {
            do {
                try decoder.decode(chunk) { messages.append($0) }
            } catch {
                return (messages, error, index)
            }
        }
        return (messages, nil, nil)
    }

    private func decode(_ chunks: [[UInt8]], limit: Int = 65536)
        -> (messages: [WebSocketMessage], error: WebSocketProtocolError?, failedChunk: Int?) {
        var decoder = WebSocketFrameDecoder(maxMessageBytes: limit)
        return decode(chunks, into: &decoder)
    }

    private func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
    }

    // MARK: - Masking and lengths

    func testDecoderUnmasksTextFrame() {
        let result = decode([ClientFrames.text("Hello")])
        XCTAssertNil(result.error)
        XCTAssertEqual(result.messages, [.text(Array("Hello".utf8))])
    }

    func testDecoderUnmasksWithEveryMaskByte() {
        let payload = bytes(37)
        let frame = ClientFrames.frame(opcode: 0x2, payload: payload, mask: [0x01, 0x80, 0xFF, 0x5A])
        XCTAssertEqual(decode([frame]).messages, [.binary(payload)])
    }

    func testDecoderAcceptsZeroMaskKey() {
        let frame = ClientFrames.frame(opcode: 0x2, payload: [1, 2, 3], mask: [0, 0, 0, 0])
        XCTAssertEqual(decode([frame]).messages, [.binary([1, 2, 3])])
    }

    func testDecoderHandlesFramesFedOneByteAtATime() {
        let payload = bytes(300)
        let frame = ClientFrames.frame(opcode: 0x2, payload: payload)
        let result = decode(frame.map { [$0] })
        XCTAssertNil(result.error)
        XCTAssertEqual(result.messages, [.binary(payload)])
    }

    func testDecoderKeepsMaskPhaseAcrossUnalignedChunks() {
        let payload = bytes(1000)
        let frame = ClientFrames.frame(opcode: 0x2, payload: payload)
        // Chunk sizes that are not multiples of 4 or 8 move the mask phase inside the word loop.
        var chunks: [[UInt8]] = []
        var index = 0
        var size = 1
        while index < frame.count {
            let end = min(frame.count, index + size)
            chunks.append(Array(frame[index..<end]))
            index = end
            size = size % 13 + 3
        }
        XCTAssertEqual(decode(chunks).messages, [.binary(payload)])
    }

    func testDecoderReadsSevenBitLengths() {
        for count in [0, 1, 125] {
            let payload = bytes(count)
            XCTAssertEqual(decode([ClientFrames.frame(opcode: 0x2, payload: payload)]).messages, [.binary(payload)],
                           "payload of \(count) bytes")
        }
    }

    func testDecoderReadsSixteenBitLengths() {
        for count in [126, 127, 65535] {
            let payload = bytes(count)
            let frame = ClientFrames.frame(opcode: 0x2, payload: payload)
            XCTAssertEqual(frame[1] & 0x7F, 126)
            XCTAssertEqual(decode([frame]).messages, [.binary(payload)], "payload of \(count) bytes")
        }
    }

    func testDecoderReadsSixtyFourBitLengths() {
        let payload = bytes(65536 + 3)
        let frame = ClientFrames.frame(opcode: 0x2, payload: payload)
        XCTAssertEqual(frame[1] & 0x7F, 127)
        XCTAssertEqual(decode([frame], limit: 1 << 20).messages, [.binary(payload)])
    }

    func testDecoderRejectsLengthWithTopBitSet() {
        let header = ClientFrames.header64(opcode: 0x2, length: 1 << 63)
        let result = decode([header])
        XCTAssertEqual(result.error?.closeCode, 1002)
    }

    func testDecoderRejectsUnmaskedFrames() {
        let frame = ClientFrames.frame(opcode: 0x1, payload: Array("hi".utf8), mask: nil)
        let result = decode([frame])
        XCTAssertEqual(result.error?.closeCode, 1002)
        XCTAssertEqual(result.messages, [])
    }

    func testDecoderAcceptsUnmaskedFramesWhenMaskNotRequired() {
        var decoder = WebSocketFrameDecoder(maxMessageBytes: 100, requireMask: false)
        let frame = ClientFrames.frame(opcode: 0x1, payload: Array("hi".utf8), mask: nil)
        XCTAssertEqual(decode([frame], into: &decoder).messages, [.text(Array("hi".utf8))])
    }

    func testDecoderReturnsSeveralFramesFromOneChunk() {
        let chunk = ClientFrames.text("a") + ClientFrames.frame(opcode: 0x9, payload: [7]) + ClientFrames.text("b")
        XCTAssertEqual(decode([chunk]).messages, [.text([0x61]), .ping([7]), .text([0x62])])
    }

    // MARK: - Fragmentation

    func testDecoderReassemblesFragmentsWithControlFramesBetween() {
        let chunks = [
            ClientFrames.frame(opcode: 0x1, payload: Array("frag".utf8), fin: false),
            ClientFrames.frame(opcode: 0x9, payload: Array("p1".utf8)),
            ClientFrames.frame(opcode: 0x0, payload: Array("men".utf8), fin: false),
            ClientFrames.frame(opcode: 0xA, payload: []),
            ClientFrames.frame(opcode: 0x0, payload: Array("ted".utf8), fin: true),
        ]
        let result = decode(chunks)
        XCTAssertNil(result.error)
        XCTAssertEqual(result.messages, [.ping(Array("p1".utf8)), .pong([]), .text(Array("fragmented".utf8))])
    }

    func testDecoderReassemblesEmptyFragments() {
        let chunks = [
            ClientFrames.frame(opcode: 0x2, payload: [], fin: false),
            ClientFrames.frame(opcode: 0x0, payload: [], fin: false),
            ClientFrames.frame(opcode: 0x0, payload: [], fin: true),
        ]
        XCTAssertEqual(decode(chunks).messages, [.binary([])])
    }

    func testDecoderRejectsContinuationWithoutMessage() {
        let result = decode([ClientFrames.frame(opcode: 0x0, payload: [1])])
        XCTAssertEqual(result.error?.closeCode, 1002)
    }

    func testDecoderRejectsNewMessageInsideFragmentedOne() {
        let chunks = [
            ClientFrames.frame(opcode: 0x1, payload: Array("a".utf8), fin: false),
            ClientFrames.frame(opcode: 0x1, payload: Array("b".utf8)),
        ]
        let result = decode(chunks)
        XCTAssertEqual(result.error?.closeCode, 1002)
        XCTAssertEqual(result.failedChunk, 1)
    }

    // MARK: - Control frames

    func testDecoderAcceptsControlFrameOf125Bytes() {
        let payload = bytes(125)
        XCTAssertEqual(decode([ClientFrames.frame(opcode: 0x9, payload: payload)]).messages, [.ping(payload)])
    }

    func testDecoderRejectsControlFrameOver125Bytes() {
        for opcode: UInt8 in [0x8, 0x9, 0xA] {
            let result = decode([ClientFrames.frame(opcode: opcode, payload: bytes(126))])
            XCTAssertEqual(result.error?.closeCode, 1002, "opcode \(opcode)")
        }
    }

    func testDecoderRejectsFragmentedControlFrames() {
        for opcode: UInt8 in [0x8, 0x9, 0xA] {
            let result = decode([ClientFrames.frame(opcode: opcode, payload: [1], fin: false)])
            XCTAssertEqual(result.error?.closeCode, 1002, "opcode \(opcode)")
        }
    }

    // MARK: - Reserved bits and opcodes

    func testDecoderRejectsReservedBits() {
        for rsv: UInt8 in 1...7 {
            let result = decode([ClientFrames.frame(opcode: 0x1, payload: [0x61], rsv: rsv)])
            XCTAssertEqual(result.error?.closeCode, 1002, "reserved bits \(rsv)")
            XCTAssertEqual(result.messages, [])
        }
    }

    func testDecoderRejectsUnknownOpcodes() {
        for opcode: UInt8 in [0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF] {
            let result = decode([ClientFrames.frame(opcode: opcode, payload: [])])
            XCTAssertEqual(result.error?.closeCode, 1002, "opcode \(opcode)")
        }
    }

    func testDecoderRejectsBadFrameAfterGoodOnes() {
        let chunk = ClientFrames.text("ok") + ClientFrames.frame(opcode: 0x1, payload: [], rsv: 4)
        let result = decode([chunk])
        XCTAssertEqual(result.messages, [.text(Array("ok".utf8))])
        XCTAssertEqual(result.error?.closeCode, 1002)
    }

    // MARK: - Message size limit

    func testDecoderAcceptsMessageAtLimit() {
        let payload = bytes(1000)
        XCTAssertEqual(decode([ClientFrames.frame(opcode: 0x2, payload: payload)], limit: 1000).messages,
                       [.binary(payload)])
    }

    func testDecoderRejectsFrameOverLimitFromHeader() {
        // Only the header is sent: the limit is checked before any payload is buffered.
        let header = ClientFrames.header64(opcode: 0x2, length: 1001)
        let result = decode([header], limit: 1000)
        XCTAssertEqual(result.error?.closeCode, 1009)
    }

    func testDecoderRejectsHugeLengthWithoutAllocating() {
        let header = ClientFrames.header64(opcode: 0x2, length: UInt64(Int64.max))
        XCTAssertEqual(decode([header], limit: 1 << 24).error?.closeCode, 1009)
    }

    func testDecoderRejectsFragmentsSummingOverLimit() {
        let chunks = [
            ClientFrames.frame(opcode: 0x2, payload: bytes(600), fin: false),
            ClientFrames.frame(opcode: 0x0, payload: bytes(400), fin: false),
            ClientFrames.frame(opcode: 0x0, payload: bytes(1), fin: true),
        ]
        let result = decode(chunks, limit: 1000)
        XCTAssertEqual(result.error?.closeCode, 1009)
        XCTAssertEqual(result.failedChunk, 2)
    }

    func testDecoderLimitAppliesPerMessage() {
        let chunks = [
            ClientFrames.frame(opcode: 0x2, payload: bytes(800)),
            ClientFrames.frame(opcode: 0x2, payload: bytes(800)),
        ]
        let result = decode(chunks, limit: 1000)
        XCTAssertNil(result.error)
        XCTAssertEqual(result.messages.count, 2)
    }

    // MARK: - UTF-8

    func testDecoderRejectsInvalidUTF8MidFrame() {
        // The header announces 100 bytes; only 4 arrive, and the fourth is invalid. The decoder
        // must fail now rather than wait for the other 96.
        let payload: [UInt8] = [0x61, 0x62, 0x63, 0xFF] + [UInt8](repeating: 0x61, count: 96)
        let frame = ClientFrames.frame(opcode: 0x1, payload: payload)
        let headerLength = 2 + 4
        let result = decode([Array(frame[0..<(headerLength + 4)])])
        XCTAssertEqual(result.error?.closeCode, 1007)
        XCTAssertEqual(result.failedChunk, 0)
    }

    func testDecoderRejectsInvalidUTF8InFirstFragment() {
        let chunks = [
            ClientFrames.frame(opcode: 0x1, payload: [0xCE, 0xBA, 0xC0, 0xAF], fin: false),
            ClientFrames.frame(opcode: 0x0, payload: Array("x".utf8), fin: true),
        ]
        let result = decode(chunks)
        XCTAssertEqual(result.error?.closeCode, 1007)
        XCTAssertEqual(result.failedChunk, 0)
    }

    func testDecoderAcceptsCodePointSplitAcrossFragments() {
        let euro: [UInt8] = [0xE2, 0x82, 0xAC]
        let chunks = [
            ClientFrames.frame(opcode: 0x1, payload: [euro[0]], fin: false),
            ClientFrames.frame(opcode: 0x0, payload: [euro[1]], fin: false),
            ClientFrames.frame(opcode: 0x0, payload: [euro[2]], fin: true),
        ]
        XCTAssertEqual(decode(chunks).messages, [.text(euro)])
    }

    func testDecoderRejectsTextEndingInsideCodePoint() {
        let result = decode([ClientFrames.frame(opcode: 0x1, payload: [0x61, 0xE2, 0x82])])
        XCTAssertEqual(result.error?.closeCode, 1007)
    }

    func testDecoderDoesNotValidateBinary() {
        XCTAssertEqual(decode([ClientFrames.frame(opcode: 0x2, payload: [0xFF, 0xFE])]).messages, [.binary([0xFF, 0xFE])])
    }

    // MARK: - Close frames

    func testDecoderAcceptsEmptyClose() {
        XCTAssertEqual(decode([ClientFrames.frame(opcode: 0x8, payload: [])]).messages, [.close(code: nil, reason: "")])
    }

    func testDecoderAcceptsValidCloseCodes() {
        for code: UInt16 in [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999] {
            let result = decode([ClientFrames.close(code: code, reason: "bye")])
            XCTAssertNil(result.error, "code \(code)")
            XCTAssertEqual(result.messages, [.close(code: code, reason: "bye")], "code \(code)")
        }
    }

    func testDecoderRejectsInvalidCloseCodes() {
        for code: UInt16 in [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535] {
            let result = decode([ClientFrames.close(code: code)])
            XCTAssertEqual(result.error?.closeCode, 1002, "code \(code)")
        }
    }

    func testDecoderRejectsOneByteClosePayload() {
        let result = decode([ClientFrames.frame(opcode: 0x8, payload: [0x03])])
        XCTAssertEqual(result.error?.closeCode, 1002)
    }

    func testDecoderRejectsInvalidUTF8CloseReason() {
        let payload: [UInt8] = [0x03, 0xE8, 0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5, 0xED, 0xA0, 0x80]
        let result = decode([ClientFrames.frame(opcode: 0x8, payload: payload)])
        XCTAssertEqual(result.error?.closeCode, 1007)
    }

    func testDecoderAcceptsUTF8CloseReason() {
        let reason = "κόσμε"
        XCTAssertEqual(decode([ClientFrames.close(code: 1000, reason: reason)]).messages, [.close(code: 1000, reason: reason)])
    }
}
