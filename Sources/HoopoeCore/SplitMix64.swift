/// A small, fast pseudo-random generator (SplitMix64, Steele, Lea and Flood 2014), for choices that need an even
/// spread but no secrecy: the order in which a worker's fetch reads its weighted queues, and which weighted queue a
/// runner's next job comes from (``JobBuffer``).
///
/// Why not `SystemRandomNumberGenerator`: on Linux each of its draws is a `getrandom` system call. A worker of several
/// queues drew one per queue per fetch (0.115 system calls a job on the peers' workload) and, with several queues
/// backlogged, one per job taken (0.663 a job, two weighted queues): `perf`, session 13. Seeded once from the system
/// generator.
struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    /// Seeded from the system's generator.
    init() {
        var system = SystemRandomNumberGenerator()
        state = system.next()
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
