import Foundation
import HoopoeCore
import Synchronization

/// One clear of a queue's waiting jobs (``JobQueue/clear(queue:type:scheduled:progress:)``), as its progress page shows
/// it. Its counts are written by the clear's progress callback, from whatever thread that runs on.
final class QueueClearRun: Sendable {
    struct State: Sendable {
        var result = ClearResult()
        var finishedAt: Date?
        /// Why the clear stopped early (Redis stopped answering), nil when it did not.
        var failure: String?
    }

    let id: Int
    let queue: String
    let type: String?
    let scheduled: Bool
    /// The jobs waiting when it started (ready, and scheduled when asked): what "of" counts against.
    let total: Int
    let startedAt = Date()
    private let state = Mutex(State())

    init(id: Int, queue: String, type: String?, scheduled: Bool, total: Int) {
        self.id = id
        self.queue = queue
        self.type = type
        self.scheduled = scheduled
        self.total = total
    }

    var current: State { state.withLock { $0 } }
    var isRunning: Bool { current.finishedAt == nil }

    func update(_ result: ClearResult) { state.withLock { $0.result = result } }

    func finish(failure: String?) {
        state.withLock {
            $0.failure = failure
            $0.finishedAt = Date()
        }
    }
}

/// The queue clears of this dashboard process: each runs as a `Task`, so the POST that starts it answers at once and
/// the progress page follows a flood of a million jobs (as ``DeadBulkRuns`` does for the dead set). At most one clear
/// per queue at a time; the last few finished are kept for their progress pages, until the process restarts.
actor QueueClearRuns {
    /// Finished clears kept for their progress pages.
    static let kept = 20

    private var runs: [Int: QueueClearRun] = [:]
    private var nextID = 1

    /// The clear `id`, nil when unknown (or long finished).
    func progress(of id: Int) -> QueueClearRun? { runs[id] }

    /// Starts clearing `queue` (its jobs of `type`, its scheduled ones too when `scheduled`), unless a clear of it is
    /// running (then that one is returned with `started` false).
    func start(queue: String, type: String?, scheduled: Bool, total: Int, jobs: JobQueue) -> (run: QueueClearRun, started: Bool) {
        if let current = runs.values.first(where: { $0.queue == queue && $0.isRunning }) { return (current, false) }
        let run = QueueClearRun(id: nextID, queue: queue, type: type, scheduled: scheduled, total: total)
        nextID += 1
        runs[run.id] = run
        let finished = runs.values.filter { !$0.isRunning }.sorted { $0.id < $1.id }
        for old in finished.dropLast(Self.kept) { runs[old.id] = nil }
        // Detached: the clear needs nothing of this actor, and the engine's calls run on their caller's executor
        // (decision 0093), so a task inheriting the actor would decode each page's envelopes on it while the progress
        // pages wait to read their counts.
        Task.detached {
            do {
                let result = try await jobs.clear(queue: queue, type: type, scheduled: scheduled) { run.update($0) }
                run.update(result)
                run.finish(failure: nil)
            } catch {
                run.finish(failure: "Redis did not answer (\(error)); what was cleared stays cleared, the rest waits.")
            }
        }
        return (run, true)
    }
}
