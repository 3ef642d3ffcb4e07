import Logging
import Redis

/// Puts jobs this worker holds back on their queues at once, as new entries; their current deliveries are removed.
/// For jobs that are not going to run here: prefetched when shutdown began, fetched into a closed buffer, or
/// interrupted by "stop now". Lost runs (deliveries beyond the first) are written into the envelope's attempt count;
/// a promoted job stays marked as promoted.
///
/// Releases the jobs' leases either way: handed back, or (when Redis refused) left for their lease to expire.
struct HandBack: Sendable {
    let store: JobStore
    let leases: Leases
    let logger: Logger

    func callAsFunction(_ fetched: [FetchedJob]) async {
        var byQueue: [String: [FetchedJob]] = [:]
        for job in fetched { byQueue[job.queue, default: []].append(job) }
        for (queue, list) in byQueue {
            let returned = list.map { job in
                if job.deliveries > 1, var envelope = try? JobEnvelope.decode(job.bytes) {
                    envelope.attempt = min(envelope.attempt, 1_000_000) + min(job.deliveries - 1, 1_000_000)
                    return (entryID: job.entryID, promoted: job.promoted, envelope: envelope.encoded())
                }
                return (entryID: job.entryID, promoted: job.promoted, envelope: job.bytes)
            }
            do {
                try await store.handBack(queue: queue, returned)
            } catch let error as RedisError where error.code == .notReplicated {
                // The hand-back ran on the primary: the jobs are on their queue again. Only the replicas' confirmation
                // (REDIS_WAIT_REPLICAS) is missing; a failover before they have it would bring back the old deliveries,
                // which return after their lease. Saying "failed" here sent operators looking for jobs that were queued.
                logger.warning(
                    "handed back \(list.count) jobs on the primary, but too few replicas confirmed it; if the primary fails over now they return after their lease instead",
                    metadata: ["queue": "\(queue)", "error": "\(error)"])
            } catch {
                logger.error("handing back \(list.count) jobs failed; they return after their lease", metadata: ["queue": "\(queue)", "error": "\(error)"])
            }
            leases.release(queue: queue, entryIDs: list.lazy.map(\.entryID))
        }
    }
}
