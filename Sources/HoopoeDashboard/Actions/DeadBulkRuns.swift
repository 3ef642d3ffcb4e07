import Foundation
import HoopoeCore

/// One "retry all" or "delete all" of a queue's dead set (every match of the dead page's filter, or every job),
/// as the progress page shows it.
struct DeadBulkRun: Sendable {
    enum Verb: String, Sendable {
        case retry, delete

        var past: String { self == .retry ? "Retried" : "Deleted" }
    }

    let id: Int
    let queue: String
    let verb: Verb
    let filter: DeadFilter
    /// The dead set's size when the run started (what "looked at … of" counts against).
    var total: Int
    let startedAt: Date
    var scanned = 0
    var done = 0
    var skipped = 0
    /// Why a retry's skipped jobs were (a delete's are gone, nothing else).
    var skips = DeadRetrySkips()
    var finishedAt: Date?
    /// Why the run stopped early (Redis stopped answering), nil when it did not.
    var failure: String?

    var isRunning: Bool { finishedAt == nil }
}

/// The bulk actions of this dashboard process: each runs as a `Task` here, a batch at a time, so the POST that
/// starts it answers at once and every page stays responsive while it goes through a dead set of 100,000 jobs; the
/// progress page reads its counts from here. At most one run per queue at a time; the last few finished runs are
/// kept for their progress pages. A run lives as long as the process: a restarted dashboard has none (what was
/// done stays done, the rest stays dead).
actor DeadBulkRuns {
    /// Dead jobs looked at (and retried or deleted) per round trip: as `hoopoe dead retry-all`'s. A retry reads each
    /// job's envelope, and a plain `XADD` may write one of 512 KiB: at 500 a batch, a retry pulled up to 256 MiB
    /// through the dashboard at once (twice: the filter's read, then the retry's).
    static let batchSize = 100
    /// Finished runs kept for their progress pages.
    static let kept = 20

    private var runs: [Int: DeadBulkRun] = [:]
    private var nextID = 1

    /// The run `id`, nil when unknown (or long finished).
    func progress(of id: Int) -> DeadBulkRun? { runs[id] }

    /// The run in progress on `queue`, if any.
    func running(queue: String) -> DeadBulkRun? { runs.values.first { $0.queue == queue && $0.isRunning } }

    /// Starts `verb` over `queue`'s dead jobs that `filter` matches, unless a run is already going on `queue` (then
    /// that run is returned with `started` false). The run visits the jobs dead when it starts, oldest first.
    func start(
        queue: String, verb: DeadBulkRun.Verb, filter: DeadFilter, jobs: JobQueue, shown: @escaping @Sendable (JobEnvelope) -> JobEnvelope
    ) async throws -> (run: DeadBulkRun, started: Bool) {
        if let current = running(queue: queue) { return (current, false) }
        // Recorded before the first await: the actor is reentrant, and a second POST that came while the count was
        // read found no run and started its own over the same jobs.
        var run = DeadBulkRun(id: nextID, queue: queue, verb: verb, filter: filter, total: 0, startedAt: Date())
        nextID += 1
        runs[run.id] = run
        forgetOldRuns()
        let upTo: Double
        do {
            run.total = try await jobs.store.deadCount(queue: queue)
            runs[run.id]?.total = run.total
            // The newest death's score, not this host's clock: the scores are the burying workers' clocks.
            upTo = try await jobs.store.newestDeathScore(queue: queue) ?? 0
        } catch {
            runs[run.id]?.failure = "Redis did not answer (\(error)); nothing was done."
            runs[run.id]?.finishedAt = Date()
            throw error
        }
        // Detached: the engine's calls run on their caller's executor (decision 0093), so a task inheriting this actor
        // decoded each batch's envelopes on it while the dead page and the progress page waited to read their counts.
        let id = run.id
        Task.detached { await self.perform(id, queue: queue, verb: verb, filter: filter, upTo: upTo, jobs: jobs, shown: shown) }
        return (run, true)
    }

    /// Adds a batch's counts to run `id`.
    private func record(_ id: Int, scanned: Int, result: JobQueue.DeadBatchResult, skips: DeadRetrySkips) {
        runs[id]?.scanned += scanned
        runs[id]?.done += result.done
        runs[id]?.skipped += result.skipped
        runs[id]?.skips.add(skips)
    }

    /// Ends run `id`, with why it stopped early if it did.
    private func finish(_ id: Int, failure: String?) {
        if let failure { runs[id]?.failure = failure }
        runs[id]?.finishedAt = Date()
    }

    /// Goes through the dead set oldest first, up to `upTo`, a batch at a time, each batch after the last job of the one
    /// before (``DeadCursor``): what this run removed, and what the trims removed meanwhile, cannot make it skip a job.
    /// Without a filter the envelopes are not read here: a delete needs none, and a retry reads its own.
    private nonisolated func perform(
        _ id: Int, queue: String, verb: DeadBulkRun.Verb, filter: DeadFilter, upTo: Double, jobs: JobQueue,
        shown: @Sendable (JobEnvelope) -> JobEnvelope
    ) async {
        var cursor: DeadCursor?
        do {
            while true {
                let batch = try await jobs.store.deadEntries(
                    queue: queue, diedUpTo: upTo, after: cursor, limit: Self.batchSize, envelopes: !filter.isEmpty)
                guard let last = batch.last else { break }
                cursor = DeadCursor(diedAt: last.diedAt, id: last.id)
                let matching = filter.isEmpty ? batch.map(\.id) : batch.filter { filter.matches($0.envelope.map(shown)) }.map(\.id)
                let result =
                    matching.isEmpty
                    ? JobQueue.DeadBatchResult()
                    : verb == .retry ? try await jobs.retryDead(ids: matching, queue: queue) : try await jobs.deleteDead(ids: matching, queue: queue)
                let skips = verb == .retry ? await DeadRetrySkips.of(matching, skipped: result.skipped, queue: queue, jobs: jobs) : DeadRetrySkips()
                await record(id, scanned: batch.count, result: result, skips: skips)
                if batch.count < Self.batchSize { break }
            }
        } catch {
            await finish(id, failure: "Redis did not answer (\(error)); what was done stays done, the rest stays dead.")
            return
        }
        await finish(id, failure: nil)
    }

    private func forgetOldRuns() {
        let finished = runs.values.filter { !$0.isRunning }.sorted { $0.id < $1.id }
        for run in finished.dropLast(Self.kept) { runs[run.id] = nil }
    }
}

/// Why the jobs a batch retry left dead were skipped, by reason. ``JobQueue/retryDead(ids:queue:)`` counts them only,
/// and the dashboard said of them all "gone, unable to run again, or its unique key held by another job: retry each
/// from its row for the reason" (the progress page: "gone meanwhile, or cannot run again", and never the unique key).
struct DeadRetrySkips: Sendable, Equatable {
    /// No longer dead, and not retried by this batch: retried or deleted by another hand meanwhile.
    var gone = 0
    /// A copy that can never run again (``JobQueue/deadRetryRefusal(_:id:)``, or no readable envelope).
    var cannotRun = 0
    /// Its unique key held by another job (enqueued since it died) when looked at, just after the retry: retried, both
    /// would run.
    var uniqueKeyHeld = 0
    /// Left dead for a reason only its own retry says: too large with its attempts reset, dead again since it was read,
    /// or its copy or its unique key's holder unread (Redis did not answer the look).
    var other = 0

    var total: Int { gone + cannotRun + uniqueKeyHeld + other }

    mutating func add(_ other: DeadRetrySkips) {
        gone += other.gone
        cannotRun += other.cannotRun
        uniqueKeyHeld += other.uniqueKeyHeld
        self.other += other.other
    }

    /// Why `skipped` of `ids`, just retried as one batch, were left: one `HMGET` of their dead copies, sent only when
    /// some were skipped (the retry's normal path pays nothing). A job still dead is judged by its copy (as its row's
    /// Retry is: ``JobQueue/deadRetryRefusal(_:id:)``); the rest of the skipped are no longer dead, so gone. Of those
    /// that could run, the ones with a unique key are counted as waiting for it only when another job holds it (one
    /// `MGET` of their locks, only when there are such): a unique key does not say why, and every one of them was
    /// counted so, though its retry was refused for its size or because it had died again since it was read.
    static func of(_ ids: [String], skipped: Int, queue: String, jobs: JobQueue) async -> DeadRetrySkips {
        var skips = DeadRetrySkips()
        guard skipped > 0 else { return skips }
        guard let copies = try? await jobs.store.deadJobBytes(ids: ids, queue: queue) else {
            skips.other = skipped
            return skips
        }
        var stillDead = 0
        var unique: [(id: String, key: String)] = []
        for (id, copy) in zip(ids, copies) {
            guard let copy else { continue }
            stillDead += 1
            guard let envelope = try? JobEnvelope.decode(copy), JobQueue.deadRetryRefusal(envelope, id: id) == nil else {
                skips.cannotRun += 1
                continue
            }
            if let key = envelope.uniqueKey, !key.isEmpty { unique.append((id, key)) } else { skips.other += 1 }
        }
        if !unique.isEmpty {
            if let holders = try? await jobs.store.uniqueLockHolders(unique.map(\.key), queue: queue) {
                for (job, holder) in zip(unique, holders) {
                    // Held by the dead job itself (its lock from before it died), the retry would have taken it: not why.
                    if let holder, holder != job.id { skips.uniqueKeyHeld += 1 } else { skips.other += 1 }
                }
            } else {
                skips.other += unique.count
            }
        }
        skips.gone = max(0, skipped - stillDead)
        return skips
    }

    /// "3 skipped: 1 gone meanwhile, 2 cannot run again (…)", each reason with its count; nil when none was skipped.
    var said: String? {
        guard total > 0 else { return nil }
        var reasons: [String] = []
        if gone > 0 { reasons.append("\(gone) gone meanwhile (retried or deleted elsewhere)") }
        if cannotRun > 0 {
            reasons.append(
                "\(cannotRun) cannot run again (a malformed envelope, a payload cut or stripped of its secret keys, or fields against the envelope rules: its row says which)")
        }
        if uniqueKeyHeld > 0 { reasons.append("\(uniqueKeyHeld) wait\(uniqueKeyHeld == 1 ? "s" : "") for \(uniqueKeyHeld == 1 ? "its" : "their") unique key, held by another job") }
        if other > 0 { reasons.append("\(other) for another reason (too large to run again, or dead again meanwhile: retry each from its row for the reason)") }
        return "\(total) skipped: " + reasons.joined(separator: "; ")
    }
}
