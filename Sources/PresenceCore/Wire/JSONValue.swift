/// A JSON value (RFC 8259) as read by `JSONParser`.
///
/// Numbers keep the text they were written with, so a value echoed back (such as a message's `ref`)
/// is byte for byte what the client sent. Objects keep their members in order and never contain
/// duplicate keys, because the parser rejects them.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object([JSONMember])

    /// Returns the value of the member named `key` when this is an object that has one.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// True for null, booleans, numbers and strings.
    public var isScalar: Bool {
        switch self {
        case .null, .bool, .number, .string: true
        case .array, .object: false
        }
    }

    /// The JSON type's name as used in error messages: "null", "a boolean", "a number", "a string",
    /// "an array" or "an object".
    public var typeDescription: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// One member of a JSON object.
public struct JSONMember: Sendable, Hashable {
    public var key: String
    public var value: JSONValue

    public init(key: String, value: JSONValue) {
        self.key = key
        self.value = value
    }
}

/// A JSON number with the text it was written in.
public struct JSONNumber: Sendable, Hashable, CustomStringConvertible {
    /// The number as written, valid under the RFC 8259 number grammar.
    public let text: String
    /// The nearest double; an infinity when the text is beyond the range of a double, so readers
    /// of a field check `isFinite`.
    public let doubleValue: Double

    /// Creates a number from JSON number text, or returns nil when the text does not follow the
    /// RFC 8259 grammar or its value is beyond the range of a double.
    public init?(text: String) {
        let valid = Array(text.utf8).withUnsafeBytes { buffer in
            !buffer.isEmpty && JSONParser.numberGrammarLength(in: buffer, from: 0) == buffer.count
        }
        guard valid, let value = Double(text), value.isFinite else { return nil }
        self.text = text
        self.doubleValue = value
    }

    public init(_ value: Int) {
        text = String(value)
        doubleValue = Double(value)
    }

    public init(_ value: UInt64) {
        text = String(value)
        doubleValue = Double(value)
    }

    /// Creates a number from a finite double, or returns nil for NaN and infinities.
    public init?(_ value: Double) {
        guard value.isFinite else { return nil }
        doubleValue = value
        text = JSONNumber.format(value)
    }

    init(validatedText: String, value: Double) {
        text = validatedText
        doubleValue = value
    }

    public var description: String { text }

    /// The value as an integer in `0...UInt64(UInt32.max)` when it is one, whatever its notation
    /// (`3`, `3.0` and `3e0` are all 3).
    public var uint32Value: UInt32? {
        guard doubleValue >= 0, doubleValue <= Double(UInt32.max), doubleValue.rounded(.towardZero) == doubleValue
        else { return nil }
        return UInt32(doubleValue)
    }

    /// The value as an `Int` when it is an integer of at most 2^53 in magnitude, which a double
    /// represents exactly.
    public var intValue: Int? {
        guard doubleValue.rounded(.towardZero) == doubleValue, abs(doubleValue) <= 9_007_199_254_740_992 else {
            return nil
        }
        return Int(doubleValue)
    }

    /// Formats a finite double as JSON: integers within 2^53 without a fraction, everything else in
    /// Swift's shortest round-trip form, which is valid JSON for finite values.
    static func format(_ value: Double) -> String {
        if value.rounded(.towardZero) == value, abs(value) < 9_007_199_254_740_992 {
            return String(Int64(value))
        }
        return value.description
    }
}
