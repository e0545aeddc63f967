@testable import Transport

/// Builders for client-to-server frames, written independently of `WebSocketFrameEncoder` so the
/// decoder is not tested against its own mirror image.
enum ClientFrames {
    /// The mask key used unless a test passes another; chosen so that no byte is zero.
    static let defaultMask: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]

    /// Returns one frame. `opcode` is a raw value so that tests can send opcodes that do not exist.
    /// `rsv` holds the three reserved bits (0...7), and a nil `mask` sends the frame unmasked.
    static func frame(
        opcode: UInt8,
        payload: [UInt8],
        fin: Bool = true,
        rsv: UInt8 = 0,
        mask: [UInt8]? = defaultMask
    ) -> [UInt8] {
        var out: [UInt8] = [(fin ? 0x80 : 0) | (rsv & 0x7) << 4 | (opcode & 0x0F)]
        let maskBit: UInt8 = mask == nil ? 0 : 0x80
        if payload.count < 126 {
            out.append(maskBit | UInt8(payload.count))
        } else if payload.count <= 0xFFFF {
            out.append(maskBit | 126)
            out.append(UInt8(payload.count >> 8))
            out.append(UInt8(payload.count & 0xFF))
        } else {
            out.append(maskBit | 127)
            for shift in stride(from: 56, through: 0, by: -8) {
                out.append(UInt8((UInt64(payload.count) >> UInt64(shift)) & 0xFF))
            }
        }
        guard let mask else { return out + payload }
        out.append(contentsOf: mask)
        for (i, byte) in payload.enumerated() { out.append(byte ^ mask[i % 4]) }
        return out
    }

    static func text(_ string: String, fin: Bool = true) -> [UInt8] {
        frame(opcode: 0x1, payload: Array(string.utf8), fin: fin)
    }

    static func close(code: UInt16, reason: String = "") -> [UInt8] {
        frame(opcode: 0x8, payload: [UInt8(code >> 8), UInt8(code & 0xFF)] + Array(reason.utf8))
    }

    /// Returns a frame header that announces `length` bytes in the 64-bit form, masked with
    /// `defaultMask`, without the payload.
    static func header64(opcode: UInt8, length: UInt64, fin: Bool = true) -> [UInt8] {
        var out: [UInt8] = [(fin ? 0x80 : 0) | opcode, 0x80 | 127]
        for shift in stride(from: 56, through: 0, by: -8) {
            out.append(UInt8((length >> UInt64(shift)) & 0xFF))
        }
        return out + defaultMask
    }
}

/// A frame sent by the server, as a test client reads it.
struct ServerFrame: Equatable {
    var fin: Bool
    var opcode: UInt8
    var payload: [UInt8]

    /// The status code of a close frame, or nil.
    var closeCode: UInt16? {
        guard opcode == 0x8, payload.count >= 2 else { return nil }
        return UInt16(payload[0]) << 8 | UInt16(payload[1])
    }

    var text: String { String(decoding: payload, as: UTF8.self) }
}

/// Splits unmasked server frames off the front of a byte buffer.
enum ServerFrameParser {
    /// Returns the first complete frame and its length in bytes, or nil when more bytes are needed.
    static func parse(_ bytes: [UInt8]) -> (ServerFrame, Int)? {
        guard bytes.count >= 2 else { return nil }
        var length = Int(bytes[1] & 0x7F)
        var offset = 2
        if length == 126 {
            guard bytes.count >= 4 else { return nil }
            length = Int(bytes[2]) << 8 | Int(bytes[3])
            offset = 4
        } else if length == 127 {
            guard bytes.count >= 10 else { return nil }
            length = 0
            for i in 2..<10 { length = length << 8 | Int(bytes[i]) }
            offset = 10
        }
        guard bytes.count >= offset + length else { return nil }
        let frame = ServerFrame(fin: bytes[0] & 0x80 != 0, opcode: bytes[0] & 0x0F,
                                payload: Array(bytes[offset..<(offset + length)]))
        return (frame, offset + length)
    }
}
