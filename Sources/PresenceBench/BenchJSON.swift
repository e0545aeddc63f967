/// A JSON document for the `--json` report, with object keys kept in insertion order so that
/// reports from different runs diff cleanly.
enum BenchJSON: Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([BenchJSON])
    case object([(String, BenchJSON)])

    /// Renders the document with two-space indentation and arrays of numbers on one line.
    func rendered() -> String {
        var output = ""
        render(into: &output, indent: 0)
        output += "\n"
        return output
    }

    private func render(into output: inout String, indent: Int) {
        switch self {
        case .null: output += "null"
        case .bool(let value): output += value ? "true" : "false"
        case .int(let value): output += String(value)
        case .double(let value): output += value.isFinite ? formatDecimal(value, digits: 6, trimZeros: true) : "null"
        case .string(let value): Self.appendQuoted(value, to: &output)
        case .array(let items):
            if items.allSatisfy({ $0.isScalar }) {
                output += "["
                for (index, item) in items.enumerated() {
                    if index > 0 { output += ", " }
                    item.render(into: &output, indent: indent)
                }
                output += "]"
                return
            }
            output += "[\n"
            for (index, item) in items.enumerated() {
                output += String(repeating: " ", count: indent + 2)
                item.render(into: &output, indent: indent + 2)
                output += index + 1 < items.count ? ",\n" : "\n"
            }
            output += String(repeating: " ", count: indent) + "]"
        case .object(let fields):
            if fields.isEmpty {
                output += "{}"
                return
            }
            output += "{\n"
            for (index, field) in fields.enumerated() {
                output += String(repeating: " ", count: indent + 2)
                Self.appendQuoted(field.0, to: &output)
                output += ": "
                field.1.render(into: &output, indent: indent + 2)
                output += index + 1 < fields.count ? ",\n" : "\n"
            }
            output += String(repeating: " ", count: indent) + "}"
        }
    }

    private var isScalar: Bool {
        switch self {
        case .array, .object: return false
        default: return true
        }
    }

    private static func appendQuoted(_ text: String, to output: inout String) {
        output += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    output.unicodeScalars.append(scalar)
                }
            }
        }
        output += "\""
    }
}

/// Formats `value` with exactly `digits` decimals (or fewer with `trimZeros`), without Foundation.
func formatDecimal(_ value: Double, digits: Int, trimZeros: Bool = false) -> String {
    guard value.isFinite else { return value.isNaN ? "nan" : (value < 0 ? "-inf" : "inf") }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    guard scaled < 9.0e18 else { return String(value) }
    let whole = UInt64(scaled) / UInt64(scale)
    let sign = value < 0 && scaled > 0 ? "-" : ""
    guard digits > 0 else { return "\(sign)\(whole)" }
    var fraction = String(UInt64(scaled) % UInt64(scale))
    fraction = String(repeating: "0", count: digits - fraction.count) + fraction
    if trimZeros {
        while fraction.hasSuffix("0") { fraction.removeLast() }
    }
    return fraction.isEmpty ? "\(sign)\(whole)" : "\(sign)\(whole).\(fraction)"
}
