import HoopoeCore
import Redis

/// Finds a dead job by id without a stream scan: one `HGET` on each queue's dead-jobs hash.
enum DeadJobLookup {
    /// The queue whose dead set holds `id`, and the job; nil when none does.
    static func find(id: String, in queues: [String], jobs: JobQueue) async throws -> (queue: String, envelope: JobEnvelope)? {
        for queue in queues {
            guard let bytes = try await jobs.redis.send("HGET", jobs.keys(queue).deadJobs, id).bytes,
                var envelope = try? JobEnvelope.decode(bytes)
            else { continue }
            if envelope.queue.isEmpty { envelope.queue = queue }
            return (queue, envelope)
        }
        return nil
    }
}
