import Foundation

/// Trims each of this worker's queues' dead sets to their caps (``WorkerOptions/deadMaxJobs``,
/// ``WorkerOptions/deadMaxAge``) about once a minute. A burial trims its queue's dead set too, but only a burial: a
/// queue whose jobs stopped dying kept its dead jobs, their payloads with whatever personal data they hold, past the
/// 180 days the docs promise. Each round is one short script a queue (``JobStore/trimDeadSet(queue:limits:now:)``):
/// a lookup of the oldest when nothing is due.
struct DeadSetUpkeep: BackgroundStep {
    let store: JobStore
    let options: WorkerOptions

    var interval: Duration { options.deadSetUpkeepInterval }
    var jitter: Double { 0.2 }

    func round() async throws {
        for queue in options.queues.names {
            _ = try await store.trimDeadSet(queue: queue, limits: options.deadSetLimits, now: Date().timeIntervalSince1970)
        }
    }
}
