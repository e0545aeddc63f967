/// The client side of RFC 6455 that the generator needs: the opening handshake, masked frames out,
/// unmasked frames in. Extensions and subprotocols are never offered, so reserved bits must be 0.
enum WebSocketClientCodec {
    /// The largest server message the generator accepts, in bytes. A snapshot of a 1,000-member
    /// document is about 450 KB, so 16 MiB leaves ample room while bounding memory per connection.
    static let maxMessageBytes = 16 << 20
    /// The largest handshake response head, in bytes.
    static let maxResponseHeadBytes = 16 << 10

    enum Opcode: UInt8 {
        case continuation = 0x0, text = 0x1, binary = 0x2, close = 0x8, ping = 0x9, pong = 0xA
    }

    struct Handshake {
        var request: [UInt8]
        var expectedAccept: String
    }

    enum ResponseResult {
        case incomplete
        case accepted(headLength: Int)
        case rejected(String)
    }

    struct Frame {
        var isFinal: Bool
        var opcode: UInt8
        var payload: Range<Int>
        /// Header plus payload, in bytes.
        var length: Int
    }

    enum FrameResult {
        case incomplete
        case frame(Frame)
        case invalid(String)
    }

    private static let acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// Builds the upgrade request for `path` (which may carry a query such as `?batch_ms=20`) and
    /// the `Sec-WebSocket-Accept` value the server's response must contain. `key` is 16 random bytes.
    static func handshake(hostHeader: String, path: String, key: [UInt8]) -> Handshake {
        let encodedKey = Base64.encode(key)
        let request = "GET \(path) HTTP/1.1\r\nHost: \(hostHeader)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: \(encodedKey)\r\nSec-WebSocket-Version: 13\r\n\r\n"
        let accept = Base64.encode(SHA1.digest(Array((encodedKey + acceptGUID).utf8)))
        return Handshake(request: Array(request.utf8), expectedAccept: accept)
    }

    /// Checks the server's handshake response: status 101 and the expected accept value.
    static func parseResponse(_ bytes: UnsafeRawBufferPointer, expectedAccept: String) -> ResponseResult {
        guard let headEnd = EventScanner.find(Array("\r\n\r\n".utf8), in: bytes, from: 0) else {
            if bytes.count > maxResponseHeadBytes {
                return .rejected("handshake response head is longer than \(maxResponseHeadBytes) bytes")
            }
            return .incomplete
        }
        let head = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[0..<headEnd]), as: UTF8.self)
        let lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusLine = lines.first.map(String.init) ?? ""
        guard statusLine.hasPrefix("HTTP/1.1 101") else {
            return .rejected("server answered the upgrade with \"\(statusLine)\" instead of 101")
        }
        var accept: Substring?
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            if line[..<colon].lowercased() == "sec-websocket-accept" {
                accept = line[line.index(after: colon)...].drop(while: { $0 == " " || $0 == "\t" })
            }
        }
        guard let accept else { return .rejected("handshake response has no Sec-WebSocket-Accept header") }
        guard accept.trimmingSuffix(while: { $0 == " " || $0 == "\t" }) == expectedAccept else {
            return .rejected("Sec-WebSocket-Accept is \"\(accept)\", expected \"\(expectedAccept)\"")
        }
        return .accepted(headLength: headEnd + 4)
    }

    /// Parses the frame header at `start` and reports the whole frame once all of it is buffered.
    static func parseFrame(_ bytes: UnsafeRawBufferPointer, at start: Int) -> FrameResult {
        let available = bytes.count - start
        guard available >= 2 else { return .incomplete }
        let first = bytes[start]
        let second = bytes[start + 1]
        guard first & 0x70 == 0 else { return .invalid("server frame sets reserved bits 0x\(String(first & 0x70, radix: 16))") }
        guard second & 0x80 == 0 else { return .invalid("server frame is masked; RFC 6455 forbids masking server frames") }
        var headerLength = 2
        var payloadLength = Int(second & 0x7F)
        if payloadLength == 126 {
            guard available >= 4 else { return .incomplete }
            payloadLength = Int(bytes[start + 2]) << 8 | Int(bytes[start + 3])
            headerLength = 4
        } else if payloadLength == 127 {
            guard available >= 10 else { return .incomplete }
            var length: UInt64 = 0
            for index in 2..<10 { length = length << 8 | UInt64(bytes[start + index]) }
            guard length <= UInt64(maxMessageBytes) else {
                return .invalid("server frame of \(length) bytes exceeds the limit of \(maxMessageBytes)")
            }
            payloadLength = Int(length)
            headerLength = 10
        }
        guard available >= headerLength + payloadLength else { return .incomplete }
        let payloadStart = start + headerLength
        return .frame(Frame(
            isFinal: first & 0x80 != 0, opcode: first & 0x0F,
            payload: payloadStart..<(payloadStart + payloadLength), length: headerLength + payloadLength))
    }

    /// Appends one final frame with `payload` masked by `maskKey` (RFC 6455 section 5.3).
    static func appendMaskedFrame(
        opcode: Opcode, payload: UnsafeRawBufferPointer, maskKey: UInt32, to output: inout [UInt8]
    ) {
        output.append(0x80 | opcode.rawValue)
        let count = payload.count
        if count < 126 {
            output.append(0x80 | UInt8(count))
        } else if count <= 0xFFFF {
            output.append(0x80 | 126)
            output.append(UInt8(count >> 8))
            output.append(UInt8(count & 0xFF))
        } else {
            output.append(0x80 | 127)
            for shift in stride(from: 56, through: 0, by: -8) { output.append(UInt8(truncatingIfNeeded: count >> shift)) }
        }
        withUnsafeBytes(of: maskKey.bigEndian) { mask in
            output.append(contentsOf: mask)
            for index in 0..<count { output.append(payload[index] ^ mask[index & 3]) }
        }
    }
}

extension Substring {
    fileprivate func trimmingSuffix(while predicate: (Character) -> Bool) -> Substring {
        var end = endIndex
        while end > startIndex, predicate(self[index(before: end)]) { end = index(before: end) }
        return self[startIndex..<end]
    }
}
