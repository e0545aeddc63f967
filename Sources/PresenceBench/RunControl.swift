import CLinux
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Microseconds on the monotonic clock since the run began. Every thread reads the same clock, so a
/// time written into a cursor by one loop can be subtracted from a time read on another.
struct RunClock: Sendable {
    private let originNs: UInt64

    init() {
        originNs = clinux_monotonic_ns()
    }

    func nowUs() -> UInt64 {
        (clinux_monotonic_ns() - originNs) / 1000
    }
}

/// Phases of a run. The coordinator thread moves the phase forward; loops read it on every
/// iteration and never write it.
enum RunPhase: Int, Sendable {
    /// Clients connect and join; nothing is measured yet.
    case preparing = 0
    /// The scenario's load runs (cursor moves, churn operations).
    case measuring = 1
    /// Load has stopped; the loops keep reading until the servers go quiet.
    case draining = 2
    /// Loops close their connections and return.
    case stopping = 3
}

/// State shared by the coordinator and the loop threads. Every field is an atomic, so the class is
/// Sendable without a lock.
final class RunControl: Sendable {
    let clock = RunClock()
    private let phaseValue = Atomic<Int>(RunPhase.preparing.rawValue)
    /// Clients that received the snapshot of their join.
    let readyClients = Atomic<Int>(0)
    /// Clients that failed to connect, to upgrade or to join, or were closed early.
    let failedClients = Atomic<Int>(0)
    /// Run clock time of the latest received event that the scenario counts as activity.
    let lastActivityUs = Atomic<UInt64>(0)
    /// Run clock time at which the coordinator entered `measuring`.
    let measureStartUs = Atomic<UInt64>(0)

    var phase: RunPhase {
        RunPhase(rawValue: phaseValue.load(ordering: .acquiring)) ?? .stopping
    }

    func enter(_ phase: RunPhase) {
        if phase == .measuring { measureStartUs.store(clock.nowUs(), ordering: .relaxed) }
        phaseValue.store(phase.rawValue, ordering: .releasing)
    }

    func noteActivity(atUs now: UInt64) {
        lastActivityUs.store(now, ordering: .relaxed)
    }

    /// Polls `condition` every 10 ms until it is true or `timeoutSeconds` pass, and returns whether it became true.
    func wait(timeoutSeconds: Double, until condition: () -> Bool) -> Bool {
        let deadline = clock.nowUs() + UInt64(timeoutSeconds * 1_000_000)
        while !condition() {
            if clock.nowUs() >= deadline { return false }
            usleep(10_000)
        }
        return true
    }

    /// Waits until no activity was noted for `quietSeconds`, at most `timeoutSeconds`; returns
    /// whether the servers went quiet.
    func waitForQuiet(quietSeconds: Double, timeoutSeconds: Double) -> Bool {
        let quietUs = UInt64(quietSeconds * 1_000_000)
        return wait(timeoutSeconds: timeoutSeconds) {
            let last = lastActivityUs.load(ordering: .relaxed)
            let now = clock.nowUs()
            return now > last && now - last >= quietUs
        }
    }

    func sleep(seconds: Double) {
        let deadline = clock.nowUs() + UInt64(seconds * 1_000_000)
        while clock.nowUs() < deadline { usleep(10_000) }
    }
}
