/// Writes hook arguments straight into the shim's value encoding (see CLua.h), without building
/// `LuaValue` dictionaries first: on a hook call that is most of the Swift-side cost.
struct LuaArgumentEncoder {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 512) {
        bytes.reserveCapacity(capacity)
    }

    mutating func writeNil() {
        bytes.append(UInt8(ascii: "n"))
    }

    mutating func write(_ flag: Bool) {
        bytes.append(flag ? UInt8(ascii: "t") : UInt8(ascii: "f"))
    }

    mutating func write(_ integer: Int64) {
        bytes.append(UInt8(ascii: "i"))
        appendUInt64(UInt64(bitPattern: integer))
    }

    mutating func write(_ number: Double) {
        bytes.append(UInt8(ascii: "d"))
        appendUInt64(number.bitPattern)
    }

    mutating func write(_ string: String) {
        bytes.append(UInt8(ascii: "s"))
        var string = string
        string.withUTF8 { utf8 in
            appendUInt32(UInt32(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    /// Starts a table of exactly `pairs` key/value pairs; the caller writes each key, then its value.
    mutating func beginTable(pairs: Int) {
        bytes.append(UInt8(ascii: "T"))
        appendUInt32(UInt32(pairs))
    }

    /// Writes the string key of the next pair.
    mutating func key(_ name: String) {
        write(name)
    }

    /// Writes the integer key of the next pair.
    mutating func key(_ index: Int) {
        write(Int64(index))
    }

    mutating func write(_ value: LuaValue) {
        LuaValueCodec.encode(value, into: &bytes)
    }

    /// Starts a value that the state keeps in shared-table `slot` as a read-only view; the caller
    /// writes the value next. Slots are below `CLUA_CACHE_SLOTS`.
    mutating func beginSharedValue(slot: UInt32) {
        bytes.append(UInt8(ascii: "C"))
        appendUInt32(slot)
    }

    /// Writes the read-only view kept in shared-table `slot` by an earlier call.
    mutating func writeSharedValue(slot: UInt32) {
        bytes.append(UInt8(ascii: "c"))
        appendUInt32(slot)
    }

    private mutating func appendUInt64(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    private mutating func appendUInt32(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
}
