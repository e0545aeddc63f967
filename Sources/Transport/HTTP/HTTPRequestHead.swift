/// The request line and headers of one HTTP/1.1 request.
public struct HTTPRequestHead: Sendable, Equatable {
    public var method: String
    /// The request target as sent, path and query together.
    public var target: String
    public var version: String
    /// Header fields in arrival order; names keep their case, look-ups ignore it.
    public var headers: [(name: String, value: String)]

    public init(method: String, target: String, version: String, headers: [(name: String, value: String)]) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
    }

    /// The target's path, without the query string.
    public var path: String {
        if let mark = target.firstIndex(of: "?") { return String(target[..<mark]) }
        return target
    }

    /// Query parameters, percent-decoded; a repeated name keeps its first value.
    public var queryItems: [String: String] {
        guard let mark = target.firstIndex(of: "?") else { return [:] }
        var items: [String: String] = [:]
        for pair in target[target.index(after: mark)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = Self.percentDecode(String(parts[0]))
            let value = parts.count > 1 ? Self.percentDecode(String(parts[1])) : ""
            if items[name] == nil { items[name] = value }
        }
        return items
    }

    /// Returns the first value of a header, matched without regard to case.
    public func header(_ name: String) -> String? {
        for field in headers where field.name.lowercased() == name.lowercased() { return field.value }
        return nil
    }

    /// Returns whether a comma-separated header (such as `Connection`) lists `token`, ignoring case.
    public func headerContainsToken(_ name: String, _ token: String) -> Bool {
        let wanted = token.lowercased()
        for field in headers where field.name.lowercased() == name.lowercased() {
            for part in field.value.split(separator: ",") {
                if part.trimmingSpaces().lowercased() == wanted { return true }
            }
        }
        return false
    }

    /// Whether the connection stays open after the response (HTTP/1.1 default unless `close`).
    public var keepAlive: Bool {
        if headerContainsToken("Connection", "close") { return false }
        if version == "HTTP/1.0" { return headerContainsToken("Connection", "keep-alive") }
        return true
    }

    public static func == (lhs: HTTPRequestHead, rhs: HTTPRequestHead) -> Bool {
        lhs.method == rhs.method && lhs.target == rhs.target && lhs.version == rhs.version
            && lhs.headers.map(\.name) == rhs.headers.map(\.name)
            && lhs.headers.map(\.value) == rhs.headers.map(\.value)
    }

    /// Decodes `%XX` escapes and `+` (a space in form-encoded queries). A `%` not followed by two
    /// hex digits stays as it is, as WHATWG URL parsing keeps it.
    static func percentDecode(_ text: String) -> String {
        let input = Array(text.utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(input.count)
        var index = 0
        while index < input.count {
            let byte = input[index]
            if byte == UInt8(ascii: "%"), index + 2 < input.count,
               let high = hexValue(input[index + 1]), let low = hexValue(input[index + 2]) {
                bytes.append(high << 4 | low)
                index += 3
                continue
            }
            bytes.append(byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
            index += 1
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

extension Substring {
    func trimmingSpaces() -> Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result = result.dropFirst() }
        while let last = result.last, last == " " || last == "\t" { result = result.dropLast() }
        return result
    }
}
