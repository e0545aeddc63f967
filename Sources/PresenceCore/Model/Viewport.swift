/// The range of lines a user can see. The gateway only requires `scrollPercentage` to be finite and
/// passes it on unchanged.
public struct Viewport: Codable, Sendable, Equatable {
    public var topLine: UInt32
    public var bottomLine: UInt32
    public var scrollPercentage: Float

    public init(topLine: UInt32, bottomLine: UInt32, scrollPercentage: Float) {
        self.topLine = topLine
        self.bottomLine = bottomLine
        self.scrollPercentage = scrollPercentage
    }

    enum CodingKeys: String, CodingKey {
        case topLine = "top_line"
        case bottomLine = "bottom_line"
        case scrollPercentage = "scroll_percentage"
    }
}
