import PresenceCore

/// The cursor, viewport and typing events of one document waiting for a batching client's next
/// interval. A newer event with the same coalescing key replaces the older one in place, so the
/// batch carries each user's latest cursor once.
struct EventBatch {
    /// The events, each a slice of the room's encoded message, which every recipient shares.
    private var events: [ArraySlice<UInt8>] = []
    /// The coalescing key of each event, 0 for one that nothing replaces.
    private var keys: [UInt64] = []
    /// For each cursor event, the monotonic ms at which the gateway read its message; 0 for others.
    private var readTimes: [UInt64] = []
    /// The index of each key, built only once the batch outgrows a linear search.
    private var positions: [UInt64: Int] = [:]

    /// Maximum number of events searched linearly for a key. A batch contains a few events per
    /// moving user, so most stay below it, and scanning a few dozen integers costs less than hashing one.
    private static let linearSearchLimit = 32

    var isEmpty: Bool { events.isEmpty }

    mutating func add(event: ArraySlice<UInt8>, key: UInt64, cursorReadMs: UInt64? = nil) {
        if key != 0, let index = index(of: key) {
            events[index] = event
            readTimes[index] = cursorReadMs ?? 0
            return
        }
        if key != 0, !positions.isEmpty || events.count >= Self.linearSearchLimit {
            if positions.isEmpty {
                for (index, existing) in keys.enumerated() where existing != 0 { positions[existing] = index }
            }
            positions[key] = events.count
        }
        events.append(event)
        keys.append(key)
        readTimes.append(cursorReadMs ?? 0)
    }

    /// Calls `body` with the read time of each cursor event in the batch.
    func forEachCursorReadTime(_ body: (UInt64) -> Void) {
        for readMs in readTimes where readMs != 0 { body(readMs) }
    }

    private func index(of key: UInt64) -> Int? {
        if !positions.isEmpty { return positions[key] }
        return keys.firstIndex(of: key)
    }

    /// Encodes `{"event_type":"batch","document_id":..,"payload":[...],"timestamp":..}` and empties the batch.
    mutating func take(documentID: String, timestamp: UInt64) -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: 64 + events.reduce(0) { $0 + $1.count + 1 })
        writer.appendRaw(#"{"event_type":"batch","document_id":"#)
        writer.appendString(documentID)
        writer.appendRaw(#","payload":["#)
        for (index, event) in events.enumerated() {
            if index > 0 { writer.appendRaw(",") }
            writer.appendRaw(event)
        }
        writer.appendRaw(#"],"timestamp":"#)
        writer.appendUInt64(timestamp)
        writer.appendRaw("}")
        events.removeAll(keepingCapacity: true)
        keys.removeAll(keepingCapacity: true)
        readTimes.removeAll(keepingCapacity: true)
        positions.removeAll(keepingCapacity: true)
        return writer.bytes
    }

    /// The `payload` value of a presence envelope as the room encodes it
    /// (`{"event_type":"presence","document_id":..,"payload":EVENT,"timestamp":N}`), or nil when
    /// the bytes do not have that shape.
    ///
    /// An unescaped `,"payload":` cannot occur inside a JSON string, so the first match is the key.
    static func eventPayload(ofEnvelope bytes: [UInt8]) -> ArraySlice<UInt8>? {
        let key = Array(#","payload":"#.utf8)
        let tail = Array(#","timestamp":"#.utf8)
        guard let start = firstRange(of: key, in: bytes[...])?.upperBound,
              let end = lastRange(of: tail, in: bytes[start...])?.lowerBound, start < end else { return nil }
        return bytes[start..<end]
    }

    private static func firstRange(of needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Range<Int>? {
        guard haystack.count >= needle.count else { return nil }
        var index = haystack.startIndex
        while index + needle.count <= haystack.endIndex {
            if haystack[index] == needle[0] && haystack[index..<(index + needle.count)].elementsEqual(needle) {
                return index..<(index + needle.count)
            }
            index += 1
        }
        return nil
    }

    private static func lastRange(of needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Range<Int>? {
        guard haystack.count >= needle.count else { return nil }
        var index = haystack.endIndex - needle.count
        while index >= haystack.startIndex {
            if haystack[index] == needle[0] && haystack[index..<(index + needle.count)].elementsEqual(needle) {
                return index..<(index + needle.count)
            }
            index -= 1
        }
        return nil
    }
}
