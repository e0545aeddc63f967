import CLinux
import Foundation
import Glibc
import Synchronization

/// Watches the plugin directory with inotify and calls `onChange` on its own thread once the
/// directory has been quiet for `debounceMs` after a change.
///
/// Editors save by writing a temporary file and renaming it over the original. That produces
/// several events in a row, so the debounce turns them into one reload.
///
/// NOTE: the watch is on the directory itself. If the directory is deleted or replaced, changes are
/// no longer seen until the watcher is restarted; SIGHUP and the admin reload still work.
public final class PluginDirectoryWatcher: Sendable {
    public let directory: String
    public let debounceMs: Int32
    private let onChange: @Sendable () -> Void
    private let inotifyDescriptor: Int32
    /// Written by `stop()` to wake the thread.
    private let stopDescriptor: Int32
    /// Owned by this lock: the running thread, and whether `stop()` was called.
    private let lifecycle = Mutex<Lifecycle>(.idle)

    private enum Lifecycle {
        case idle
        case running(Thread, DispatchSemaphore)
        case stopped
    }

    /// Starts watching `directory`. Throws when the directory cannot be watched.
    public init(directory: String, debounceMs: Int32 = 200, onChange: @escaping @Sendable () -> Void) throws {
        let inotify = clinux_inotify_init()
        guard inotify >= 0 else { throw WatcherError("inotify_init failed: \(String(cString: strerror(errno)))") }
        guard clinux_inotify_add_watch(inotify, directory) >= 0 else {
            let reason = String(cString: strerror(errno))
            close(inotify)
            throw WatcherError("cannot watch plugin directory \(directory): \(reason)")
        }
        let stop = clinux_eventfd()
        guard stop >= 0 else {
            close(inotify)
            throw WatcherError("eventfd failed: \(String(cString: strerror(errno)))")
        }
        self.directory = directory
        self.debounceMs = debounceMs
        self.onChange = onChange
        inotifyDescriptor = inotify
        stopDescriptor = stop
    }

    deinit {
        close(inotifyDescriptor)
        close(stopDescriptor)
    }

    /// Starts the watcher thread. Calling it again, or after `stop()`, does nothing.
    public func start() {
        lifecycle.withLock { lifecycle in
            guard case .idle = lifecycle else { return }
            let finished = DispatchSemaphore(value: 0)
            let thread = Thread { [self] in
                run()
                finished.signal()
            }
            thread.name = "plugin-watcher"
            lifecycle = .running(thread, finished)
            thread.start()
        }
    }

    /// Stops the thread and waits for it to end. A pending debounced change is dropped.
    public func stop() {
        let finished: DispatchSemaphore? = lifecycle.withLock { lifecycle in
            defer { lifecycle = .stopped }
            guard case .running(_, let finished) = lifecycle else { return nil }
            return finished
        }
        guard let finished else { return }
        var one: UInt64 = 1
        _ = write(stopDescriptor, &one, MemoryLayout<UInt64>.size)
        finished.wait()
    }

    private func run() {
        var pending = false
        var deadline: UInt64 = 0
        while true {
            var descriptors = [
                pollfd(fd: inotifyDescriptor, events: Int16(POLLIN), revents: 0),
                pollfd(fd: stopDescriptor, events: Int16(POLLIN), revents: 0),
            ]
            let nowMs = clinux_monotonic_ns() / 1_000_000
            let timeout: Int32 = pending ? Int32(clamping: deadline > nowMs ? deadline - nowMs : 0) : -1
            let ready = poll(&descriptors, 2, timeout)
            if ready < 0 {
                if errno == EINTR { continue }
                // Only a broken descriptor gets here; the thread ends rather than spin.
                return
            }
            if descriptors[1].revents != 0 { return }
            if descriptors[0].revents != 0 {
                if clinux_inotify_drain(inotifyDescriptor) > 0 {
                    pending = true
                    deadline = clinux_monotonic_ns() / 1_000_000 + UInt64(max(debounceMs, 0))
                }
                continue
            }
            if pending && clinux_monotonic_ns() / 1_000_000 >= deadline {
                pending = false
                onChange()
            }
        }
    }
}

/// The plugin directory could not be watched.
public struct WatcherError: Error, Sendable, CustomStringConvertible {
    public var message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}
