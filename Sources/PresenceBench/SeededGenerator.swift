/// SplitMix64 random numbers: the same seed gives the same sequence on every run, so a scenario's
/// schedule (phases of movers, documents of clients, churn operations) repeats exactly.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    /// A generator for one loop of a run, derived from the run's seed so that loops do not share a
    /// sequence and a run with the same seed and thread count repeats.
    init(seed: UInt64, stream: Int) {
        var base = SeededGenerator(seed: seed ^ (0xA076_1D64_78BD_642F &* UInt64(stream + 1)))
        state = base.next()
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}
