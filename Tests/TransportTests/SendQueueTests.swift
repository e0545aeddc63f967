import XCTest
@testable import Transport

#if canImport(Glibc)
import Glibc
#endif

final class SendQueueTests: XCTestCase {
    /// A non-blocking Unix socket pair: the queue writes to `writer`, the test reads `reader`.
    private var writer: Int32 = -1
    private var reader: Int32 = -1

    override func setUpWithError() throws {
        var fds: [Int32] = [0, 0]
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
        XCTAssertEqual(socketpair(AF_UNIX, type, 0, &fds), 0, "socketpair failed with errno \(errno)")
        writer = fds[0]
        reader = fds[1]
        var size: Int32 = 4096
        setsockopt(writer, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(reader, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }

    override func tearDown() {
        close(writer)
        close(reader)
    }

    /// Reads everything the reader has, without blocking.
    private func drain() -> [UInt8] {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(reader, &buffer, buffer.count)
            if count <= 0 { break }
            out.append(contentsOf: buffer[0..<count])
        }
        return out
    }

    /// Writes and drains until the queue is empty, for at most 10,000 rounds.
    private func writeAll(_ queue: inout SendQueue) -> [UInt8] {
        var out: [UInt8] = []
        for _ in 0..<10_000 {
            let error = queue.write(to: writer)
            out += drain()
            if error == nil { break }
            XCTAssertEqual(error, EAGAIN)
        }
        XCTAssertTrue(queue.isEmpty)
        return out
    }

    private func entry(_ tag: UInt8, _ count: Int = 3) -> [UInt8] {
        [UInt8](repeating: tag, count: count)
    }

    // MARK: - Coalescing

    func testQueueWritesEntriesInOrder() {
        var queue = SendQueue()
        queue.append(entry(1), key: 0)
        queue.append(entry(2), key: 0)
        XCTAssertEqual(queue.byteCount, 6)
        XCTAssertNil(queue.write(to: writer))
        XCTAssertEqual(drain(), entry(1) + entry(2))
        XCTAssertEqual(queue.byteCount, 0)
        XCTAssertTrue(queue.isEmpty)
    }

    func testQueueCoalescesSameKeyInPlace() {
        var queue = SendQueue()
        queue.append(entry(1), key: 7)
        queue.append(entry(2), key: 8)
        queue.append(entry(3, 5), key: 7)
        XCTAssertEqual(queue.coalescedCount, 1)
        XCTAssertEqual(queue.byteCount, 5 + 3)
        XCTAssertNil(queue.write(to: writer))
        // The newer entry takes the older one's place, ahead of key 8.
        XCTAssertEqual(drain(), entry(3, 5) + entry(2))
    }

    func testQueueBarrierStopsCoalescing() {
        var queue = SendQueue()
        queue.append(entry(1), key: 7)
        queue.append(entry(9), key: 0)
        queue.append(entry(2), key: 7)
        XCTAssertEqual(queue.coalescedCount, 0)
        queue.append(entry(3), key: 7)
        XCTAssertEqual(queue.coalescedCount, 1)
        XCTAssertNil(queue.write(to: writer))
        XCTAssertEqual(drain(), entry(1) + entry(9) + entry(3))
    }

    func testQueueDoesNotCoalesceAfterWrite() {
        var queue = SendQueue()
        queue.append(entry(1), key: 7)
        XCTAssertNil(queue.write(to: writer))
        queue.append(entry(2), key: 7)
        XCTAssertEqual(queue.coalescedCount, 0)
        XCTAssertNil(queue.write(to: writer))
        XCTAssertEqual(drain(), entry(1) + entry(2))
    }

    // MARK: - Partial writes

    func testQueueResumesAfterPartialWrite() {
        var queue = SendQueue()
        var expected: [UInt8] = []
        for tag in 0..<40 {
            let bytes = entry(UInt8(tag), 1000 + tag)
            queue.append(bytes, key: 0)
            expected += bytes
        }
        XCTAssertEqual(queue.write(to: writer), EAGAIN, "the socket buffer should fill before 40 KB")
        XCTAssertLessThan(queue.byteCount, expected.count)
        XCTAssertGreaterThan(queue.byteCount, 0)
        XCTAssertEqual(writeAll(&queue), expected)
    }

    func testQueueNeverReplacesPartlyWrittenEntry() {
        var queue = SendQueue()
        let big = entry(1, 200_000)
        queue.append(big, key: 7)
        XCTAssertEqual(queue.write(to: writer), EAGAIN)
        let remaining = queue.byteCount
        XCTAssertLessThan(remaining, big.count)

        queue.append(entry(2, 10), key: 7)
        XCTAssertEqual(queue.coalescedCount, 0)
        XCTAssertEqual(queue.byteCount, remaining + 10)
        queue.append(entry(3, 10), key: 7)
        XCTAssertEqual(queue.coalescedCount, 1, "the second unsent entry with key 7 replaces the first")
        XCTAssertEqual(writeAll(&queue), big + entry(3, 10))
    }

    func testDropUnsentKeepsPartlyWrittenHead() {
        var queue = SendQueue()
        let big = entry(1, 200_000)
        queue.append(big, key: 0)
        queue.append(entry(2, 10), key: 0)
        queue.append(entry(3, 10), key: 5)
        XCTAssertEqual(queue.write(to: writer), EAGAIN)
        let written = 200_020 - queue.byteCount
        XCTAssertLessThan(written, big.count)
        queue.dropUnsent()
        XCTAssertEqual(queue.byteCount, big.count - written)
        queue.append(entry(4, 10), key: 0)
        // The rest of the first entry goes out, then the new one; the dropped ones never do.
        let received = drain() + writeAll(&queue)
        XCTAssertTrue(received == big + entry(4, 10), "received \(received.count) bytes")
    }

    func testDropUnsentEmptiesUntouchedQueue() {
        var queue = SendQueue()
        queue.append(entry(1), key: 0)
        queue.append(entry(2), key: 3)
        queue.dropUnsent()
        XCTAssertEqual(queue.byteCount, 0)
        XCTAssertTrue(queue.isEmpty)
    }

    func testQueueWritesMoreThanOneVectorBatch() {
        var queue = SendQueue()
        var expected: [UInt8] = []
        for tag in 0..<200 {
            queue.append([UInt8(tag)], key: 0)
            expected.append(UInt8(tag))
        }
        XCTAssertNil(queue.write(to: writer))
        XCTAssertEqual(drain(), expected)
    }

    func testQueueReportsOtherErrors() {
        var queue = SendQueue()
        queue.append(entry(1), key: 0)
        close(reader)
        signal(SIGPIPE, SIG_IGN)
        XCTAssertEqual(queue.write(to: writer), EPIPE)
        reader = -1
    }

    // MARK: - TLS copy path

    func testCopiedEntriesAreLockedAgainstCoalescing() {
        var queue = SendQueue()
        queue.append(entry(1, 10), key: 7)
        queue.append(entry(2, 10), key: 8)
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 15, alignment: 1)
        defer { scratch.deallocate() }

        XCTAssertEqual(queue.copyPending(into: scratch), 15)
        XCTAssertEqual(Array(scratch), entry(1, 10) + entry(2, 5))
        // The TLS write failed with WANT_WRITE: nothing advanced, but both entries may have been
        // handed to OpenSSL, which needs the same bytes on retry.
        queue.append(entry(3, 10), key: 7)
        queue.append(entry(4, 10), key: 8)
        XCTAssertEqual(queue.coalescedCount, 0)

        queue.advance(by: 15)
        XCTAssertEqual(queue.byteCount, 5 + 20)
        XCTAssertEqual(queue.copyPending(into: scratch), 15)
        XCTAssertEqual(Array(scratch), entry(2, 5) + entry(3, 10))
        queue.advance(by: 15)
        XCTAssertEqual(queue.copyPending(into: scratch), 10)
        queue.advance(by: 10)
        XCTAssertTrue(queue.isEmpty)
        XCTAssertEqual(queue.byteCount, 0)
    }
}
