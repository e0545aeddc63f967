#if canImport(Glibc)
import Glibc
#endif

/// Finds the few fields the generator needs in a server message by searching for fixed byte
/// patterns instead of decoding the JSON, so that reading events costs the generator little CPU.
///
/// The patterns cannot match inside a string value, because JSON writes every `"` in a string as
/// `\"`: the bytes `{"CursorMoved":{` only occur as structure, never inside a user's name. The scan
/// relies on three facts true of both the gateway and the Node baseline: a message's first key is
/// `event_type`, a presence object has exactly one `user_id` key, and inside `CursorMoved` the
/// `cursor` object comes before `selection`.
enum EventScanner {
    enum Kind: Equatable {
        case presence, batch, snapshot, error, pong, other
    }

    /// A cursor position read from a `CursorMoved` event. `userID` points into the message text and
    /// is valid only while the text is.
    struct CursorSighting {
        var userID: UnsafeRawBufferPointer
        var line: UInt64
        var offset: UInt64
    }

    enum MembershipChange {
        case joined(UnsafeRawBufferPointer)
        case left(UnsafeRawBufferPointer)
    }

    private static let eventTypeKey = Array(#""event_type":""#.utf8)
    private static let cursorMovedKey = Array(#"{"CursorMoved":{"#.utf8)
    private static let userIDKey = Array(#""user_id":""#.utf8)
    private static let lineKey = Array(#""line":"#.utf8)
    private static let offsetKey = Array(#""offset":"#.utf8)
    private static let userEventPrefix = Array(#"{"User"#.utf8)
    private static let joinedSuffix = Array(#"Joined":{"#.utf8)
    private static let leftSuffix = Array(#"Left":""#.utf8)
    private static let usersKey = Array(#""users":["#.utf8)
    private static let codeKey = Array(#""code":""#.utf8)
    private static let messageKey = Array(#""message":""#.utf8)

    static func kind(of text: UnsafeRawBufferPointer) -> Kind {
        guard let key = find(eventTypeKey, in: text, from: 0) else { return .other }
        let start = key + eventTypeKey.count
        guard let end = endOfString(in: text, from: start) else { return .other }
        switch end - start {
        case 8 where text[start] == UInt8(ascii: "p") && text[start + 1] == UInt8(ascii: "r"): return .presence
        case 8 where text[start] == UInt8(ascii: "s"): return .snapshot
        case 5 where text[start] == UInt8(ascii: "b"): return .batch
        case 5 where text[start] == UInt8(ascii: "e"): return .error
        case 4 where text[start] == UInt8(ascii: "p"): return .pong
        default: return .other
        }
    }

    /// Calls `body` for each `CursorMoved` event in a presence or batch message, in order, and
    /// returns how many events lacked a user id, line or offset.
    @discardableResult
    static func forEachCursorMoved(in text: UnsafeRawBufferPointer, _ body: (CursorSighting) -> Void) -> Int {
        var position = 0
        var malformed = 0
        while let marker = find(cursorMovedKey, in: text, from: position) {
            position = marker + cursorMovedKey.count
            guard let userKey = find(userIDKey, in: text, from: position),
                  let userEnd = endOfString(in: text, from: userKey + userIDKey.count),
                  let lineKey = find(lineKey, in: text, from: userEnd),
                  let offsetKey = find(offsetKey, in: text, from: userEnd)
            else {
                malformed += 1
                continue
            }
            let userStart = userKey + userIDKey.count
            let line = parseNumber(in: text, from: lineKey + Self.lineKey.count)
            let offset = parseNumber(in: text, from: offsetKey + Self.offsetKey.count)
            guard let line, let offset else {
                malformed += 1
                continue
            }
            position = max(line.end, offset.end)
            let userID = UnsafeRawBufferPointer(rebasing: text[userStart..<userEnd])
            body(CursorSighting(userID: userID, line: line.value, offset: offset.value))
        }
        return malformed
    }

    /// Calls `body` for each `UserJoined` and `UserLeft` event in a presence or batch message, in order.
    static func forEachMembershipChange(in text: UnsafeRawBufferPointer, _ body: (MembershipChange) -> Void) {
        var position = 0
        while let marker = find(userEventPrefix, in: text, from: position) {
            position = marker + userEventPrefix.count
            if hasPrefix(joinedSuffix, in: text, at: position) {
                guard let userKey = find(userIDKey, in: text, from: position),
                      let userEnd = endOfString(in: text, from: userKey + userIDKey.count)
                else { return }
                body(.joined(UnsafeRawBufferPointer(rebasing: text[(userKey + userIDKey.count)..<userEnd])))
                position = userEnd
            } else if hasPrefix(leftSuffix, in: text, at: position) {
                let userStart = position + leftSuffix.count
                guard let userEnd = endOfString(in: text, from: userStart) else { return }
                body(.left(UnsafeRawBufferPointer(rebasing: text[userStart..<userEnd])))
                position = userEnd
            }
        }
    }

    /// Calls `body` with the user id of each entry of a snapshot's `users` array.
    static func forEachSnapshotUser(in text: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
        guard let users = find(usersKey, in: text, from: 0) else { return }
        var position = users + usersKey.count
        while let userKey = find(userIDKey, in: text, from: position) {
            let userStart = userKey + userIDKey.count
            guard let userEnd = endOfString(in: text, from: userStart) else { return }
            body(UnsafeRawBufferPointer(rebasing: text[userStart..<userEnd]))
            position = userEnd
        }
    }

    /// Extracts the `code` and `message` of an error message, as raw JSON string contents.
    static func errorDescription(in text: UnsafeRawBufferPointer) -> String {
        func field(_ key: [UInt8]) -> String {
            guard let start = find(key, in: text, from: 0).map({ $0 + key.count }),
                  let end = endOfString(in: text, from: start)
            else { return "?" }
            return String(decoding: UnsafeRawBufferPointer(rebasing: text[start..<end]), as: UTF8.self)
        }
        return "\(field(codeKey)): \(field(messageKey))"
    }

    /// Parses the decimal digits of a user id after `prefixLength` leading bytes, such as 1234 in
    /// `u1234`. Returns nil when anything but digits follows the prefix.
    static func userNumber(_ userID: UnsafeRawBufferPointer, prefixLength: Int) -> Int? {
        guard userID.count > prefixLength, userID.count - prefixLength <= 18 else { return nil }
        var value = 0
        for index in prefixLength..<userID.count {
            let digit = Int(userID[index]) - 48
            guard digit >= 0 && digit <= 9 else { return nil }
            value = value * 10 + digit
        }
        return value
    }

    // MARK: - Byte search

    /// Finds the first occurrence of `pattern` at or after `start` with memchr on the pattern's first
    /// byte and a compare of the rest, and returns its index.
    static func find(_ pattern: [UInt8], in text: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard let base = text.baseAddress, !pattern.isEmpty else { return nil }
        let last = text.count - pattern.count
        var position = start
        let first = Int32(pattern[0])
        return pattern.withUnsafeBytes { patternBytes -> Int? in
            while position <= last {
                guard let hit = memchr(base + position, first, last - position + 1) else { return nil }
                let index = base.distance(to: UnsafeRawPointer(hit))
                if memcmp(base + index, patternBytes.baseAddress!, pattern.count) == 0 { return index }
                position = index + 1
            }
            return nil
        }
    }

    private static func hasPrefix(_ pattern: [UInt8], in text: UnsafeRawBufferPointer, at position: Int) -> Bool {
        guard position + pattern.count <= text.count else { return false }
        for index in 0..<pattern.count where text[position + index] != pattern[index] { return false }
        return true
    }

    /// Finds the closing quote of a JSON string whose contents start at `start`, skipping escaped
    /// characters, and returns its index.
    private static func endOfString(in text: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var index = start
        while index < text.count {
            switch text[index] {
            case UInt8(ascii: "\""): return index
            case UInt8(ascii: "\\"): index += 2
            default: index += 1
            }
        }
        return nil
    }

    private static func parseNumber(in text: UnsafeRawBufferPointer, from start: Int) -> (value: UInt64, end: Int)? {
        var index = start
        var value: UInt64 = 0
        while index < text.count, text[index] >= 48, text[index] <= 57, index - start < 19 {
            value = value * 10 + UInt64(text[index] - 48)
            index += 1
        }
        return index > start ? (value, index) : nil
    }
}
