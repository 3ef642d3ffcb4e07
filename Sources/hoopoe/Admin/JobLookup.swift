import HoopoeCore

/// Finds a job by id in the given queues (ready, running, scheduled, dead, or finished while job history keeps it).
/// Ready and running jobs are found by scanning the stream, which is fine for an operator and wrong for a hot path.
enum JobLookup {
    /// The queue that holds `id` and where the job is; nil when no queue does.
    static func find(id: String, in queues: [String], jobs: JobQueue) async throws -> (queue: String, job: FoundJob)? {
        for queue in queues {
            if let job = try await jobs.find(id: id, queue: queue, finished: true) { return (queue, job) }
        }
        return nil
    }
}
