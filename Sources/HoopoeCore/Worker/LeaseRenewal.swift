/// Renews the lease of every job this worker holds (prefetched, running, awaiting acknowledgement) a third of a
/// lease apart, so a live worker keeps its jobs through two missed rounds, and a dead one loses them one lease
/// after its last renewal.
struct LeaseRenewal: BackgroundStep {
    let store: JobStore
    let leases: Leases
    let consumer: String
    let lease: Duration

    var interval: Duration { lease / 3 }
    var jitter: Double { 0 }

    func round() async throws {
        for (queue, ids) in leases.snapshot() where !ids.isEmpty {
            try await store.renewLeases(queue: queue, ids: ids, consumer: consumer)
        }
    }
}
