/// The kinds of timed work a room schedules per user.
enum UserTimer: Sendable {
    /// Send the user's pending cursor, whose throttle interval has ended.
    case pendingCursor
    /// Stop typing when no keystroke came within the debounce time.
    case typingDebounce
    /// Check whether the user has become idle or away.
    case activityCheck
    /// Write the user's latest cursor and viewport to the store.
    case positionStore
}

/// One scheduled piece of work. An entry is stale, and is skipped, unless the user's record still
/// has the same incarnation and still expects this timer at `dueMs`.
struct DeadlineEntry: Sendable {
    var dueMs: UInt64
    var userID: String
    var incarnation: UInt64
    var timer: UserTimer
}

/// A binary min-heap of deadlines, ordered by due time and then by insertion, so that work due at
/// the same moment runs in the order it was scheduled.
struct DeadlineQueue: Sendable {
    private var heap: [(entry: DeadlineEntry, sequence: UInt64)] = []
    private var nextSequence: UInt64 = 0

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }
    var earliestDueMs: UInt64? { heap.first?.entry.dueMs }

    mutating func insert(_ entry: DeadlineEntry) {
        heap.append((entry, nextSequence))
        nextSequence += 1
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard precedes(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest entry when it is due at or before `nowMs`.
    mutating func popDue(nowMs: UInt64) -> DeadlineEntry? {
        guard let first = heap.first, first.entry.dueMs <= nowMs else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < heap.count, precedes(heap[left], heap[smallest]) { smallest = left }
                if right < heap.count, precedes(heap[right], heap[smallest]) { smallest = right }
                if smallest == parent { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first.entry
    }

    private func precedes(
        _ lhs: (entry: DeadlineEntry, sequence: UInt64), _ rhs: (entry: DeadlineEntry, sequence: UInt64)
    ) -> Bool {
        (lhs.entry.dueMs, lhs.sequence) < (rhs.entry.dueMs, rhs.sequence)
    }
}
