import Redis

/// A job the search looked at: where it is, its envelope, and its history record when it finished.
package struct RecentJob: Sendable {
    /// Where the job was found.
    package enum Place: String, Sendable {
        case finished
        /// In the stream: waiting, or held by a worker (the search does not ask which).
        case stream = "ready or running"
        case scheduled
        case dead
    }

    package let place: Place
    package let envelope: JobEnvelope
    /// The history record, for a finished job.
    package let record: HistoryRecord?
    /// When it finished, is due, or died; nil for a job in the stream.
    package let at: Double?
}

/// The recent jobs of a queue, for the dashboard's search: a bounded read of each place a job can be.
extension JobStore {
    /// Up to `limit` jobs from each of `queue`'s history (most recently finished), stream (newest), scheduled set
    /// (soonest due) and dead set (newest): one `ZREVRANGE`+`HMGET`, one `XREVRANGE`, and the dashboard's pages of
    /// the two sets. Whatever the backlog, at most 4 × `limit` envelopes are read.
    package func recentJobs(queue: String, limit: Int) async throws -> [RecentJob] {
        var found: [RecentJob] = []
        for record in try await historyRecords(queue: queue, offset: 0, limit: limit) {
            guard let envelope = record.envelope else { continue }
            found.append(RecentJob(place: .finished, envelope: envelope, record: record, at: record.finishedAt))
        }
        let entries = try await redis.send("XREVRANGE", keys(queue).stream, "+", "-", "COUNT", String(limit)).array ?? []
        for entry in entries {
            guard let bytes = entry.array?.last?.array?.last?.bytes, let envelope = try? JobEnvelope.decode(bytes) else { continue }
            found.append(RecentJob(place: .stream, envelope: envelope, record: nil, at: nil))
        }
        for entry in try await scheduledEntries(queue: queue, offset: 0, limit: limit) {
            guard let envelope = entry.envelope else { continue }
            found.append(RecentJob(place: .scheduled, envelope: envelope, record: nil, at: entry.dueAt))
        }
        for entry in try await deadEntries(queue: queue, offset: 0, limit: limit) {
            guard let envelope = entry.envelope else { continue }
            found.append(RecentJob(place: .dead, envelope: envelope, record: nil, at: entry.diedAt))
        }
        return found
    }
}
