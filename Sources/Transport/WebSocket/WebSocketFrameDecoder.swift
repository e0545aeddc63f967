/// One complete message or control frame read from a WebSocket peer.
public enum WebSocketMessage: Sendable, Equatable {
    case text([UInt8])
    case binary([UInt8])
    case ping([UInt8])
    case pong([UInt8])
    /// A close frame; `code` is nil when the frame had no payload.
    case close(code: UInt16?, reason: String)
}

/// A streaming decoder for client-to-server frames (RFC 6455 section 5) that reassembles fragmented
/// messages.
///
/// Payload bytes are unmasked and, for text, validated as UTF-8 as they arrive, so an invalid byte
/// fails the connection before the rest of the frame is read. Every violation throws a
/// `WebSocketProtocolError` carrying the close code: 1002 for framing errors, 1007 for invalid UTF-8,
/// 1009 for a message over `maxMessageBytes`. No extension is negotiated, so any reserved bit is an
/// error. After a throw the decoder must be discarded.
public struct WebSocketFrameDecoder: Sendable {
    private enum State: Sendable {
        case header
        case payload(remaining: Int)
    }

    public let maxMessageBytes: Int
    public let requireMask: Bool

    private var state: State = .header
    private var header: [UInt8] = []
    private var frameOpcode: WebSocketOpcode = .continuation
    private var frameFin = false
    private var maskKey: UInt32 = 0
    private var maskOffset = 0

    /// Opcode of the fragmented data message in progress, if any.
    private var messageOpcode: WebSocketOpcode?
    private var messagePayload: [UInt8] = []
    private var utf8 = UTF8Validator()
    private var controlPayload: [UInt8] = []

    public init(maxMessageBytes: Int, requireMask: Bool = true) {
        self.maxMessageBytes = maxMessageBytes
        self.requireMask = requireMask
        header.reserveCapacity(14)
    }

    /// Consumes every byte of `input`, calling `onMessage` for each completed message or control
    /// frame in order.
    public mutating func decode(
        _ input: UnsafeRawBufferPointer,
        onMessage: (WebSocketMessage) -> Void
    ) throws(WebSocketProtocolError) {
        var index = 0
        while index < input.count {
            switch state {
            case .header:
                header.append(input[index])
                index += 1
                if let needed = headerLength(), header.count == needed {
                    try beginFrame()
                    if case .payload(let remaining) = state, remaining == 0 {
                        try finishFrame(onMessage: onMessage)
                    }
                }
            case .payload(let remaining):
                let take = min(remaining, input.count - index)
                let chunk = UnsafeRawBufferPointer(rebasing: input[index..<(index + take)])
                try consumePayload(chunk)
                index += take
                state = .payload(remaining: remaining - take)
                if remaining - take == 0 {
                    try finishFrame(onMessage: onMessage)
                }
            }
        }
    }

    public mutating func decode(
        _ input: [UInt8],
        onMessage: (WebSocketMessage) -> Void
    ) throws(WebSocketProtocolError) {
        var copy = self
        let result: Result<Void, WebSocketProtocolError> = input.withUnsafeBytes { buffer in
            do throws(WebSocketProtocolError) {
                try copy.decode(buffer, onMessage: onMessage)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        self = copy
        try result.get()
    }

    /// Returns the full header length once enough bytes are known, or nil.
    private func headerLength() -> Int? {
        guard header.count >= 2 else { return nil }
        let masked = header[1] & 0x80 != 0
        let maskBytes = masked ? 4 : 0
        switch header[1] & 0x7F {
        case 126: return 4 + maskBytes
        case 127: return 10 + maskBytes
        default: return 2 + maskBytes
        }
    }

    private mutating func beginFrame() throws(WebSocketProtocolError) {
        let first = header[0]
        let second = header[1]
        defer { header.removeAll(keepingCapacity: true) }

        guard first & 0x70 == 0 else {
            throw WebSocketProtocolError(closeCode: WebSocketCloseCode.protocolError,
                                         reason: "reserved bits set but no extension was negotiated")
        }
        guard let opcode = WebSocketOpcode(rawValue: first & 0x0F) else {
            throw WebSocketProtocolError(closeCode: WebSocketCloseCode.protocolError,
                                         reason: "unknown opcode \(first & 0x0F)")
        }
        let fin = first & 0x80 != 0
        let masked = second & 0x80 != 0
        if requireMask && !masked {
            throw WebSocketProtocolError(closeCode: WebSocketCloseCode.protocolError,
                                         reason: "client frames must be masked")
        }

        var length: UInt64
        var offset = 2
        switch second & 0x7F {
        case 126:
            length = UInt64(header[2]) << 8 | UInt64(header[3])
            offset = 4
        case 127:
            length = 0
            for i in 2..<10 { length = length << 8 | UInt64(header[i]) }
            offset = 10
            guard length & (1 << 63) == 0 else {
                throw WebSocketProtocolError(closeCode: WebSocketCloseCode.protocolError,
                                             reason: "payload length has its most significant bit set")
            }
        default:
            length = UInt64(second & 0x7F)
        }
        maskKey = 0
        if masked {
            // Stored in wire order so byte i of the key is (maskKey >> (8 * i)) & 0xFF.
            maskKey = UInt32(header[offset]) | UInt32(header[offset + 1]) << 8
                | UInt32(header[offset + 2]) << 16 | UInt32(header[offset + 3]) << 24
        }
        maskOffset = 0

        if opcode.isControl {
            guard fin else {
                throw WebSocketProtocolError(closeCode: WebSocketCloseCode.protocolError,
                                             reason: "control frames must not be fragmented")
            }
            guard length <= 125 else {
                throw WebSocketProtocolError(closeCode: WebSocketCloseCode.protocolError,
                                             reason: "control frame payload of \(length) bytes exceeds 125")
            }
            controlPayload.removeAll(keepingCapacity: true)
        } else if opcode == .continuation {
            guard messageOpcode != nil else {
                throw WebSocketProtocolError(closeCode: WebSocketCloseCode.protocolError,
                                             reason: "continuation frame without a message to continue")
            }
        } else {
            guard messageOpcode == nil else {
                throw WebSocketProtocolError(closeCode: WebSocketCloseCode.protocolError,
                                             reason: "new data frame while a fragmented message is unfinished")
            }
            messageOpcode = opcode
            messagePayload = []
            utf8 = UTF8Validator()
        }

        if !opcode.isControl {
            guard length <= UInt64(maxMessageBytes - messagePayload.count) else {
                throw WebSocketProtocolError(closeCode: WebSocketCloseCode.messageTooBig,
                                             reason: "message exceeds the limit of \(maxMessageBytes) bytes")
            }
            messagePayload.reserveCapacity(messagePayload.count + Int(length))
        }
        frameOpcode = opcode
        frameFin = fin
        state = .payload(remaining: Int(length))
    }

    private mutating func consumePayload(_ chunk: UnsafeRawBufferPointer) throws(WebSocketProtocolError) {
        if frameOpcode.isControl {
            let start = controlPayload.count
            controlPayload.append(contentsOf: chunk)
            Self.unmask(&controlPayload, from: start, key: maskKey, offset: maskOffset)
            maskOffset += chunk.count
            return
        }
        let start = messagePayload.count
        messagePayload.append(contentsOf: chunk)
        Self.unmask(&messagePayload, from: start, key: maskKey, offset: maskOffset)
        maskOffset += chunk.count
        if messageOpcode == .text {
            let valid = messagePayload.withUnsafeBytes { buffer in
                utf8.validate(UnsafeRawBufferPointer(rebasing: buffer[start...]))
            }
            guard valid else {
                throw WebSocketProtocolError(closeCode: WebSocketCloseCode.invalidPayload,
                                             reason: "text message is not valid UTF-8")
            }
        }
    }

    /// XORs `bytes[start...]` with the mask key, continuing at `offset` bytes into the frame.
    private static func unmask(_ bytes: inout [UInt8], from start: Int, key maskKey: UInt32, offset: Int) {
        guard maskKey != 0 else { return }
        let count = bytes.count - start
        let shift = UInt32((offset & 3) * 8)
        let rotated = shift == 0 ? maskKey : (maskKey >> shift) | (maskKey << (32 - shift))
        let wide = UInt64(rotated) | UInt64(rotated) << 32
        bytes.withUnsafeMutableBytes { buffer in
            var i = start
            while i + 8 <= start + count {
                let word = buffer.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                buffer.storeBytes(of: word ^ wide, toByteOffset: i, as: UInt64.self)
                i += 8
            }
            var key = rotated
            while i < start + count {
                buffer[i] ^= UInt8(truncatingIfNeeded: key)
                key = (key >> 8) | (key << 24)
                i += 1
            }
        }
    }

    private mutating func finishFrame(onMessage: (WebSocketMessage) -> Void) throws(WebSocketProtocolError) {
        state = .header
        switch frameOpcode {
        case .ping:
            onMessage(.ping(controlPayload))
        case .pong:
            onMessage(.pong(controlPayload))
        case .close:
            onMessage(try Self.parseClose(controlPayload))
        case .text, .binary, .continuation:
            guard frameFin else { return }
            let opcode = messageOpcode
            messageOpcode = nil
            let payload = messagePayload
            messagePayload = []
            if opcode == .text {
                guard utf8.isComplete else {
                    throw WebSocketProtocolError(closeCode: WebSocketCloseCode.invalidPayload,
                                                 reason: "text message ends inside a UTF-8 sequence")
                }
                onMessage(.text(payload))
            } else {
                onMessage(.binary(payload))
            }
        }
    }

    static func parseClose(_ payload: [UInt8]) throws(WebSocketProtocolError) -> WebSocketMessage {
        if payload.isEmpty { return .close(code: nil, reason: "") }
        guard payload.count >= 2 else {
            throw WebSocketProtocolError(closeCode: WebSocketCloseCode.protocolError,
                                         reason: "close frame payload of 1 byte has no room for a status code")
        }
        let code = UInt16(payload[0]) << 8 | UInt16(payload[1])
        guard WebSocketCloseCode.isValidOnWire(code) else {
            throw WebSocketProtocolError(closeCode: WebSocketCloseCode.protocolError,
                                         reason: "close code \(code) is not allowed on the wire")
        }
        var validator = UTF8Validator()
        let reasonBytes = Array(payload[2...])
        guard validator.validate(reasonBytes), validator.isComplete else {
            throw WebSocketProtocolError(closeCode: WebSocketCloseCode.invalidPayload,
                                         reason: "close reason is not valid UTF-8")
        }
        return .close(code: code, reason: String(decoding: reasonBytes, as: UTF8.self))
    }
}
