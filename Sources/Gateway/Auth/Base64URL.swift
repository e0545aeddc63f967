/// The strict base64url decoding that JWS compact serialization uses (RFC 7515 section 2, RFC 4648
/// section 5): the URL-safe alphabet, no padding, no whitespace or line breaks.
///
/// It also rejects encodings that are not canonical: a length that leaves a single trailing
/// character, and a last character whose unused low bits are not zero. Without that, several texts
/// would decode to the same bytes, so a token could be changed without changing its signature.
enum Base64URL {
    /// The reason a text is not strict base64url.
    enum DecodingError: Error, Equatable, Sendable {
        /// A byte outside `A-Z a-z 0-9 - _`, at its offset in the text.
        case invalidCharacter(byte: UInt8, offset: Int)
        /// The length is 1 more than a multiple of 4, which no byte sequence encodes to.
        case invalidLength(Int)
        /// The last character carries bits past the end of the data.
        case nonCanonicalTrailingBits
    }

    /// Decodes `text`, which must be strict base64url.
    static func decode(_ text: some Collection<UInt8>) throws(DecodingError) -> [UInt8] {
        let count = text.count
        if count % 4 == 1 { throw .invalidLength(count) }

        var output: [UInt8] = []
        output.reserveCapacity(count * 3 / 4)
        var accumulator: UInt32 = 0
        var bitCount = 0
        var lastValue: UInt8 = 0
        for (offset, byte) in text.enumerated() {
            guard let value = sextet(byte) else { throw .invalidCharacter(byte: byte, offset: offset) }
            lastValue = value
            accumulator = accumulator << 6 | UInt32(value)
            bitCount += 6
            if bitCount >= 8 {
                bitCount -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bitCount)))
                accumulator &= (1 << UInt32(bitCount)) - 1
            }
        }
        // A tail of 2 characters leaves 4 unused bits, a tail of 3 leaves 2; they must be zero.
        let unusedBits: UInt8
        switch count % 4 {
        case 2: unusedBits = 0b1111
        case 3: unusedBits = 0b11
        default: unusedBits = 0
        }
        if lastValue & unusedBits != 0 { throw .nonCanonicalTrailingBits }
        return output
    }

    private static func sextet(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return byte - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return byte - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0") + 52
        case UInt8(ascii: "-"): return 62
        case UInt8(ascii: "_"): return 63
        default: return nil
        }
    }
}

extension Base64URL.DecodingError: CustomStringConvertible {
    var description: String {
        switch self {
        case .invalidCharacter(let byte, let offset):
            let character = byte >= 0x21 && byte < 0x7F ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
            let hint = byte == UInt8(ascii: "=") ? " (base64url in a token has no padding)"
                : byte == UInt8(ascii: "+") || byte == UInt8(ascii: "/") ? " (a token uses base64url, with - and _)" : ""
            return "invalid base64url character \(character) at offset \(offset)\(hint)"
        case .invalidLength(let length):
            return "invalid base64url length \(length): no data encodes to 4n+1 characters"
        case .nonCanonicalTrailingBits:
            return "non-canonical base64url: the last character has bits set past the end of the data"
        }
    }
}
