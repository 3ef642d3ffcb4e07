import Logging

/// Takes over jobs whose worker died or hung: deliveries of this worker's queues whose lease expired are claimed
/// for this worker (with their delivery counts, so the lost runs count as attempts) and queued here to run.
///
/// Claims at most what the buffer has room for, so one worker does not hoard a large orphaned backlog: the rest
/// is left for the next round or for other workers. Stops claiming once shutdown begins.
struct JobRecovery: BackgroundStep {
    let store: JobStore
    let options: WorkerOptions
    let buffer: JobBuffer
    let leases: Leases
    let lifecycle: WorkerLifecycle
    let handBack: HandBack
    let logger: Logger

    var interval: Duration { options.recoveryInterval }
    var jitter: Double { 0.2 }

    func round() async throws {
        for queue in options.queues.names {
            while true {
                let room = options.prefetch - buffer.count
                if room <= 0 || lifecycle.current >= .draining { break }
                let limit = min(room, 100)
                let recovered = try await store.recover(queue: queue, consumer: options.consumer, lease: options.lease, limit: limit)
                if recovered.isEmpty { break }
                logger.warning("recovered \(recovered.count) jobs whose worker stopped renewing them", metadata: ["queue": "\(queue)"])
                leases.hold(recovered)
                let refused = buffer.put(recovered)
                if !refused.isEmpty { await handBack(refused) }
                if recovered.count < limit { break }
            }
        }
    }
}
