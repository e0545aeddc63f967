#if canImport(Glibc)
import Glibc
#endif

/// The client loops of one run, each on its own thread with its own workload.
///
/// Between `start()` and `stop()` each loop and its workload belong to the loop's thread; the
/// coordinator touches only `control` then. After `stop()` has joined the threads, the coordinator
/// may read the loops and workloads.
final class LoopSet<Workload: LoopWorkload> {
    let control: RunControl
    let loops: [ClientLoop]
    let workloads: [Workload]
    private var threads: [pthread_t] = []

    init(options: BenchOptions, endpoints: [ServerEndpoint], control: RunControl, makeWorkload: (Int) -> Workload) throws(BenchError) {
        self.control = control
        var loops: [ClientLoop] = []
        var workloads: [Workload] = []
        for index in 0..<options.threads {
            let loop = try ClientLoop(
                index: index, control: control, endpoints: endpoints, seed: options.seed,
                connectConcurrency: options.connectConcurrency, sourceAddressCount: options.sourceAddresses)
            let workload = makeWorkload(index)
            loop.workload = workload
            loops.append(loop)
            workloads.append(workload)
        }
        self.loops = loops
        self.workloads = workloads
    }

    func start() {
        for loop in loops {
            var thread = pthread_t()
            let context = Unmanaged.passRetained(LoopThreadContext(loop: loop)).toOpaque()
            let result = pthread_create(&thread, nil, { context in
                let box = Unmanaged<LoopThreadContext>.fromOpaque(context!).takeRetainedValue()
                box.loop.run()
                return nil
            }, context)
            precondition(result == 0, "pthread_create failed: \(errorText(result))")
            threads.append(thread)
        }
    }

    /// Tells every loop to close its connections and return, and waits for the threads.
    func stop() {
        control.enter(.stopping)
        for thread in threads { pthread_join(thread, nil) }
        threads.removeAll()
    }

    var counters: LoopCounters {
        var total = LoopCounters()
        for loop in loops { total.merge(loop.counters) }
        return total
    }
}

/// Carries a loop to its new thread.
///
/// `@unchecked Sendable` is safe because the coordinator hands the loop over in `start()` and does
/// not touch it again until `stop()` has joined the thread.
private final class LoopThreadContext: @unchecked Sendable {
    let loop: ClientLoop

    init(loop: ClientLoop) {
        self.loop = loop
    }
}
