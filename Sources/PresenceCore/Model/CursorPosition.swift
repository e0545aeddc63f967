/// A caret position in a document. All three values count from zero, and `offset` is in the
/// editor's own text units, which the gateway does not interpret.
public struct CursorPosition: Codable, Sendable, Hashable {
    public var line: UInt32
    public var column: UInt32
    public var offset: UInt32

    public init(line: UInt32, column: UInt32, offset: UInt32) {
        self.line = line
        self.column = column
        self.offset = offset
    }
}

/// A text selection between two carets. `head` is the end that moves, and `isBackward` is true when
/// the head lies before the anchor.
public struct Selection: Codable, Sendable, Hashable {
    public var anchor: CursorPosition
    public var head: CursorPosition
    public var isBackward: Bool

    public init(anchor: CursorPosition, head: CursorPosition, isBackward: Bool) {
        self.anchor = anchor
        self.head = head
        self.isBackward = isBackward
    }

    enum CodingKeys: String, CodingKey {
        case anchor
        case head
        case isBackward = "is_backward"
    }
}
