/// The state flags of one user in one document.
public struct PresenceState: Codable, Sendable, Equatable {
    /// True while the user has at least one connection in the document.
    public var online: Bool
    public var typing: Bool
    /// True while at least one of the user's connections reports focus.
    public var focused: Bool
    public var activity: ActivityType
    public var viewport: Viewport?

    public init(online: Bool, typing: Bool, focused: Bool, activity: ActivityType, viewport: Viewport?) {
        self.online = online
        self.typing = typing
        self.focused = focused
        self.activity = activity
        self.viewport = viewport
    }

    enum CodingKeys: String, CodingKey {
        case online, typing, focused, activity, viewport
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        online = try container.decode(Bool.self, forKey: .online)
        typing = try container.decode(Bool.self, forKey: .typing)
        focused = try container.decode(Bool.self, forKey: .focused)
        activity = try container.decode(ActivityType.self, forKey: .activity)
        viewport = try container.decodeIfPresent(Viewport.self, forKey: .viewport)
    }

    /// Encodes every field, writing `null` for a missing viewport as the wire form does.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(online, forKey: .online)
        try container.encode(typing, forKey: .typing)
        try container.encode(focused, forKey: .focused)
        try container.encode(activity, forKey: .activity)
        try container.encode(viewport, forKey: .viewport)
    }
}
