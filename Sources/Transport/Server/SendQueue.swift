import CLinux

#if canImport(Glibc)
import Glibc
#endif

/// A connection's queue of encoded frames waiting to be written, bounded by the owner.
///
/// An entry may carry a coalescing key (a user's cursor, say): a newer entry with the same key
/// replaces an older one that has not started to go out, so a slow reader receives the latest state
/// rather than every intermediate one. An entry without a key is a barrier: nothing after it
/// replaces anything before it, so a cursor never jumps ahead of the join or leave it followed.
struct SendQueue {
    private struct Entry {
        var bytes: [UInt8]
        var key: UInt64
    }

    private var entries: [Entry] = []
    private var head = 0
    /// Bytes of `entries[head]` already written.
    private var headOffset = 0
    /// Sequence number of `entries[0]`; sequence numbers survive compaction.
    private var baseSequence: UInt64 = 0
    /// Entries with a sequence number below this have (partly) gone to the socket or TLS and
    /// must not change.
    private var lockedSequence: UInt64 = 0
    private var keyed: [UInt64: UInt64] = [:]

    /// Bytes queued and not yet written.
    private(set) var byteCount = 0
    private(set) var coalescedCount = 0

    var isEmpty: Bool { head == entries.count }

    /// Appends `bytes`, replacing an unsent entry with the same non-zero `key` if there is one.
    mutating func append(_ bytes: [UInt8], key: UInt64) {
        if key == 0 {
            keyed.removeAll(keepingCapacity: true)
        } else if let sequence = keyed[key], sequence >= lockedSequence, sequence >= baseSequence + UInt64(head) {
            let index = Int(sequence - baseSequence)
            byteCount += bytes.count - entries[index].bytes.count
            entries[index].bytes = bytes
            coalescedCount += 1
            return
        }
        if key != 0 { keyed[key] = baseSequence + UInt64(entries.count) }
        entries.append(Entry(bytes: bytes, key: key))
        byteCount += bytes.count
    }

    /// Drops every entry that has not started to go out, keeping a partly written head so the
    /// stream stays well framed.
    mutating func dropUnsent() {
        let keep = headOffset > 0 ? head + 1 : head
        let firstLocked = Int(max(lockedSequence, baseSequence) - baseSequence)
        let cut = max(keep, min(firstLocked, entries.count))
        for entry in entries[cut...] { byteCount -= entry.bytes.count }
        entries.removeSubrange(cut...)
        keyed.removeAll()
    }

    /// Writes as much as the socket takes with one `writev` per call of up to 64 entries. Returns
    /// nil when everything was written, `EAGAIN` when the socket is full, or another errno.
    mutating func write(to fd: Int32) -> Int32? {
        while head < entries.count {
            let count = min(64, entries.count - head)
            var vectors = [iovec](repeating: iovec(), count: count)
            // The arrays are not mutated while the pointers are in use, so their storage is stable.
            let written: Int = withPinnedStorage(count: count) { pointers in
                for i in 0..<count {
                    let base = pointers[i].baseAddress.map { UnsafeMutableRawPointer(mutating: $0) }
                    let offset = i == 0 ? headOffset : 0
                    vectors[i] = iovec(iov_base: base.map { $0 + offset }, iov_len: pointers[i].count - offset)
                }
                return vectors.withUnsafeBufferPointer { writev(fd, $0.baseAddress, Int32(count)) }
            }
            if written < 0 {
                if errno == EINTR { continue }
                return errno
            }
            advance(by: written)
        }
        compact()
        return nil
    }

    /// Copies up to `limit` queued bytes into `buffer` for a TLS write, returning the count.
    /// The bytes copied stay locked until `advance` moves past them.
    mutating func copyPending(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        var copied = 0
        var index = head
        var offset = headOffset
        while index < entries.count && copied < buffer.count {
            let bytes = entries[index].bytes
            let take = min(bytes.count - offset, buffer.count - copied)
            bytes.withUnsafeBytes { source in
                buffer.baseAddress!.advanced(by: copied).copyMemory(from: source.baseAddress!.advanced(by: offset), byteCount: take)
            }
            copied += take
            offset = 0
            index += 1
        }
        lockedSequence = max(lockedSequence, baseSequence + UInt64(index))
        return copied
    }

    /// Marks `count` bytes from the head as written.
    mutating func advance(by count: Int) {
        var left = count
        byteCount -= count
        while left > 0 {
            let available = entries[head].bytes.count - headOffset
            if left >= available {
                left -= available
                entries[head].bytes = []
                head += 1
                headOffset = 0
            } else {
                headOffset += left
                left = 0
            }
        }
        lockedSequence = max(lockedSequence, baseSequence + UInt64(head) + (headOffset > 0 ? 1 : 0))
        if head == entries.count { compact() }
    }

    private mutating func compact() {
        guard head > 0 else { return }
        if head == entries.count {
            baseSequence += UInt64(head)
            entries.removeAll(keepingCapacity: entries.count <= 64)
            head = 0
            keyed.removeAll(keepingCapacity: true)
        } else if head >= 64 && head * 2 >= entries.count {
            baseSequence += UInt64(head)
            entries.removeFirst(head)
            head = 0
        }
    }

    private func withPinnedStorage<T>(count: Int, _ body: ([UnsafeRawBufferPointer]) -> T) -> T {
        var pointers: [UnsafeRawBufferPointer] = []
        pointers.reserveCapacity(count)
        return collect(index: head, remaining: count, pointers: &pointers, body)
    }

    /// Pins each entry's storage with nested `withUnsafeBytes` calls so the pointers stay valid
    /// for the duration of `body`.
    private func collect<T>(index: Int, remaining: Int, pointers: inout [UnsafeRawBufferPointer], _ body: ([UnsafeRawBufferPointer]) -> T) -> T {
        if remaining == 0 { return body(pointers) }
        return entries[index].bytes.withUnsafeBytes { buffer in
            pointers.append(buffer)
            return collect(index: index + 1, remaining: remaining - 1, pointers: &pointers, body)
        }
    }
}
