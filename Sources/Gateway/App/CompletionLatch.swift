import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Waits on the calling thread until `count` signals arrived from other threads.
final class CompletionLatch: Sendable {
    private let remaining: Atomic<Int>

    init(count: Int) {
        remaining = Atomic(count)
    }

    func signal() {
        remaining.subtract(1, ordering: .releasing)
    }

    /// Polls every millisecond; returns false if `timeoutMs` passed first.
    @discardableResult
    func wait(timeoutMs: Int = 10_000) -> Bool {
        var waited = 0
        while remaining.load(ordering: .acquiring) > 0 {
            if waited >= timeoutMs { return false }
            usleep(1000)
            waited += 1
        }
        return true
    }
}
