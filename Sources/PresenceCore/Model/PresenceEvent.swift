/// A change to the presence of one user in a document, broadcast to the document's other members.
///
/// The wire form is externally tagged, one key naming the variant: `{"UserJoined":{...}}`,
/// `{"UserLeft":"u1"}`, `{"CursorMoved":{"user_id":..,"cursor":..,"selection":null}}`,
/// `{"TypingChanged":{"user_id":..,"is_typing":..}}`, `{"ViewportChanged":{"user_id":..,"viewport":..}}`,
/// `{"ActivityChanged":{"user_id":..,"activity":"Idle"}}`, `{"UserIdle":{"user_id":..}}` and
/// `{"FocusChanged":{"user_id":..,"focused":false}}`.
public enum PresenceEvent: Sendable, Equatable {
    case userJoined(UserPresence)
    case userLeft(userID: String)
    case cursorMoved(userID: String, cursor: CursorPosition, selection: Selection?)
    case typingChanged(userID: String, isTyping: Bool)
    case viewportChanged(userID: String, viewport: Viewport)
    case activityChanged(userID: String, activity: ActivityType)
    case userIdle(userID: String)
    case focusChanged(userID: String, focused: Bool)

    /// The user the event is about.
    public var userID: String {
        switch self {
        case .userJoined(let presence): presence.userID
        case .userLeft(let userID),
            .cursorMoved(let userID, _, _),
            .typingChanged(let userID, _),
            .viewportChanged(let userID, _),
            .activityChanged(let userID, _),
            .userIdle(let userID),
            .focusChanged(let userID, _):
            userID
        }
    }

    /// The variant's wire name, also the `event_type` label of the updates metric.
    public var name: String {
        switch self {
        case .userJoined: "UserJoined"
        case .userLeft: "UserLeft"
        case .cursorMoved: "CursorMoved"
        case .typingChanged: "TypingChanged"
        case .viewportChanged: "ViewportChanged"
        case .activityChanged: "ActivityChanged"
        case .userIdle: "UserIdle"
        case .focusChanged: "FocusChanged"
        }
    }
}

extension PresenceEvent: Codable {
    private enum VariantKey: String, CodingKey {
        case userJoined = "UserJoined"
        case userLeft = "UserLeft"
        case cursorMoved = "CursorMoved"
        case typingChanged = "TypingChanged"
        case viewportChanged = "ViewportChanged"
        case activityChanged = "ActivityChanged"
        case userIdle = "UserIdle"
        case focusChanged = "FocusChanged"
    }

    private enum FieldKey: String, CodingKey {
        case userID = "user_id"
        case cursor
        case selection
        case isTyping = "is_typing"
        case viewport
        case activity
        case focused
    }

    public init(from decoder: any Decoder) throws {
        let outer = try decoder.container(keyedBy: VariantKey.self)
        guard outer.allKeys.count == 1, let variant = outer.allKeys.first else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath,
                    debugDescription: "A presence event must be an object with exactly one known variant key."
                )
            )
        }
        if variant == .userJoined {
            self = .userJoined(try outer.decode(UserPresence.self, forKey: variant))
            return
        }
        if variant == .userLeft {
            self = .userLeft(userID: try outer.decode(String.self, forKey: variant))
            return
        }
        let fields = try outer.nestedContainer(keyedBy: FieldKey.self, forKey: variant)
        let userID = try fields.decode(String.self, forKey: .userID)
        switch variant {
        case .cursorMoved:
            self = .cursorMoved(
                userID: userID,
                cursor: try fields.decode(CursorPosition.self, forKey: .cursor),
                selection: try fields.decodeIfPresent(Selection.self, forKey: .selection)
            )
        case .typingChanged:
            self = .typingChanged(userID: userID, isTyping: try fields.decode(Bool.self, forKey: .isTyping))
        case .viewportChanged:
            self = .viewportChanged(userID: userID, viewport: try fields.decode(Viewport.self, forKey: .viewport))
        case .activityChanged:
            self = .activityChanged(userID: userID, activity: try fields.decode(ActivityType.self, forKey: .activity))
        case .userIdle:
            self = .userIdle(userID: userID)
        case .focusChanged:
            self = .focusChanged(userID: userID, focused: try fields.decode(Bool.self, forKey: .focused))
        case .userJoined, .userLeft:
            preconditionFailure("handled above")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var outer = encoder.container(keyedBy: VariantKey.self)
        switch self {
        case .userJoined(let presence):
            try outer.encode(presence, forKey: .userJoined)
        case .userLeft(let userID):
            try outer.encode(userID, forKey: .userLeft)
        case .cursorMoved(let userID, let cursor, let selection):
            var fields = outer.nestedContainer(keyedBy: FieldKey.self, forKey: .cursorMoved)
            try fields.encode(userID, forKey: .userID)
            try fields.encode(cursor, forKey: .cursor)
            try fields.encode(selection, forKey: .selection)
        case .typingChanged(let userID, let isTyping):
            var fields = outer.nestedContainer(keyedBy: FieldKey.self, forKey: .typingChanged)
            try fields.encode(userID, forKey: .userID)
            try fields.encode(isTyping, forKey: .isTyping)
        case .viewportChanged(let userID, let viewport):
            var fields = outer.nestedContainer(keyedBy: FieldKey.self, forKey: .viewportChanged)
            try fields.encode(userID, forKey: .userID)
            try fields.encode(viewport, forKey: .viewport)
        case .activityChanged(let userID, let activity):
            var fields = outer.nestedContainer(keyedBy: FieldKey.self, forKey: .activityChanged)
            try fields.encode(userID, forKey: .userID)
            try fields.encode(activity, forKey: .activity)
        case .userIdle(let userID):
            var fields = outer.nestedContainer(keyedBy: FieldKey.self, forKey: .userIdle)
            try fields.encode(userID, forKey: .userID)
        case .focusChanged(let userID, let focused):
            var fields = outer.nestedContainer(keyedBy: FieldKey.self, forKey: .focusChanged)
            try fields.encode(userID, forKey: .userID)
            try fields.encode(focused, forKey: .focused)
        }
    }
}
