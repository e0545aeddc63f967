/// Limits that bound the work and memory of one parse.
public struct JSONParseLimits: Sendable, Equatable {
    /// Maximum input size in bytes.
    public var maxBytes: Int
    /// Maximum nesting of arrays and objects. A top-level object is depth 1.
    public var maxDepth: Int

    public init(maxBytes: Int = 1 << 20, maxDepth: Int = 32) {
        self.maxBytes = maxBytes
        self.maxDepth = maxDepth
    }
}

/// The reason a text is not accepted as JSON, with the byte offset where parsing stopped.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var offset: Int
    public var reason: String

    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }

    public var description: String { "\(reason) at byte \(offset)" }
}

/// A strict RFC 8259 JSON parser over UTF-8 bytes.
///
/// It accepts exactly the RFC's grammar: no comments, trailing commas, single quotes, byte order
/// mark, NaN or infinities. It also rejects invalid UTF-8 (overlong forms, surrogates, code points
/// past U+10FFFF), escaped lone surrogates, duplicate object keys, and input past the size or
/// depth limits. A number beyond the range of a double parses, with an infinite `doubleValue`.
public struct JSONParser: ~Copyable {
    private let input: UnsafeRawBufferPointer
    private let limits: JSONParseLimits
    private var position = 0
    private var depth = 0

    private init(input: UnsafeRawBufferPointer, limits: JSONParseLimits) {
        self.input = input
        self.limits = limits
    }

    /// Parses one JSON text, which may have whitespace around its value and nothing else.
    public static func parse(
        _ bytes: UnsafeRawBufferPointer, limits: JSONParseLimits = JSONParseLimits()
    ) throws(JSONParseError) -> JSONValue {
        guard bytes.count <= limits.maxBytes else {
            throw JSONParseError(offset: 0, reason: "input of \(bytes.count) bytes exceeds the limit of \(limits.maxBytes)")
        }
        var parser = JSONParser(input: bytes, limits: limits)
        parser.skipWhitespace()
        let value = try parser.parseValue()
        parser.skipWhitespace()
        guard parser.position == bytes.count else {
            throw parser.failure("unexpected \(parser.describeCurrentByte()) after the JSON value")
        }
        return value
    }

    public static func parse(
        _ bytes: [UInt8], limits: JSONParseLimits = JSONParseLimits()
    ) throws(JSONParseError) -> JSONValue {
        let result = bytes.withUnsafeBytes { buffer in
            Result<JSONValue, JSONParseError> { () throws(JSONParseError) in try parse(buffer, limits: limits) }
        }
        return try result.get()
    }

    public static func parse(
        _ text: String, limits: JSONParseLimits = JSONParseLimits()
    ) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8), limits: limits)
    }

    // MARK: - Values

    /// An array or object whose members are still being read.
    private enum OpenContainer {
        case array([JSONValue])
        /// The members so far, their keys (to reject duplicates) and the key of the value being read.
        case object([JSONMember], keys: Set<String>, pendingKey: String)
    }

    /// Parses one value. Nesting is kept in an explicit stack instead of recursion, so the depth
    /// limit bounds heap memory and any limit is safe on a small thread stack.
    private mutating func parseValue() throws(JSONParseError) -> JSONValue {
        var open: [OpenContainer] = []
        nextValue: while true {
            var value: JSONValue
            guard position < input.count else { throw failure("unexpected end of input, expected a value") }
            switch input[position] {
            case UInt8(ascii: "{"):
                try enterContainer()
                if position < input.count, input[position] == UInt8(ascii: "}") {
                    position += 1
                    depth -= 1
                    value = .object([])
                } else {
                    let key = try parseKey()
                    open.append(.object([], keys: [key], pendingKey: key))
                    continue nextValue
                }
            case UInt8(ascii: "["):
                try enterContainer()
                if position < input.count, input[position] == UInt8(ascii: "]") {
                    position += 1
                    depth -= 1
                    value = .array([])
                } else {
                    open.append(.array([]))
                    continue nextValue
                }
            case UInt8(ascii: "\""):
                value = .string(try parseString())
            case UInt8(ascii: "t"):
                try expectLiteral("true")
                value = .bool(true)
            case UInt8(ascii: "f"):
                try expectLiteral("false")
                value = .bool(false)
            case UInt8(ascii: "n"):
                try expectLiteral("null")
                value = .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                value = .number(try parseNumber())
            default:
                throw failure("unexpected \(describeCurrentByte()), expected a value")
            }

            // Adds the finished value to its container, closing every container that ends here.
            while let container = open.popLast() {
                skipWhitespace()
                switch container {
                case .array(var elements):
                    elements.append(value)
                    guard position < input.count else { throw failure("unexpected end of input, expected ',' or ']'") }
                    if input[position] == UInt8(ascii: ",") {
                        position += 1
                        skipWhitespace()
                        open.append(.array(elements))
                        continue nextValue
                    }
                    try expectByte(UInt8(ascii: "]"), "',' or ']' in an array")
                    depth -= 1
                    value = .array(elements)
                case .object(var members, var keys, let pendingKey):
                    members.append(JSONMember(key: pendingKey, value: value))
                    guard position < input.count else { throw failure("unexpected end of input, expected ',' or '}'") }
                    if input[position] == UInt8(ascii: ",") {
                        position += 1
                        skipWhitespace()
                        let keyOffset = position
                        let key = try parseKey()
                        guard keys.insert(key).inserted else {
                            throw JSONParseError(offset: keyOffset, reason: "duplicate object key \"\(key)\"")
                        }
                        open.append(.object(members, keys: keys, pendingKey: key))
                        continue nextValue
                    }
                    try expectByte(UInt8(ascii: "}"), "',' or '}' in an object")
                    depth -= 1
                    value = .object(members)
                }
            }
            return value
        }
    }

    private mutating func enterContainer() throws(JSONParseError) {
        depth += 1
        guard depth <= limits.maxDepth else {
            throw failure("nesting exceeds the maximum depth of \(limits.maxDepth)")
        }
        position += 1
        skipWhitespace()
    }

    /// Parses an object key and the colon after it, leaving the position at the value.
    private mutating func parseKey() throws(JSONParseError) -> String {
        guard position < input.count, input[position] == UInt8(ascii: "\"") else {
            throw failure(
                position < input.count
                    ? "unexpected \(describeCurrentByte()), expected an object key"
                    : "unexpected end of input, expected an object key"
            )
        }
        let key = try parseString()
        skipWhitespace()
        try expectByte(UInt8(ascii: ":"), "':' after an object key")
        skipWhitespace()
        return key
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        guard input.count - position >= count else { throw failure("invalid literal, expected \(literal)") }
        let expected = UnsafeRawBufferPointer(start: literal.utf8Start, count: count)
        for index in 0..<count where input[position + index] != expected[index] {
            throw failure("invalid literal, expected \(literal)")
        }
        position += count
    }

    private mutating func expectByte(_ byte: UInt8, _ expectation: String) throws(JSONParseError) {
        guard position < input.count else { throw failure("unexpected end of input, expected \(expectation)") }
        guard input[position] == byte else { throw failure("unexpected \(describeCurrentByte()), expected \(expectation)") }
        position += 1
    }

    private mutating func skipWhitespace() {
        while position < input.count {
            switch input[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    // MARK: - Numbers

    /// Returns how many bytes from `start` form a number under the RFC 8259 grammar
    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, or nil when they do not start one.
    static func numberGrammarLength(in input: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var index = start
        func isDigit(_ offset: Int) -> Bool {
            offset < input.count && input[offset] >= UInt8(ascii: "0") && input[offset] <= UInt8(ascii: "9")
        }
        if index < input.count, input[index] == UInt8(ascii: "-") { index += 1 }
        guard isDigit(index) else { return nil }
        if input[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while isDigit(index) { index += 1 }
        }
        if index < input.count, input[index] == UInt8(ascii: ".") {
            index += 1
            guard isDigit(index) else { return nil }
            while isDigit(index) { index += 1 }
        }
        if index < input.count, input[index] == UInt8(ascii: "e") || input[index] == UInt8(ascii: "E") {
            index += 1
            if index < input.count, input[index] == UInt8(ascii: "+") || input[index] == UInt8(ascii: "-") {
                index += 1
            }
            guard isDigit(index) else { return nil }
            while isDigit(index) { index += 1 }
        }
        return index - start
    }

    private mutating func parseNumber() throws(JSONParseError) -> JSONNumber {
        guard let length = Self.numberGrammarLength(in: input, from: position) else {
            throw failure("invalid number, expected digits as in -12.5e3")
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: input[position..<(position + length)]), as: UTF8.self)
        // A number beyond the range of a double is valid JSON; it reads as an infinity so that the
        // field that receives it can reject it by name.
        guard let value = Double(text) else {
            throw failure("invalid number \(text)")
        }
        position += length
        return JSONNumber(validatedText: text, value: value)
    }

    // MARK: - Strings

    /// Parses a string starting at its opening quote. Unescaped runs are validated as UTF-8 and
    /// copied in one piece.
    private mutating func parseString() throws(JSONParseError) -> String {
        position += 1
        var runStart = position
        var decoded: [UInt8]? = nil
        while true {
            guard position < input.count else { throw failure("unexpected end of input inside a string") }
            let byte = input[position]
            if byte == UInt8(ascii: "\"") {
                let run = UnsafeRawBufferPointer(rebasing: input[runStart..<position])
                position += 1
                if var bytes = decoded {
                    bytes.append(contentsOf: run)
                    return String(decoding: bytes, as: UTF8.self)
                }
                return String(decoding: run, as: UTF8.self)
            }
            if byte == UInt8(ascii: "\\") {
                if decoded == nil { decoded = [] }
                decoded!.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[runStart..<position]))
                try parseEscape(into: &decoded!)
                runStart = position
                continue
            }
            if byte < 0x20 {
                throw failure("unescaped control character 0x\(String(byte, radix: 16)) inside a string; escape it as \\u00XX")
            }
            if byte < 0x80 {
                position += 1
            } else {
                try skipUTF8Sequence()
            }
        }
    }

    private mutating func parseEscape(into bytes: inout [UInt8]) throws(JSONParseError) {
        position += 1
        guard position < input.count else { throw failure("unexpected end of input inside an escape") }
        let escaped = input[position]
        position += 1
        switch escaped {
        case UInt8(ascii: "\""): bytes.append(0x22)
        case UInt8(ascii: "\\"): bytes.append(0x5C)
        case UInt8(ascii: "/"): bytes.append(0x2F)
        case UInt8(ascii: "b"): bytes.append(0x08)
        case UInt8(ascii: "f"): bytes.append(0x0C)
        case UInt8(ascii: "n"): bytes.append(0x0A)
        case UInt8(ascii: "r"): bytes.append(0x0D)
        case UInt8(ascii: "t"): bytes.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try parseHexQuad()
            if (0xD800...0xDBFF).contains(scalar) {
                guard input.count - position >= 6, input[position] == UInt8(ascii: "\\"),
                    input[position + 1] == UInt8(ascii: "u")
                else {
                    throw failure("unpaired high surrogate \\u\(String(scalar, radix: 16, uppercase: true)) in a string")
                }
                position += 2
                let low = try parseHexQuad()
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw failure("high surrogate \\u\(String(scalar, radix: 16, uppercase: true)) is not followed by a low surrogate")
                }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw failure("unpaired low surrogate \\u\(String(scalar, radix: 16, uppercase: true)) in a string")
            }
            appendUTF8(scalar, to: &bytes)
        default:
            position -= 1
            throw failure("invalid escape \\\(describeCurrentByte()) in a string")
        }
    }

    private mutating func parseHexQuad() throws(JSONParseError) -> UInt32 {
        guard input.count - position >= 4 else { throw failure("unexpected end of input inside a \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = input[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure("invalid hex digit \(describeCurrentByte()) in a \\u escape")
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    private func appendUTF8(_ scalar: UInt32, to bytes: inout [UInt8]) {
        switch scalar {
        case 0..<0x80:
            bytes.append(UInt8(scalar))
        case 0x80..<0x800:
            bytes.append(UInt8(0xC0 | scalar >> 6))
            bytes.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            bytes.append(UInt8(0xE0 | scalar >> 12))
            bytes.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            bytes.append(UInt8(0x80 | scalar & 0x3F))
        default:
            bytes.append(UInt8(0xF0 | scalar >> 18))
            bytes.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            bytes.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            bytes.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    /// Advances over one multi-byte UTF-8 sequence, accepting only the well-formed sequences of
    /// RFC 3629 (Unicode table 3-7).
    private mutating func skipUTF8Sequence() throws(JSONParseError) {
        let lead = input[position]
        let length: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0:
            length = 3
            secondRange = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED:
            length = 3
            secondRange = 0x80...0x9F
        case 0xF0:
            length = 4
            secondRange = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4:
            length = 4
            secondRange = 0x80...0x8F
        default:
            throw failure("invalid UTF-8 lead byte 0x\(String(lead, radix: 16))")
        }
        guard input.count - position >= length else { throw failure("truncated UTF-8 sequence") }
        guard secondRange.contains(input[position + 1]) else {
            throw failure("invalid UTF-8 continuation byte 0x\(String(input[position + 1], radix: 16))")
        }
        for index in 2..<max(length, 2) where !(0x80...0xBF).contains(input[position + index]) {
            throw failure("invalid UTF-8 continuation byte 0x\(String(input[position + index], radix: 16))")
        }
        position += length
    }

    // MARK: - Errors

    private func failure(_ reason: String) -> JSONParseError {
        JSONParseError(offset: position, reason: reason)
    }

    private func describeCurrentByte() -> String {
        guard position < input.count else { return "end of input" }
        let byte = input[position]
        if byte >= 0x21 && byte < 0x7F {
            return "'\(Character(Unicode.Scalar(byte)))'"
        }
        return "byte 0x\(String(byte, radix: 16))"
    }
}
