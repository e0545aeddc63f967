import PresenceCore

/// A `PresencePolicy` whose results the test sets, recording what the room passed in.
final class ScriptedPolicy: PresencePolicy {
    var colors: [String: String] = [:]
    var capacity: Int?
    var rejectedUsers: Set<String> = []
    /// Activity by user id, for the activity rule. Users not listed fall back to the default rules.
    var activities: [String: ActivityType] = [:]
    var activityRule = false
    var hiddenUsers: Set<String> = []
    /// Recipients (user ids) that must not see cursor events, through the per-recipient filter.
    var cursorBlindRecipients: Set<String> = []
    private(set) var documentsSeenByColor: [DocumentInfo] = []
    private(set) var activityCalls: [(userID: String, idleMs: UInt64)] = []

    func color(for user: UserPresence, in document: DocumentInfo) -> String? {
        documentsSeenByColor.append(document)
        return colors[user.userID]
    }

    func capacity(of document: DocumentInfo) -> Int? { capacity }

    func admit(_ user: UserPresence, to document: DocumentInfo) -> AdmitDecision {
        rejectedUsers.contains(user.userID) ? .reject(reason: "\(user.userID) is banned") : .admit
    }

    func activity(for user: UserPresence, in document: DocumentInfo, idleMs: UInt64) -> ActivityType? {
        activityCalls.append((user.userID, idleMs))
        return activities[user.userID]
    }

    func filter(_ event: PresenceEvent, in document: DocumentInfo) -> PresenceEvent? {
        hiddenUsers.contains(event.userID) ? nil : event
    }

    func filter(_ event: PresenceEvent, for recipient: UserPresence, in document: DocumentInfo) -> PresenceEvent? {
        if case .cursorMoved = event, cursorBlindRecipients.contains(recipient.userID) {
            return nil
        }
        return event
    }

    func filtersPerRecipient(workspaceID: String) -> Bool { !cursorBlindRecipients.isEmpty }
    func hasActivityRule(workspaceID: String) -> Bool { activityRule }
}
