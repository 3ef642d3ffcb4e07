import Foundation
import HoopoeJSON
import Redis

/// Where a job is, as found by id.
public enum JobState: Sendable, Equatable {
    /// In the stream, waiting for a worker.
    case ready
    /// Delivered to a worker that holds it now.
    case running(consumer: String)
    /// Waiting for its time (a delayed job or a retry), due at this Unix time.
    case scheduled(at: Double)
    /// In the dead set.
    case dead
    /// Finished, as job history recorded it (processed, discarded, deferred, dead and since deleted, cancelled).
    case finished(HistoryRecord)
}

/// A found job: its envelope and where it is.
public struct FoundJob: Sendable, Equatable {
    public let envelope: JobEnvelope
    public let state: JobState
    /// The stream entry id, for jobs in the stream.
    public let entryID: String?
}

/// The numbers an operator watches for one queue.
public struct QueueInfo: Sendable, Equatable {
    public let queue: String
    /// Jobs ready and not yet taken by a worker.
    public let ready: Int
    /// Jobs held by workers (running or prefetched).
    public let inFlight: Int
    /// Delayed jobs and retries.
    public let scheduled: Int
    /// Jobs in the dead set.
    public let dead: Int
    /// Age in seconds of the oldest ready job (0 when none waits).
    public let latency: Double
}

/// The outcome of a cancel.
public enum CancelResult: Sendable, Equatable {
    case cancelled
    /// A worker is running it; running jobs are not interrupted.
    case running
    case notFound
}

extension JobQueue {
    /// The jobs of one day (UTC), as `processed`, `failed`, `retried`, `dead`, `discarded`, and per type
    /// as `processed:<type>` and so on.
    public func counters(queue: String, day: Date = Date()) async throws -> [String: Int] {
        try await store.counters(queue: queue, day: day)
    }

    /// Depth, in-flight, scheduled, dead and latency of a queue, in one round trip.
    public func info(queue: String) async throws -> QueueInfo { try await store.info(queue: queue) }

    /// Every queue with something in Redis: those workers registered, plus any queue with a stream, a
    /// scheduled set, a dead set or a job history under the namespace (a queue may hold only delayed, dead or finished jobs).
    /// With `rescan` false, a scan of the keyspace made in the last 30 s by any process is reused (the dashboard, the
    /// health check: a scan walks every key of the database).
    public func knownQueues(rescan: Bool = true) async throws -> [String] { try await store.knownQueues(rescan: rescan) }

    /// Finds a job by id in a queue: scheduled, dead, or in the stream, and with `finished` also in job history
    /// (``JobState/finished(_:)``). Without it a finished job is not found: callers asking "is it still waiting?" (a
    /// cancel, the domain jobs' follow-ups) keep that answer.
    ///
    /// `stream` says how much of the stream (ready and running jobs) is read: by default all of it, which takes
    /// seconds on a large backlog but never misses a waiting job; ``StreamSearch/bounded`` (the dashboard, `hoopoe job
    /// show`) reads a few thousand entries at most, where a job can be (``StreamSearch``), and may miss a job with a
    /// caller-chosen id deep in a backlog: say ``StreamSearch/scope`` when it finds nothing.
    public func find(id: String, queue: String, finished: Bool = false, stream: StreamSearch = .whole) async throws -> FoundJob? {
        try await store.find(id: id, queue: queue, finished: finished, stream: stream)
    }

    /// Cancels a job that is waiting (ready or scheduled). Running jobs are not interrupted. A cancelled job is
    /// recorded in its queue's job history (outcome `cancelled`), its envelope stripped of secret payload keys by
    /// `redaction`; without a rule its payload is not kept.
    public func cancel(id: String, queue: String, redaction: PayloadRedaction? = nil) async throws -> CancelResult {
        guard let found = try await store.find(id: id, queue: queue) else { return .notFound }
        var envelope = found.envelope
        envelope.payload = redaction.map { $0.stripped(envelope.payload, type: envelope.type) } ?? .string("(not kept: cancelled without the job types' redaction rule)")
        let record = HistoryRecord(
            id: id, type: envelope.type, queue: queue, outcome: .cancelled, attempt: envelope.attempt, finishedAt: Date().timeIntervalSince1970,
            envelope: envelope)
        let answer = found.envelope.notify == true
            ? Worker.answer(id: id, type: envelope.type, queue: queue, outcome: "cancelled", attempt: envelope.attempt) : nil
        return try await store.cancel(id: id, found, queue: queue, record: record, answer: answer)
    }
}
