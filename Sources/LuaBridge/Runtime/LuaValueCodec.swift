import CLua

/// Writes and reads the tagged binary form in which values cross into and out of the C shim (the
/// layout is documented in CLua.h). Lua tables are built and read only in C, inside protected calls.
enum LuaValueCodec {
    /// Appends the encoding of `value` to `bytes`. `opaque` values encode as nil.
    static func encode(_ value: LuaValue, into bytes: inout [UInt8]) {
        switch value {
        case .nil, .opaque:
            bytes.append(UInt8(ascii: "n"))
        case .boolean(let flag):
            bytes.append(flag ? UInt8(ascii: "t") : UInt8(ascii: "f"))
        case .integer(let integer):
            bytes.append(UInt8(ascii: "i"))
            appendUInt64(UInt64(bitPattern: integer), to: &bytes)
        case .number(let number):
            bytes.append(UInt8(ascii: "d"))
            appendUInt64(number.bitPattern, to: &bytes)
        case .string(let string):
            appendString(string, to: &bytes)
        case .table(let fields):
            bytes.append(UInt8(ascii: "T"))
            appendUInt32(UInt32(fields.count), to: &bytes)
            for (key, element) in fields {
                switch key {
                case .integer(let integer):
                    bytes.append(UInt8(ascii: "i"))
                    appendUInt64(UInt64(bitPattern: integer), to: &bytes)
                case .string(let string):
                    appendString(string, to: &bytes)
                }
                encode(element, into: &bytes)
            }
        }
    }

    /// Returns the concatenated encodings of `values`, the form hook arguments take.
    static func encodeArguments(_ values: [LuaValue]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        for value in values {
            encode(value, into: &bytes)
        }
        return bytes
    }

    /// Decodes a result: a uint32 count followed by that many values.
    static func decodeResults(_ buffer: UnsafeRawBufferPointer) throws(LuaValueDecodingError) -> [LuaValue] {
        var reader = Reader(buffer: buffer)
        let count = try reader.readUInt32()
        var values: [LuaValue] = []
        values.reserveCapacity(Int(min(count, 16)))
        for _ in 0..<count {
            values.append(try reader.readValue(depth: 0))
        }
        guard reader.isAtEnd else { throw LuaValueDecodingError(reason: "trailing bytes after the last result") }
        return values
    }

    /// Decodes exactly one value.
    static func decodeValue(_ buffer: UnsafeRawBufferPointer) throws(LuaValueDecodingError) -> LuaValue {
        var reader = Reader(buffer: buffer)
        let value = try reader.readValue(depth: 0)
        guard reader.isAtEnd else { throw LuaValueDecodingError(reason: "trailing bytes after the value") }
        return value
    }

    private static func appendUInt64(_ value: UInt64, to bytes: inout [UInt8]) {
        for shift in stride(from: 0, to: 64, by: 8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }

    private static func appendUInt32(_ value: UInt32, to bytes: inout [UInt8]) {
        for shift in stride(from: 0, to: 32, by: 8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift)))
        }
    }

    private static func appendString(_ string: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "s"))
        let utf8 = string.utf8
        appendUInt32(UInt32(utf8.count), to: &bytes)
        bytes.append(contentsOf: utf8)
    }

    private struct Reader {
        let buffer: UnsafeRawBufferPointer
        var position = 0

        var isAtEnd: Bool { position == buffer.count }

        mutating func readByte() throws(LuaValueDecodingError) -> UInt8 {
            guard position < buffer.count else { throw LuaValueDecodingError(reason: "truncated value") }
            defer { position += 1 }
            return buffer[position]
        }

        mutating func readUInt32() throws(LuaValueDecodingError) -> UInt32 {
            guard buffer.count - position >= 4 else { throw LuaValueDecodingError(reason: "truncated count") }
            var value: UInt32 = 0
            for index in (0..<4).reversed() {
                value = value << 8 | UInt32(buffer[position + index])
            }
            position += 4
            return value
        }

        mutating func readUInt64() throws(LuaValueDecodingError) -> UInt64 {
            guard buffer.count - position >= 8 else { throw LuaValueDecodingError(reason: "truncated number") }
            var value: UInt64 = 0
            for index in (0..<8).reversed() {
                value = value << 8 | UInt64(buffer[position + index])
            }
            position += 8
            return value
        }

        mutating func readString() throws(LuaValueDecodingError) -> String {
            let length = Int(try readUInt32())
            guard buffer.count - position >= length else { throw LuaValueDecodingError(reason: "truncated string") }
            let bytes = UnsafeRawBufferPointer(rebasing: buffer[position..<position + length])
            position += length
            // Lua strings are bytes. Invalid UTF-8 becomes U+FFFD, as String(decoding:) repairs it.
            return String(decoding: bytes, as: UTF8.self)
        }

        mutating func readValue(depth: Int) throws(LuaValueDecodingError) -> LuaValue {
            guard depth <= Int(CLUA_MAX_VALUE_DEPTH) else {
                throw LuaValueDecodingError(reason: "value nested deeper than \(CLUA_MAX_VALUE_DEPTH) levels")
            }
            let tag = try readByte()
            switch tag {
            case UInt8(ascii: "n"): return .nil
            case UInt8(ascii: "f"): return .boolean(false)
            case UInt8(ascii: "t"): return .boolean(true)
            case UInt8(ascii: "i"): return .integer(Int64(bitPattern: try readUInt64()))
            case UInt8(ascii: "d"): return .number(Double(bitPattern: try readUInt64()))
            case UInt8(ascii: "s"): return .string(try readString())
            case UInt8(ascii: "F"): return .opaque
            case UInt8(ascii: "T"):
                let count = try readUInt32()
                var fields: [LuaKey: LuaValue] = [:]
                fields.reserveCapacity(Int(min(count, 1024)))
                for _ in 0..<count {
                    let key: LuaKey
                    switch try readValue(depth: depth + 1) {
                    case .integer(let integer): key = .integer(integer)
                    case .string(let string): key = .string(string)
                    default: throw LuaValueDecodingError(reason: "table key that is not an integer or a string")
                    }
                    fields[key] = try readValue(depth: depth + 1)
                }
                return .table(fields)
            default:
                throw LuaValueDecodingError(reason: "unknown value tag \(tag)")
            }
        }
    }
}

/// The shim produced bytes that are not a valid value encoding. This indicates a bug in the shim.
struct LuaValueDecodingError: Error, Sendable, CustomStringConvertible {
    var reason: String
    var description: String { "invalid value encoding from the Lua shim: \(reason)" }
}
