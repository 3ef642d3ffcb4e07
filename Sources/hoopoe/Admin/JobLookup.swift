import HoopoeCore

/// Finds a job by id in the given queues (ready, running, scheduled, dead, or finished while job history keeps it).
/// Ready and running jobs are looked for in as much of each stream as `stream` says (``StreamSearch``): the whole
/// stream by default (a cancel must not miss a waiting job), a bounded part for `job show` (as the dashboard does).
enum JobLookup {
    /// The queue that holds `id` and where the job is; nil when no queue does.
    static func find(id: String, in queues: [String], jobs: JobQueue, stream: StreamSearch = .whole) async throws -> (queue: String, job: FoundJob)? {
        for queue in queues {
            if let job = try await jobs.find(id: id, queue: queue, finished: true, stream: stream) { return (queue, job) }
        }
        return nil
    }
}
