import Observability
import PresenceCore
import Transport

/// Presence across the event loops: which loop owns each document's room, and delivery of frames
/// to connections on their own loops.
final class PresenceService: @unchecked Sendable {
    // @unchecked Sendable: `loops` is set once in init; each `LoopPresence` is confined to its loop.
    let group: EventLoopGroup
    let live: LiveSettings
    let store: PresenceStore
    let clock: SystemClock
    let metrics: PresenceMetrics
    let logger: Logger
    let binaryFrames: Bool
    /// The relay to other gateway nodes; nil when presence stays on this node.
    let cluster: ClusterPresence?
    private(set) var loops: [LoopPresence] = []

    init(group: EventLoopGroup, live: LiveSettings, store: PresenceStore, metrics: PresenceMetrics,
         logger: Logger, binaryFrames: Bool, cluster: ClusterPresence? = nil,
         makePolicy: (EventLoop) -> PresencePolicy) {
        self.group = group
        self.cluster = cluster
        self.live = live
        self.store = store
        self.clock = SystemClock()
        self.metrics = metrics
        self.logger = logger
        self.binaryFrames = binaryFrames
        loops = group.loops.map { loop in
            LoopPresence(loop: loop, service: self, policy: makePolicy(loop), loopCount: group.loops.count)
        }
    }

    /// Returns the loop state that owns `documentID`'s room.
    func owner(of documentID: String) -> LoopPresence {
        loops[group.loop(forKey: documentID).index]
    }

    /// Queues a batch of frames on their connections; runs on the connections' loop. Clients that
    /// batch collect the frames first and decide at the end whether their batches go out.
    func apply(_ batch: [Delivery]) {
        let now = clock.monotonicMs
        var batching: [(session: ClientSession, connection: Connection)] = []
        for delivery in batch {
            for reference in delivery.recipients {
                let connection = reference.connection
                if let session = connection.userData as? ClientSession, session.batchMs > 0 {
                    session.deliverBatched(delivery, on: connection)
                    if !session.awaitsBatchDecision {
                        session.awaitsBatchDecision = true
                        batching.append((session, connection))
                    }
                    continue
                }
                if connection.sendFrame(delivery.wire, coalesceKey: delivery.coalesceKey) {
                    metrics.framesQueued.increment()
                    if let readMs = delivery.cursorReadMs {
                        metrics.cursorLatency.observe(Double(now &- readMs) / 1000)
                    }
                } else {
                    metrics.framesDropped.increment()
                }
            }
        }
        for (session, connection) in batching {
            session.finishDelivery(on: connection, nowMs: now)
        }
    }

    /// Removes every member of every room on every loop and waits until done (shutdown).
    func removeEveryone() {
        let done = CompletionLatch(count: loops.count)
        for state in loops {
            state.loop.execute {
                state.removeAll()
                done.signal()
            }
        }
        done.wait()
    }
}
