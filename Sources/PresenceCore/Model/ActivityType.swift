/// The activity of a user in a document. The raw values are the wire names.
public enum ActivityType: String, Codable, Sendable, CaseIterable {
    case editing = "Editing"
    case viewing = "Viewing"
    case selecting = "Selecting"
    /// No activity for `activityTimeoutMs`.
    case idle = "Idle"
    /// No activity for `awayTimeoutMs`.
    case away = "Away"

    /// True for `idle` and `away`, the states that the next activity leaves.
    public var isInactive: Bool {
        self == .idle || self == .away
    }
}
