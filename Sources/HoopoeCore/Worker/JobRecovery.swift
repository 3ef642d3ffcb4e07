import Logging
import Redis

/// Takes over jobs whose worker died or hung: deliveries of this worker's queues whose lease expired are claimed
/// for this worker (with their delivery counts, so the lost runs count as attempts) and queued here to run.
///
/// Claims at most what the buffer has room for below the fetch's depth (`prefetch`, `maxPrefetch` while short jobs
/// outrun the fetches: ``JobBuffer/room(keepingAtLeast:)``), so one worker does not hoard a large orphaned backlog: the
/// rest is left for the next round or for other workers. Stops claiming once shutdown begins.
struct JobRecovery: BackgroundStep {
    var name: String { "recovery" }
    let store: JobStore
    let options: WorkerOptions
    let buffer: JobBuffer
    let leases: Leases
    let lifecycle: WorkerLifecycle
    let handBack: HandBack
    let logger: Logger

    var interval: Duration { options.recoveryInterval }
    var jitter: Double { 0.2 }
    /// The longest two rounds on a queue are normally apart (one worker's interval with its jitter, and slack for a
    /// slow round); a longer gap is counted as Redis having stalled (``JobStore/recover(queue:consumer:lease:limit:expectedGap:grace:)``).
    var expectedGap: Duration { options.recoveryInterval * (1 + jitter) + .milliseconds(500) }
    /// How long after a stall its excess idle time is added to the lease: time for every owner's renewal to land (one
    /// may be waiting out the client's command timeout, then one renewal interval).
    var grace: Duration { options.lease + store.redis.configuration.commandTimeout }

    /// Every queue gets at least one call per round, one that claims nothing when the buffer is full, so the recovery
    /// clock sees every round and a busy worker's pause in recovering is not taken for a stall of Redis.
    func round() async throws {
        try await forEachQueue(options.queues.names) { queue in
            var first = true
            while true {
                let state = lifecycle.current
                if state >= .draining { break }
                // Quiet (SIGTSTP) fetches nothing new, and a lost worker's job is new work too: its one call claims
                // nothing, so the recovery clock still sees the round; the jobs are left to a worker that runs.
                let limit = state == .quiet ? 0 : min(buffer.room(keepingAtLeast: options.prefetch), 100)
                if limit == 0 && !first { break }
                first = false
                let recovered = try await store.recover(
                    queue: queue, consumer: options.consumer, lease: options.lease, limit: limit, expectedGap: expectedGap, grace: grace)
                if recovered.isEmpty { break }
                let taken = leases.holdNew(recovered)
                if taken.count < recovered.count {
                    // Claimed back to this worker, which holds them: their lease is fresh again, and the copy here runs.
                    logger.warning(
                        "\(recovered.count - taken.count) jobs this worker holds had gone unrenewed past their lease (is lease renewal failing?)",
                        metadata: ["queue": "\(queue)"])
                }
                if !taken.isEmpty {
                    logger.warning("recovered \(taken.count) jobs whose worker stopped renewing them", metadata: ["queue": "\(queue)"])
                    let refused = buffer.put(taken)
                    if !refused.isEmpty { await handBack(refused) }
                }
                if recovered.count < limit { break }
            }
        }
    }
}
