/// Builds server-to-client frames (unmasked, RFC 6455 section 5.2).
///
/// A frame's bytes do not depend on the recipient, so a room can encode an event once and hand the
/// same array to every member's send queue.
public enum WebSocketFrameEncoder {
    /// Returns a complete frame: header then payload.
    public static func frame(_ opcode: WebSocketOpcode, payload: [UInt8], fin: Bool = true) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(payload.count + 10)
        appendHeader(&out, opcode: opcode, length: payload.count, fin: fin)
        out.append(contentsOf: payload)
        return out
    }

    public static func frame(_ opcode: WebSocketOpcode, payload: UnsafeRawBufferPointer) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(payload.count + 10)
        appendHeader(&out, opcode: opcode, length: payload.count, fin: true)
        out.append(contentsOf: payload)
        return out
    }

    /// Returns a close frame with `code` and a reason truncated to fit the 125-byte control payload limit
    /// without splitting a UTF-8 sequence.
    public static func closeFrame(code: UInt16, reason: String) -> [UInt8] {
        var payload: [UInt8] = [UInt8(code >> 8), UInt8(code & 0xFF)]
        var reasonBytes = Array(reason.utf8)
        if reasonBytes.count > 123 {
            var end = 123
            while end > 0 && reasonBytes[end] & 0xC0 == 0x80 { end -= 1 }
            reasonBytes = Array(reasonBytes[..<end])
        }
        payload.append(contentsOf: reasonBytes)
        return frame(.close, payload: payload)
    }

    public static func appendHeader(_ out: inout [UInt8], opcode: WebSocketOpcode, length: Int, fin: Bool = true) {
        out.append((fin ? 0x80 : 0) | opcode.rawValue)
        if length < 126 {
            out.append(UInt8(length))
        } else if length <= 0xFFFF {
            out.append(126)
            out.append(UInt8(length >> 8))
            out.append(UInt8(length & 0xFF))
        } else {
            out.append(127)
            for shift in stride(from: 56, through: 0, by: -8) {
                out.append(UInt8((UInt64(length) >> UInt64(shift)) & 0xFF))
            }
        }
    }
}
