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
    /// As stored; for a delayed job or retry whose stored text is not a readable envelope (or is missing), a
    /// placeholder of type `(malformed)` whose payload says so: such a job is still scheduled, and can be cancelled.
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
    /// A worker holds it and did not answer whether it started within the wait: one stopping or gone (the job comes
    /// back when its lease lapses), or of a release that does not answer (decision 0089). It was not cancelled.
    case held
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
    /// cancel, the domain jobs' follow-ups) keep that answer. A job the scheduled set holds is found there, with no read
    /// of the stream, whatever its stored text (``FoundJob/envelope``).
    ///
    /// `stream` says how much of the stream (ready and running jobs) is read: by default all of it, which takes
    /// seconds on a large backlog but never misses a waiting job; ``StreamSearch/bounded`` (the dashboard, `hoopoe job
    /// show`) reads a few thousand entries at most, where a job can be (``StreamSearch``), and may miss a job with a
    /// caller-chosen id deep in a backlog: say ``StreamSearch/scope`` when it finds nothing.
    public func find(id: String, queue: String, finished: Bool = false, stream: StreamSearch = .whole) async throws -> FoundJob? {
        try await store.find(id: id, queue: queue, finished: finished, stream: stream)
    }

    /// When job `id` is due, if it is a delayed job or retry of `queue` now (one `ZSCORE`); nil when it is not scheduled.
    /// For "is it still scheduled?" (the dashboard's delete of a scheduled job): ``find(id:queue:finished:stream:)``
    /// would go on to read the stream when it is not, and a job just promoted sits at the newest end of the backlog.
    public func scheduledTime(id: String, queue: String) async throws -> Double? {
        try await store.scheduledTime(id: id, queue: queue)
    }

    /// Cancels a job that has not started: ready, scheduled, or fetched by a worker into its buffer. Running jobs are
    /// not interrupted. A cancelled job is recorded in its queue's job history (outcome `cancelled`; not when
    /// ``keepsHistory`` is false), its envelope stripped of secret payload keys by `redaction`; without a rule its
    /// payload is not kept (a job a worker held is recorded by that worker, with its job types' rule).
    ///
    /// A job a worker holds is asked for (decision 0089): the holder answers with its pause check (about twice a
    /// second), cancelling the job if it waits in its buffer or saying it runs. After `holderWait` without an answer
    /// the request is withdrawn and the result is ``CancelResult/held``; with `.zero` a held job is not asked for and
    /// is ``CancelResult/running``, as before.
    public func cancel(
        id: String, queue: String, redaction: PayloadRedaction? = nil, holderWait: Duration = .seconds(2)
    ) async throws -> CancelResult {
        // Looked for again when the job moved between the look and the cancel (a scheduled job promoted or run now, a
        // ready entry fetched, a held one handed back: ready again under a new entry), or a held entry was settled or
        // handed back before the request. Without it, a job that moved was reported not found, and ran.
        var moved = false
        for _ in 0..<3 {
            guard let found = try await store.find(id: id, queue: queue) else { return .notFound }
            moved = false
            var envelope = found.envelope
            envelope.payload = redaction.map { $0.stripped(envelope.payload, type: envelope.type) } ?? .string("(not kept: cancelled without the job types' redaction rule)")
            let record = keepsHistory
                ? HistoryRecord(
                    id: id, type: envelope.type, queue: queue, outcome: .cancelled, attempt: envelope.attempt, finishedAt: Date().timeIntervalSince1970,
                    envelope: envelope)
                : nil
            let answer = found.envelope.notify == true
                ? Worker.answer(id: id, type: envelope.type, queue: queue, outcome: "cancelled", attempt: envelope.attempt) : nil
            let result = try await store.cancel(id: id, found, queue: queue, record: record, answer: answer)
            switch found.state {
            case .ready, .scheduled:
                if result == .notFound {
                    moved = true
                    continue
                }
            default: break
            }
            guard result == .running, holderWait > .zero, let entryID = found.entryID else { return result }
            guard try await store.requestCancel(queue: queue, entryID: entryID, wait: holderWait) else { continue }
            if let answered = try await holderAnswer(queue: queue, entryID: entryID, wait: holderWait) { return answered }
        }
        // Found where its cancel then did not find it, each time: no worker was asked, so not `held`. (A scheduled job
        // whose envelope is stored without its place in the set is one: nothing schedules it to run.)
        return moved ? .notFound : .held
    }

    /// Waits up to `wait` for the holder's answer to the request for `entryID`, then removes the request (withdrawn
    /// when unanswered: no answer can come after). Nil when the request was gone (its entry settled or was handed back
    /// meanwhile, or another canceller of the same job read its answer): look again.
    private func holderAnswer(queue: String, entryID: String, wait: Duration) async throws -> CancelResult? {
        let clock = ContinuousClock()
        let deadline = clock.now + wait
        do {
            while clock.now < deadline {
                let state = try await store.cancelAnswer(queue: queue, entryID: entryID)
                if state != JobStore.cancelRequested { break }
                try await Task.sleep(for: .milliseconds(20))
            }
        } catch {
            // Cancelled or cut off while waiting: the request goes too, so no job is cancelled with nobody told.
            _ = try? await store.closeCancelRequest(queue: queue, entryID: entryID)
            throw error
        }
        switch try await store.closeCancelRequest(queue: queue, entryID: entryID) {
        case "cancelled": return .cancelled
        case "running": return .running
        case let state? where state.hasPrefix(JobStore.cancelRequested): return .held
        default: return nil
        }
    }
}
