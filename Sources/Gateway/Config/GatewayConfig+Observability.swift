import Observability

extension GatewayConfig {
    /// `[log]`: what the gateway writes to stderr.
    struct Log: Decodable, Equatable, Sendable {
        /// Minimum level written; less severe entries are dropped.
        var level: LogLevel
        var format: LogFormat

        init(from decoder: any Decoder) throws {
            let reader = try ConfigTableReader(decoder)
            level = try reader.choice(
                "level", default: "info", choices: LogLevel.allCases.map { ($0.name, $0) })
            format = try reader.choice(
                "format", default: "text", choices: LogFormat.allCases.map { ($0.rawValue, $0) })
            try reader.finishReading()
        }
    }

    /// `[metrics]`: the Prometheus exposition at the admin listener's `/metrics`.
    struct Metrics: Decodable, Equatable, Sendable {
        /// Prefix of every metric name (`materi` gives `materi_presence_active_users`); empty for none.
        var namespace: String
        /// Label per-document series with `document_id`. Turn off when documents number in the tens of
        /// thousands, because each one is a series in the scraper.
        var perDocumentLabels: Bool

        init(from decoder: any Decoder) throws {
            let reader = try ConfigTableReader(decoder)
            namespace = try reader.string("namespace", default: "materi")
            perDocumentLabels = try reader.boolean("per_document_labels", default: true)
            try reader.finishReading()

            if !namespace.isEmpty && !Metrics.isValidNamespace(namespace) {
                throw ConfigError(
                    .invalidValue(
                        path: reader.keyPath("namespace"), value: reader.displayedValue("namespace"),
                        reason: "a Prometheus name may contain only letters, digits, _ and :, and may not start "
                            + "with a digit. Use a name such as \"materi\""))
            }
        }

        /// Returns whether `name` matches `[a-zA-Z_:][a-zA-Z0-9_:]*`.
        static func isValidNamespace(_ name: String) -> Bool {
            guard let first = name.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
            return name.unicodeScalars.allSatisfy { scalar in
                scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_" || scalar == ":")
            }
        }
    }
}
