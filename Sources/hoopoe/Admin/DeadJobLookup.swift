import HoopoeCore

/// Finds a dead job by id without a stream scan: one look-up in each queue's dead set.
enum DeadJobLookup {
    /// The queue whose dead set holds `id`, and the job; nil when none does.
    static func find(id: String, in queues: [String], jobs: JobQueue) async throws -> (queue: String, envelope: JobEnvelope)? {
        for queue in queues {
            if let envelope = try await jobs.deadJob(id: id, queue: queue) { return (queue, envelope) }
        }
        return nil
    }
}
