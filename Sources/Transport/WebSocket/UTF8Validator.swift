/// An incremental UTF-8 validator (RFC 3629) that fails on the first byte that cannot begin or
/// continue a valid sequence, so a text message split over frames or reads is rejected as soon as the
/// offending byte arrives rather than when the message completes.
///
/// It rejects overlong encodings, surrogates (U+D800...U+DFFF) and code points above U+10FFFF.
public struct UTF8Validator: Sendable {
    /// Bytes still expected to complete the current sequence.
    private var remaining: Int = 0
    /// Allowed range of the next continuation byte; narrower than 0x80...0xBF only right after a
    /// lead byte whose first continuation is restricted (E0, ED, F0, F4).
    private var lower: UInt8 = 0x80
    private var upper: UInt8 = 0xBF

    public init() {}

    /// True when the bytes so far end on a character boundary.
    public var isComplete: Bool { remaining == 0 }

    /// Validates the next chunk. Returns false at the first invalid byte; the validator must then be
    /// discarded.
    public mutating func validate(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var index = 0
        let count = bytes.count
        while index < count {
            let byte = bytes[index]
            if remaining == 0 {
                // ASCII fast path: skip runs of bytes below 0x80 eight at a time where aligned.
                if byte < 0x80 {
                    index += 1
                    while index + 8 <= count {
                        let word = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                        if word & 0x8080_8080_8080_8080 != 0 { break }
                        index += 8
                    }
                    continue
                }
                switch byte {
                case 0xC2...0xDF: remaining = 1; lower = 0x80; upper = 0xBF
                case 0xE0: remaining = 2; lower = 0xA0; upper = 0xBF
                case 0xE1...0xEC, 0xEE...0xEF: remaining = 2; lower = 0x80; upper = 0xBF
                case 0xED: remaining = 2; lower = 0x80; upper = 0x9F
                case 0xF0: remaining = 3; lower = 0x90; upper = 0xBF
                case 0xF1...0xF3: remaining = 3; lower = 0x80; upper = 0xBF
                case 0xF4: remaining = 3; lower = 0x80; upper = 0x8F
                default: return false
                }
            } else {
                guard byte >= lower && byte <= upper else { return false }
                remaining -= 1
                lower = 0x80
                upper = 0xBF
            }
            index += 1
        }
        return true
    }

    public mutating func validate(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { validate($0) }
    }
}
