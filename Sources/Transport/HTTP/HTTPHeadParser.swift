/// A rejection of a request head, with the status code of the response.
public struct HTTPParseError: Error, Sendable, Equatable {
    /// 400 for a malformed head, 431 for one over the size limit, 505 for another HTTP version.
    public let status: Int
    public let reason: String
}

/// Parses an HTTP/1.1 request head (RFC 9112 section 2-5) from a growing buffer.
///
/// The limit covers the request line and all headers together. Obsolete line folding, a
/// missing Host header and bare CR are rejected; bare LF line endings are accepted as RFC 9112 allows.
/// Header names must be tokens and values must not contain control characters other than tab.
public struct HTTPHeadParser: Sendable {
    public let maxHeadBytes: Int

    public init(maxHeadBytes: Int = 8192) {
        self.maxHeadBytes = maxHeadBytes
    }

    /// Returns the head and the number of bytes it used, nil when more bytes are needed, or throws.
    public func parse(_ buffer: UnsafeRawBufferPointer) throws(HTTPParseError) -> (HTTPRequestHead, Int)? {
        guard let end = Self.findHeadEnd(buffer, limit: maxHeadBytes) else {
            if buffer.count > maxHeadBytes {
                throw HTTPParseError(status: 431, reason: "request head exceeds \(maxHeadBytes) bytes")
            }
            return nil
        }
        // The search looks a few bytes past the limit to find a terminator that straddles it, so
        // a head found there can still be too long.
        guard end.consumed <= maxHeadBytes else {
            throw HTTPParseError(status: 431, reason: "request head exceeds \(maxHeadBytes) bytes")
        }
        var lines: [ArraySlice<UInt8>] = []
        let bytes = Array(buffer[0..<end.headEnd])
        var start = 0
        for i in 0..<bytes.count where bytes[i] == 0x0A {
            var lineEnd = i
            if lineEnd > start && bytes[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            lines.append(bytes[start..<lineEnd])
            start = i + 1
        }
        guard let requestLine = lines.first else {
            throw HTTPParseError(status: 400, reason: "empty request")
        }
        let head = try Self.parseRequestLine(requestLine)
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() where !line.isEmpty {
            headers.append(try Self.parseHeader(line))
        }
        var result = HTTPRequestHead(method: head.0, target: head.1, version: head.2, headers: headers)
        if result.version == "HTTP/1.1" && result.header("Host") == nil {
            throw HTTPParseError(status: 400, reason: "missing Host header")
        }
        if result.headers.contains(where: { $0.name.lowercased() == "transfer-encoding" }) {
            throw HTTPParseError(status: 400, reason: "Transfer-Encoding request bodies are not supported; send Content-Length")
        }
        result.headers = headers
        return (result, end.consumed)
    }

    public func parse(_ buffer: [UInt8]) throws(HTTPParseError) -> (HTTPRequestHead, Int)? {
        let result: Result<(HTTPRequestHead, Int)?, HTTPParseError> = buffer.withUnsafeBytes { raw in
            do throws(HTTPParseError) { return .success(try parse(raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Finds the blank line ending the head. `headEnd` excludes it; `consumed` includes it.
    private static func findHeadEnd(_ buffer: UnsafeRawBufferPointer, limit: Int) -> (headEnd: Int, consumed: Int)? {
        let count = min(buffer.count, limit + 4)
        var i = 0
        while i < count {
            if buffer[i] == 0x0A {
                if i + 1 < count && buffer[i + 1] == 0x0A { return (i + 1, i + 2) }
                if i + 2 < count && buffer[i + 1] == 0x0D && buffer[i + 2] == 0x0A { return (i + 1, i + 3) }
            }
            i += 1
        }
        return nil
    }

    private static func parseRequestLine(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> (String, String, String) {
        let parts = line.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw HTTPParseError(status: 400, reason: "malformed request line; expected METHOD TARGET HTTP/1.1")
        }
        for byte in parts[0] where !isTokenByte(byte) {
            throw HTTPParseError(status: 400, reason: "invalid character in method")
        }
        for byte in parts[1] where byte <= 0x20 || byte == 0x7F {
            throw HTTPParseError(status: 400, reason: "invalid character in request target")
        }
        let version = String(decoding: parts[2], as: UTF8.self)
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else {
            if version.hasPrefix("HTTP/") {
                throw HTTPParseError(status: 505, reason: "HTTP version \(version) is not supported; use HTTP/1.1")
            }
            throw HTTPParseError(status: 400, reason: "malformed HTTP version")
        }
        let target = String(decoding: parts[1], as: UTF8.self)
        guard target.hasPrefix("/") || target == "*" else {
            throw HTTPParseError(status: 400, reason: "request target must be an absolute path")
        }
        return (String(decoding: parts[0], as: UTF8.self), target, version)
    }

    private static func parseHeader(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> (name: String, value: String) {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex else {
            throw HTTPParseError(status: 400, reason: "malformed header line without a name and colon")
        }
        let name = line[line.startIndex..<colon]
        for byte in name where !isTokenByte(byte) {
            throw HTTPParseError(status: 400, reason: "invalid character in header name")
        }
        var value = line[(colon + 1)...]
        while let first = value.first, first == 0x20 || first == 0x09 { value = value.dropFirst() }
        while let last = value.last, last == 0x20 || last == 0x09 { value = value.dropLast() }
        for byte in value where (byte < 0x20 && byte != 0x09) || byte == 0x7F {
            throw HTTPParseError(status: 400, reason: "invalid control character in header value")
        }
        return (String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
    }

    /// tchar of RFC 9110 section 5.6.2.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
             UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
             UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}
