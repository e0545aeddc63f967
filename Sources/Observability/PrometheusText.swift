/// Pieces of the Prometheus text exposition format, version 0.0.4.
enum PrometheusText {
    /// Content type to send with a rendered registry.
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// Formats a sample value or a bucket bound the way Prometheus client libraries do: integral
    /// values without a fraction (`3`, `1`), others in shortest round-trip form (`0.005`), and
    /// `+Inf`, `-Inf` and `NaN` for the special values.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value == .infinity { return "+Inf" }
        if value == -.infinity { return "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 {
            return String(Int64(value))
        }
        return String(value)
    }

    /// Escapes a label value: backslash, double quote and line feed.
    static func escapeLabelValue(_ value: String) -> String {
        guard value.contains(where: { $0 == "\\" || $0 == "\"" || $0 == "\n" }) else { return value }
        var escaped = ""
        escaped.reserveCapacity(value.utf8.count + 8)
        for character in value.unicodeScalars {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }

    /// Escapes HELP text: backslash and line feed.
    static func escapeHelp(_ text: String) -> String {
        var escaped = ""
        for character in text.unicodeScalars {
            switch character {
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }

    /// Renders `name="value"` pairs without braces.
    static func renderLabels(names: [String], values: [String]) -> String {
        var text = ""
        for (index, name) in names.enumerated() {
            if index > 0 { text += "," }
            text += name
            text += "=\""
            text += escapeLabelValue(values[index])
            text += "\""
        }
        return text
    }

    static func appendSample(name: String, labels: String, value: String, to output: inout String) {
        output += name
        if !labels.isEmpty {
            output += "{"
            output += labels
            output += "}"
        }
        output += " "
        output += value
        output += "\n"
    }

    /// Returns whether `name` is a valid metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    static func isValidMetricName(_ name: String) -> Bool {
        isValidName(name, allowColon: true)
    }

    /// Returns whether `name` is a valid label name: `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__`,
    /// which Prometheus reserves.
    static func isValidLabelName(_ name: String) -> Bool {
        isValidName(name, allowColon: false) && !name.hasPrefix("__")
    }

    private static func isValidName(_ name: String, allowColon: Bool) -> Bool {
        guard let first = name.utf8.first else { return false }
        func isLetter(_ byte: UInt8) -> Bool {
            (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F
                || (allowColon && byte == 0x3A)
        }
        guard isLetter(first) else { return false }
        return name.utf8.allSatisfy { isLetter($0) || ($0 >= 0x30 && $0 <= 0x39) }
    }
}
