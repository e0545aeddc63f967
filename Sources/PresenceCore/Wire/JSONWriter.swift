/// An append-only builder of UTF-8 JSON text, for the encoders on the broadcast path.
///
/// The caller writes the punctuation; the writer formats scalars. Strings are escaped as RFC 8259
/// requires: quote, backslash and every control character below U+0020, with the short forms
/// `\b \f \n \r \t` where they exist. Other characters, including non-ASCII ones, are copied as UTF-8.
public struct JSONWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(reservingCapacity capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    @inline(__always)
    public mutating func appendRaw(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    public mutating func appendRaw(_ encoded: [UInt8]) {
        bytes.append(contentsOf: encoded)
    }

    public mutating func appendRaw(_ encoded: ArraySlice<UInt8>) {
        bytes.append(contentsOf: encoded)
    }

    public mutating func appendString(_ string: String) {
        bytes.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { utf8 in
            var runStart = 0
            for index in 0..<utf8.count {
                let byte = utf8[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                appendEscape(byte)
                runStart = index + 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func appendEscape(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""): appendRaw("\\\"")
        case UInt8(ascii: "\\"): appendRaw("\\\\")
        case 0x08: appendRaw("\\b")
        case 0x0C: appendRaw("\\f")
        case 0x0A: appendRaw("\\n")
        case 0x0D: appendRaw("\\r")
        case 0x09: appendRaw("\\t")
        default:
            let hexDigits: StaticString = "0123456789abcdef"
            appendRaw("\\u00")
            bytes.append(hexDigits.utf8Start[Int(byte >> 4)])
            bytes.append(hexDigits.utf8Start[Int(byte & 0x0F)])
        }
    }

    public mutating func appendOptionalString(_ string: String?) {
        if let string {
            appendString(string)
        } else {
            appendRaw("null")
        }
    }

    public mutating func appendBool(_ value: Bool) {
        if value {
            appendRaw("true")
        } else {
            appendRaw("false")
        }
    }

    public mutating func appendUInt64(_ value: UInt64) {
        guard value > 0 else {
            bytes.append(UInt8(ascii: "0"))
            return
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var remaining = value
        withUnsafeMutableBytes(of: &digits) { buffer in
            while remaining > 0 {
                buffer[19 - count] = UInt8(ascii: "0") + UInt8(remaining % 10)
                remaining /= 10
                count += 1
            }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[(20 - count)...]))
        }
    }

    public mutating func appendInt(_ value: Int) {
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
        }
        appendUInt64(UInt64(value.magnitude))
    }

    /// Writes a float in Swift's shortest round-trip form. A non-finite value, which JSON cannot
    /// express and the decoders never produce, is written as 0.
    public mutating func appendFloat(_ value: Float) {
        guard value.isFinite else {
            bytes.append(UInt8(ascii: "0"))
            return
        }
        bytes.append(contentsOf: value.description.utf8)
    }

    /// Writes any JSON value; numbers keep the text they were parsed from.
    public mutating func appendValue(_ value: JSONValue) {
        switch value {
        case .null: appendRaw("null")
        case .bool(let flag): appendBool(flag)
        case .number(let number): bytes.append(contentsOf: number.text.utf8)
        case .string(let string): appendString(string)
        case .array(let elements):
            bytes.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                appendValue(element)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let members):
            bytes.append(UInt8(ascii: "{"))
            for (index, member) in members.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                appendString(member.key)
                bytes.append(UInt8(ascii: ":"))
                appendValue(member.value)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }
}
