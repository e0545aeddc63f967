/// Any JSON value, decoded as it is. Used for free-form plugin tables and to show a rejected value
/// in an error message.
indirect enum JSONValue: Decodable, Equatable, Sendable {
    case null
    case bool(Bool)
    case integer(Int64)
    case float(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        if var array = try? decoder.unkeyedContainer() {
            var elements: [JSONValue] = []
            while !array.isAtEnd {
                elements.append(try array.decode(JSONValue.self))
            }
            self = .array(elements)
            return
        }
        if let object = try? decoder.container(keyedBy: ConfigKey.self) {
            var members: [String: JSONValue] = [:]
            for key in object.allKeys {
                members[key.stringValue] = try object.decode(JSONValue.self, forKey: key)
            }
            self = .object(members)
            return
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() {
            self = .null
        } else if let value = try? single.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? single.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? single.decode(Double.self) {
            self = .float(value)
        } else {
            self = .string(try single.decode(String.self))
        }
    }

    /// Compact JSON text with object keys sorted, so equal tables give equal text.
    var jsonText: String {
        var text = ""
        appendJSON(to: &text)
        return text
    }

    private func appendJSON(to text: inout String) {
        switch self {
        case .null:
            text += "null"
        case .bool(let value):
            text += value ? "true" : "false"
        case .integer(let value):
            text += String(value)
        case .float(let value):
            // JSON has no infinity or NaN; toml++ already writes those as strings.
            text += value.isFinite ? String(value) : "null"
        case .string(let value):
            JSONValue.appendQuoted(value, to: &text)
        case .array(let elements):
            text += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { text += "," }
                element.appendJSON(to: &text)
            }
            text += "]"
        case .object(let members):
            text += "{"
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { text += "," }
                JSONValue.appendQuoted(key, to: &text)
                text += ":"
                members[key]!.appendJSON(to: &text)
            }
            text += "}"
        }
    }

    /// The value written as in a TOML file (`"text"`, `8080`, `[1, 2]`, `{ a = 1 }`), cut to about 80
    /// characters so that a huge table does not flood the message.
    var tomlText: String {
        let full = tomlRendering
        guard full.count > 80 else { return full }
        return String(full.prefix(77)) + "..."
    }

    private var tomlRendering: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return value ? "true" : "false"
        case .integer(let value): return String(value)
        case .float(let value): return String(value)
        case .string(let value):
            var text = ""
            JSONValue.appendQuoted(value, to: &text)
            return text
        case .array(let elements):
            return "[" + elements.map(\.tomlRendering).joined(separator: ", ") + "]"
        case .object(let members):
            if members.isEmpty { return "{}" }
            let pairs = members.keys.sorted().map { "\($0) = \(members[$0]!.tomlRendering)" }
            return "{ " + pairs.joined(separator: ", ") + " }"
        }
    }

    /// Appends a quoted string with JSON escapes, which TOML basic strings share.
    static func appendQuoted(_ value: String, to text: inout String) {
        text += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16)
                    text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    text.unicodeScalars.append(scalar)
                }
            }
        }
        text += "\""
    }
}
