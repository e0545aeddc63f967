extension GatewayConfig {
    /// `[presence]`: timings and limits of the presence model. All durations are in the unit their
    /// name ends with.
    struct Presence: Decodable, Equatable, Sendable {
        /// Minimum time between two `CursorMoved` events of one user; the latest position is still
        /// sent when the interval ends. 0 sends every move.
        var cursorThrottleMs: Int
        /// Time after the last keystroke at which typing stops.
        var typingDebounceMs: Int
        /// Lifetime of a stored presence record that is not refreshed.
        var presenceTTLSeconds: Int
        /// Inactivity after which a user becomes `Idle`.
        var activityTimeoutMs: Int
        /// Inactivity after which a user becomes `Away`; greater than `activityTimeoutMs`.
        var awayTimeoutMs: Int
        /// Distinct users per document, unless a plugin sets another capacity.
        var maxUsersPerDocument: Int
        /// Tick on which a room sends its cursor, viewport and typing events together; 0 sends each at once.
        var flushIntervalMs: Int

        init(from decoder: any Decoder) throws {
            let reader = try ConfigTableReader(decoder)
            cursorThrottleMs = try reader.integer("cursor_throttle_ms", default: 50, range: 0...60_000)
            typingDebounceMs = try reader.integer("typing_debounce_ms", default: 500, range: 50...60_000)
            presenceTTLSeconds = try reader.integer("presence_ttl_seconds", default: 30, range: 1...86_400)
            activityTimeoutMs = try reader.integer("activity_timeout_ms", default: 30_000, range: 1_000...86_400_000)
            awayTimeoutMs = try reader.integer("away_timeout_ms", default: 300_000, range: 1_000...604_800_000)
            maxUsersPerDocument = try reader.integer("max_users_per_document", default: 1_000, range: 1...1_000_000)
            flushIntervalMs = try reader.integer("flush_interval_ms", default: 16, range: 0...1_000)
            try reader.finishReading()

            if awayTimeoutMs <= activityTimeoutMs {
                let away = reader.keyPath("away_timeout_ms")
                let idle = reader.keyPath("activity_timeout_ms")
                throw ConfigError(
                    .conflict(
                        paths: [away, idle],
                        reason: "\(away) (\(awayTimeoutMs)) must be greater than \(idle) (\(activityTimeoutMs)), "
                            + "because a user becomes Idle before Away. Raise \(away) or lower \(idle)."))
            }
        }
    }
}
