import Foundation
import Observability

#if canImport(Glibc)
import Glibc
#endif

/// A fixed set of event loops, each on its own thread.
public final class EventLoopGroup: Sendable {
    public let loops: [EventLoop]

    /// Starts `count` loops; 0 means one per processor core.
    public init(count: Int) throws(TransportError) {
        let size = count > 0 ? count : max(1, ProcessInfo.processInfo.activeProcessorCount)
        var loops: [EventLoop] = []
        for index in 0..<size { loops.append(try EventLoop(index: index)) }
        self.loops = loops
        let started = DispatchSemaphore(value: 0)
        for loop in loops {
            let thread = Thread {
                loop.execute { started.signal() }
                loop.run()
            }
            thread.name = "event-loop-\(loop.index)"
            thread.stackSize = 1 << 20
            thread.start()
        }
        for _ in loops { started.wait() }
    }

    /// Returns the loop that owns `key` (a document id, say), the same for the same key on every call.
    public func loop(forKey key: String) -> EventLoop {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        return loops[Int(hash % UInt64(loops.count))]
    }

    /// Stops every loop after the tasks already queued; returns at once.
    public func stop() {
        for loop in loops { loop.stop() }
    }
}

/// A failure of the transport layer, with the system call and errno where one failed.
public enum TransportError: Error, Sendable, CustomStringConvertible {
    case systemCall(String, Int32)
    case invalidAddress(String)
    case tls(String)

    public var description: String {
        switch self {
        case .systemCall(let call, let code):
            return "\(call) failed: \(String(cString: strerror(code))) (errno \(code))"
        case .invalidAddress(let text):
            return "invalid listen address \"\(text)\"; expected host:port such as 127.0.0.1:8080 or [::1]:8080"
        case .tls(let message):
            return "TLS setup failed: \(message)"
        }
    }
}
