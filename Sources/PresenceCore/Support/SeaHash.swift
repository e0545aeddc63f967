/// SeaHash, version 4 of the Rust `seahash` crate: `SeaHash.hash` returns what `seahash::hash`
/// returns for the same bytes.
///
/// The state is four 64-bit lanes seeded with the crate's constants. Each little-endian 8-byte word
/// of the input (the last one zero-padded) is XORed into the first lane, diffused, and the lanes
/// rotate. The result diffuses the XOR of the lanes and the input length.
public enum SeaHash {
    private static let seeds: (UInt64, UInt64, UInt64, UInt64) = (
        0x16f1_1fe8_9b0d_677c, 0xb480_a793_d8e6_c86c, 0x6fe2_e5aa_f078_ebc9, 0x14f9_94a4_c525_9381
    )

    public static func hash(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var (a, b, c, d) = seeds
        var word: UInt64 = 0
        var wordBytes = 0
        var length: UInt64 = 0
        for byte in bytes {
            word |= UInt64(byte) << (8 * UInt64(wordBytes))
            wordBytes += 1
            length &+= 1
            if wordBytes == 8 {
                (a, b, c, d) = (b, c, d, diffuse(a ^ word))
                word = 0
                wordBytes = 0
            }
        }
        if wordBytes > 0 {
            (a, b, c, d) = (b, c, d, diffuse(a ^ word))
        }
        return diffuse(a ^ b ^ c ^ d ^ length)
    }

    public static func hash(_ string: String) -> UInt64 {
        hash(string.utf8)
    }

    /// The crate's bijective mixing function.
    static func diffuse(_ value: UInt64) -> UInt64 {
        var x = value &* 0x6eed_0e9d_a4d9_4a4f
        x ^= (x >> 32) >> (x >> 60)
        return x &* 0x6eed_0e9d_a4d9_4a4f
    }
}

/// Returns the default colour of a user, `hsl(H, 70%, 50%)`, where H is the SeaHash of the UTF-8
/// user id modulo 360, written as an integer.
public func defaultColor(forUserID userID: String) -> String {
    let hue = SeaHash.hash(userID) % 360
    return "hsl(\(hue), 70%, 50%)"
}
