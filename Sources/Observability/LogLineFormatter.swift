/// One log entry before formatting.
struct LogEntry {
    var timestampMs: UInt64
    var level: LogLevel
    var label: String
    var message: String
    var metadata: [String: String]
}

/// Renders entries as single lines of text or JSON. Control characters in messages and values are
/// escaped, so each entry stays on exactly one line whatever a client sent.
enum LogLineFormatter {
    /// Field names of the JSON format; metadata keys equal to one of them are written as `metadata.KEY`.
    static let reservedJSONKeys: Set<String> = ["ts", "level", "label", "message"]

    /// `2026-12-04T19:00:00.123Z info gateway: listener started listen.address=127.0.0.1:8080`,
    /// with metadata sorted by key and values quoted when they contain spaces, quotes or `=`.
    static func text(_ entry: LogEntry) -> String {
        var line = ""
        line.reserveCapacity(64 + entry.message.utf8.count + entry.metadata.count * 32)
        line += iso8601(milliseconds: entry.timestampMs)
        line += " "
        line += entry.level.name
        line += " "
        line += entry.label
        line += ": "
        appendEscaped(entry.message, to: &line, quotes: false)
        for key in entry.metadata.keys.sorted() {
            line += " "
            line += key
            line += "="
            let value = entry.metadata[key]!
            if needsQuotes(value) {
                line += "\""
                appendEscaped(value, to: &line, quotes: true)
                line += "\""
            } else {
                line += value
            }
        }
        line += "\n"
        return line
    }

    /// `{"ts":"2026-12-04T19:00:00.123Z","level":"info","label":"gateway","message":"…","connection.id":"42"}`
    static func json(_ entry: LogEntry) -> String {
        var line = "{\"ts\":\""
        line += iso8601(milliseconds: entry.timestampMs)
        line += "\",\"level\":\""
        line += entry.level.name
        line += "\",\"label\":"
        appendJSONString(entry.label, to: &line)
        line += ",\"message\":"
        appendJSONString(entry.message, to: &line)
        for key in entry.metadata.keys.sorted() {
            line += ","
            appendJSONString(reservedJSONKeys.contains(key) ? "metadata." + key : key, to: &line)
            line += ":"
            appendJSONString(entry.metadata[key]!, to: &line)
        }
        line += "}\n"
        return line
    }

    /// Formats milliseconds since the Unix epoch as UTC ISO 8601 with milliseconds:
    /// `2026-12-04T19:00:00.123Z`.
    static func iso8601(milliseconds: UInt64) -> String {
        let totalSeconds = Int64(milliseconds / 1000)
        let millis = Int(milliseconds % 1000)
        let days = totalSeconds / 86_400
        let secondsOfDay = Int(totalSeconds % 86_400)
        let (year, month, day) = civilDate(daysSinceEpoch: days)

        var text = ""
        text.reserveCapacity(24)
        appendPadded(Int(year), width: 4, to: &text)
        text += "-"
        appendPadded(month, width: 2, to: &text)
        text += "-"
        appendPadded(day, width: 2, to: &text)
        text += "T"
        appendPadded(secondsOfDay / 3600, width: 2, to: &text)
        text += ":"
        appendPadded(secondsOfDay / 60 % 60, width: 2, to: &text)
        text += ":"
        appendPadded(secondsOfDay % 60, width: 2, to: &text)
        text += "."
        appendPadded(millis, width: 3, to: &text)
        text += "Z"
        return text
    }

    /// Converts days since 1970-01-01 to a proleptic Gregorian date, with Howard Hinnant's
    /// `civil_from_days` algorithm (days are non-negative here, since the clock is after 1970).
    private static func civilDate(daysSinceEpoch: Int64) -> (year: Int64, month: Int, day: Int) {
        let shifted = daysSinceEpoch + 719_468  // days since 0000-03-01
        let era = shifted / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153  // 0 = March
        let day = Int(dayOfYear - (153 * monthIndex + 2) / 5 + 1)
        let month = Int(monthIndex < 10 ? monthIndex + 3 : monthIndex - 9)
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    private static func appendPadded(_ value: Int, width: Int, to text: inout String) {
        let digits = String(value)
        if digits.count < width {
            text += String(repeating: "0", count: width - digits.count)
        }
        text += digits
    }

    private static func needsQuotes(_ value: String) -> Bool {
        if value.isEmpty { return true }
        for scalar in value.unicodeScalars {
            switch scalar {
            case " ", "\"", "=", "\\": return true
            default: if scalar.value < 0x20 || scalar.value == 0x7F { return true }
            }
        }
        return false
    }

    /// Appends `value` with backslash escapes for control characters (and for `"` and `\` when
    /// `quotes` is set, because the value then sits inside double quotes).
    private static func appendEscaped(_ value: String, to text: inout String, quotes: Bool) {
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case "\"" where quotes: text += "\\\""
            case "\\" where quotes: text += "\\\\"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    text += "\\u{" + String(scalar.value, radix: 16) + "}"
                } else {
                    text.unicodeScalars.append(scalar)
                }
            }
        }
    }

    /// Appends `value` as a JSON string literal (RFC 8259 section 7), quotes included.
    static func appendJSONString(_ value: String, to text: inout String) {
        text += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case "\u{08}": text += "\\b"
            case "\u{0C}": text += "\\f"
            default:
                if scalar.value < 0x20 {
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
