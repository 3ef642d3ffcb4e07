import Foundation

/// What a "run now" of a scheduled job did.
public enum RunNowResult: Sendable, Equatable {
    /// The job is on its queue's stream, ready for the next worker that fetches.
    case moved
    /// The queue's scheduled set does not hold it: promoted already (due), cancelled, never there, or in another queue.
    case notScheduled
    /// The scheduled set named the id without its envelope (a half-deleted job, or a set written by hand): the id was
    /// removed, as the promoter removes such ids, and there was nothing to run.
    case noEnvelope
}

extension JobQueue {
    /// Runs a delayed job or a retry now instead of at its time: it goes to its queue's stream as a due job does, in one
    /// script, so it is moved once however many operators and promoters act on it together. Its envelope is kept as it
    /// is (the attempt of a retry, its unique lock, its `run_at`, which the worker does not hold it back for).
    public func runNow(id: String, queue: String) async throws -> RunNowResult {
        try await store.runNow(id: id, queue: queue)
    }
}
