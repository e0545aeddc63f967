import CLinux
import Foundation
import Observability
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Something registered with an event loop's epoll set.
public protocol EventLoopHandler: AnyObject {
    /// Called on the loop's thread with the epoll event bits (`CLINUX_EPOLLIN`, ...).
    func handleEvents(_ events: UInt32)
}

/// Something that queued output during this wake-up and writes it once at the end of it.
public protocol EventLoopFlushable: AnyObject {
    func flushPendingOutput()
}

/// An epoll event loop on one thread.
///
/// Everything a loop owns (its handlers, timers and flush list) is touched only on its own thread;
/// other threads reach it only through `execute`, whose queue is guarded by `taskLock`, and an
/// eventfd that wakes `epoll_wait`. Output queued by handlers during one wake-up is written once at
/// the end of it, so a member receiving many events in one wake-up costs one system call.
public final class EventLoop: @unchecked Sendable {
    // @unchecked Sendable: every field except `pendingTasks` is confined to the loop thread, which
    // `preconditionInEventLoop` checks at the entry points; `pendingTasks` is guarded by `taskLock`.

    public let index: Int
    private let epollFD: Int32
    private let wakeFD: Int32
    private let taskLock = Mutex<[@Sendable () -> Void]>([])
    private let running = Atomic<Bool>(false)
    private var threadID: pthread_t?

    private var handlers: [Int32: EventLoopHandler] = [:]
    private var timers = TimerHeap()
    private var timerActions: [UInt64: () -> Void] = [:]
    private var nextTimerID: UInt64 = 1
    private var flushList: [EventLoopFlushable] = []
    private var readyEvents = [clinux_ready_event](repeating: clinux_ready_event(), count: 256)

    /// A scratch buffer for socket reads, shared by every connection of this loop so that an idle
    /// connection keeps no read buffer of its own.
    public var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)

    init(index: Int) throws(TransportError) {
        self.index = index
        epollFD = clinux_epoll_create()
        guard epollFD >= 0 else { throw TransportError.systemCall("epoll_create1", errno) }
        wakeFD = clinux_eventfd()
        guard wakeFD >= 0 else { throw TransportError.systemCall("eventfd", errno) }
        _ = clinux_epoll_ctl(epollFD, CLINUX_EPOLL_CTL_ADD, wakeFD, CLINUX_EPOLLIN, UInt64(wakeFD))
    }

    deinit {
        close(epollFD)
        close(wakeFD)
    }

    /// Whether the caller runs on this loop's thread.
    public var inEventLoop: Bool {
        guard let threadID else { return false }
        return pthread_equal(threadID, pthread_self()) != 0
    }

    public func preconditionInEventLoop(file: StaticString = #fileID, line: UInt = #line) {
        precondition(inEventLoop, "called off event loop \(index)", file: file, line: line)
    }

    /// Runs `task` on this loop's thread, after the events of the current wake-up. Callable from
    /// any thread; tasks from one thread run in the order they were submitted.
    public func execute(_ task: @escaping @Sendable () -> Void) {
        let wasEmpty = taskLock.withLock { tasks in
            tasks.append(task)
            return tasks.count == 1
        }
        if wasEmpty { wake() }
    }

    private func wake() {
        var one: UInt64 = 1
        _ = withUnsafeBytes(of: &one) { write(wakeFD, $0.baseAddress, 8) }
    }

    // MARK: - Registration (loop thread only)

    public func register(fd: Int32, events: UInt32, handler: EventLoopHandler) throws(TransportError) {
        preconditionInEventLoop()
        guard clinux_epoll_ctl(epollFD, CLINUX_EPOLL_CTL_ADD, fd, events, UInt64(UInt32(bitPattern: fd))) == 0 else {
            throw TransportError.systemCall("epoll_ctl(ADD)", errno)
        }
        handlers[fd] = handler
    }

    public func modify(fd: Int32, events: UInt32) {
        preconditionInEventLoop()
        _ = clinux_epoll_ctl(epollFD, CLINUX_EPOLL_CTL_MOD, fd, events, UInt64(UInt32(bitPattern: fd)))
    }

    public func unregister(fd: Int32) {
        preconditionInEventLoop()
        _ = clinux_epoll_ctl(epollFD, CLINUX_EPOLL_CTL_DEL, fd, 0, 0)
        handlers[fd] = nil
    }

    // MARK: - Timers (loop thread only)

    /// Runs `action` once after `delayMs` milliseconds of monotonic time; returns an id for
    /// `cancelTimer`.
    @discardableResult
    public func scheduleTimer(afterMs delayMs: UInt64, _ action: @escaping () -> Void) -> UInt64 {
        scheduleTimer(atNs: clinux_monotonic_ns() + delayMs * 1_000_000, action)
    }

    /// Runs `action` once at the monotonic time `deadlineNs`.
    @discardableResult
    public func scheduleTimer(atNs deadlineNs: UInt64, _ action: @escaping () -> Void) -> UInt64 {
        preconditionInEventLoop()
        let id = nextTimerID
        nextTimerID += 1
        timers.push(deadline: deadlineNs, id: id)
        timerActions[id] = action
        return id
    }

    public func cancelTimer(_ id: UInt64) {
        preconditionInEventLoop()
        timerActions[id] = nil
    }

    /// Asks for `target.flushPendingOutput()` once at the end of the current wake-up.
    public func scheduleFlush(_ target: EventLoopFlushable) {
        flushList.append(target)
    }

    // MARK: - Running

    /// Runs the loop on the calling thread until `stop` is called.
    func run() {
        threadID = pthread_self()
        running.store(true, ordering: .releasing)
        while running.load(ordering: .acquiring) {
            let timeout = nextTimeoutMs()
            let count = readyEvents.withUnsafeMutableBufferPointer { buffer in
                clinux_epoll_wait(epollFD, buffer.baseAddress, Int32(buffer.count), timeout)
            }
            if count > 0 {
                for i in 0..<Int(count) {
                    let event = readyEvents[i]
                    let fd = Int32(truncatingIfNeeded: event.data)
                    if fd == wakeFD {
                        var value: UInt64 = 0
                        _ = withUnsafeMutableBytes(of: &value) { read(wakeFD, $0.baseAddress, 8) }
                        continue
                    }
                    handlers[fd]?.handleEvents(event.events)
                }
            }
            runTasks()
            runDueTimers()
            flushAll()
        }
        runTasks()
        flushAll()
    }

    func stop() {
        running.store(false, ordering: .releasing)
        wake()
    }

    private func nextTimeoutMs() -> Int32 {
        if taskLock.withLock({ !$0.isEmpty }) { return 0 }
        guard let deadline = timers.peekDeadline() else { return 1000 }
        let now = clinux_monotonic_ns()
        if deadline <= now { return 0 }
        // Round up so a timer never fires early; cap so a long timer does not overflow Int32.
        return Int32(min((deadline - now + 999_999) / 1_000_000, 60_000))
    }

    private func runTasks() {
        let tasks = taskLock.withLock { tasks in
            let taken = tasks
            tasks.removeAll(keepingCapacity: true)
            return taken
        }
        for task in tasks { task() }
    }

    private func runDueTimers() {
        let now = clinux_monotonic_ns()
        while let deadline = timers.peekDeadline(), deadline <= now {
            let id = timers.pop()
            if let action = timerActions.removeValue(forKey: id) { action() }
        }
    }

    private func flushAll() {
        // Flushing may queue more flushes (a write that completes a close, say); loop until quiet.
        while !flushList.isEmpty {
            let targets = flushList
            flushList.removeAll(keepingCapacity: true)
            for target in targets { target.flushPendingOutput() }
        }
    }
}

/// A binary min-heap of timer deadlines; cancelled timers stay in the heap and are skipped when
/// popped, which keeps cancellation O(1).
struct TimerHeap {
    private var items: [(deadline: UInt64, id: UInt64)] = []

    func peekDeadline() -> UInt64? { items.first?.deadline }

    mutating func push(deadline: UInt64, id: UInt64) {
        items.append((deadline, id))
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child].deadline < items[parent].deadline else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> UInt64 {
        let top = items[0].id
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < items.count && items[left].deadline < items[smallest].deadline { smallest = left }
                if right < items.count && items[right].deadline < items[smallest].deadline { smallest = right }
                if smallest == parent { break }
                items.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return top
    }
}
