import Foundation
import HoopoeJSON

/// What ``JobQueue/clear(queue:type:scheduled:)`` did.
public struct ClearResult: Sendable, Equatable {
    /// Jobs removed: ready ones, and scheduled ones when asked.
    public var cleared = 0
    /// Ready jobs a worker fetched while the clear ran (running, or in its buffer to run next): left to run.
    public var fetched = 0
    /// Jobs of another type than the one asked for: left.
    public var otherTypes = 0

    public init(cleared: Int = 0, fetched: Int = 0, otherTypes: Int = 0) {
        self.cleared = cleared
        self.fetched = fetched
        self.otherTypes = otherTypes
    }
}

extension JobQueue {
    /// Removes the jobs of `queue` no worker has fetched — its ready jobs, and with `scheduled` its delayed jobs and
    /// retries — or only those of `type`: for a flood of jobs that must not run (pause the queue first, so its workers
    /// stop fetching). The jobs there when it starts: one enqueued while it runs may stay. Each job goes as a cancel
    /// does (the same scripts: one job at a time, atomic, so a job a worker fetches meanwhile is left to run and
    /// counted): its unique lock released if it holds it, its `notify` caller told `cancelled`. Unlike a cancel, it is not written to job history: a flood would fill it (and Redis's memory) with
    /// records no one reads; the count is the record. Jobs workers fetched are not touched (`hoopoe job cancel` asks
    /// their holder), nor dead jobs (`hoopoe dead delete`).
    ///
    /// Within ``handBackWait`` of the queue's pause it waits for the rest of it first, so the jobs the workers fetched
    /// and hand back are there to clear.
    ///
    /// Pages of about ``JobStore/clearPage`` jobs, each cancelled in one pipelined burst; `progress` is told the running
    /// count after each page. Decision 0092. The scheduled set is walked with `ZSCAN`, so a delayed job or retry added
    /// while it runs may be removed too or stay; the ones there at the start all go.
    public func clear(
        queue: String, type: String? = nil, scheduled: Bool = false, progress: (@Sendable (ClearResult) -> Void)? = nil
    ) async throws -> ClearResult {
        var result = ClearResult()
        try await waitForHandBack(queue: queue)
        // Scheduled first: one that comes due meanwhile is promoted into the stream, which is cleared after.
        if scheduled {
            // A walk of the set (``JobStore/scheduledScan``): every job there from its start to its end is seen, one
            // seen twice is cancelled once (the second cancel finds nothing), and one of another type counted once.
            var cursor = "0"
            var left = Set<String>()
            repeat {
                let step = try await store.scheduledScan(queue: queue, cursor: cursor)
                cursor = step.cursor
                let fresh = step.jobs.filter { !left.contains($0.id) }
                let found = fresh.map { job in
                    FoundJob(envelope: Self.clearedEnvelope(job.envelope ?? [], fallbackID: job.id, queue: queue), state: .scheduled(at: 0), entryID: nil)
                }
                if let type {
                    for (job, envelope) in zip(fresh, found.map(\.envelope)) where envelope.type != type { left.insert(job.id) }
                }
                try await cancel(found, of: type, queue: queue, into: &result)
                if !found.isEmpty { progress?(result) }
            } while cursor != "0"
        }
        // The ready jobs up to the newest entry at the start: a producer still enqueueing is not chased.
        guard let end = try await store.newestEntry(queue: queue) else { return result }
        var after: String?
        while true {
            let page = try await store.readyPage(queue: queue, after: after, through: end)
            guard let last = page.last else { break }
            after = last.entryID
            let found = page.map { entry in
                FoundJob(envelope: Self.clearedEnvelope(entry.envelope, fallbackID: entry.entryID, queue: queue), state: .ready, entryID: entry.entryID)
            }
            try await cancel(found, of: type, queue: queue, into: &result)
            progress?(result)
        }
        return result
    }

    /// How long after a pause a clear of the queue waits before it reads it: the workers see a pause within their
    /// pause check (0.5 s by default) and hand back at once what they fetched and had not started, as new entries at the
    /// stream's end. A clear started sooner (the runbook's `pause` then `clear`, from a script) read the stream's end
    /// before those came back, left them, and they ran on `resume`.
    public static let handBackWait: Duration = .seconds(2)

    /// Waits out what is left of ``handBackWait`` after `queue`'s pause, by Redis's clock (the pause's time is Redis's
    /// too, ``JobStore/pause(queue:)``): by this host's against the pauser's, 3 s of skew between them skipped the wait.
    /// A pause time ahead of Redis's clock (an older release stored the pauser's) waits the whole window, never longer.
    private func waitForHandBack(queue: String) async throws {
        guard let since = try await store.pausedFor(queue: queue) else { return }
        let window = Double(Self.handBackWait.components.seconds)
        guard since < window else { return }
        try await Task.sleep(for: .milliseconds(Int((window - since) * 1000)))
    }

    /// The jobs of one page cancelled at once (the client pipelines them), those of another type left.
    private func cancel(_ jobs: [FoundJob], of type: String?, queue: String, into result: inout ClearResult) async throws {
        let wanted = jobs.filter { type == nil || $0.envelope.type == type }
        result.otherTypes += jobs.count - wanted.count
        let outcomes = try await withThrowingTaskGroup(of: CancelResult.self) { group in
            for job in wanted {
                let answer = job.envelope.notify == true
                    ? Worker.answer(id: job.envelope.id, type: job.envelope.type, queue: queue, outcome: "cancelled", attempt: job.envelope.attempt)
                    : nil
                group.addTask { try await self.store.cancel(id: job.envelope.id, job, queue: queue, record: nil, answer: answer) }
            }
            return try await group.reduce(into: [CancelResult]()) { $0.append($1) }
        }
        for outcome in outcomes {
            switch outcome {
            case .cancelled: result.cleared += 1
            case .running, .held: result.fetched += 1
            case .notFound: break  // settled or removed meanwhile
            }
        }
    }

    /// A stored envelope as a clear needs it (id, type, unique key, notify); one that does not decode is cleared under
    /// the id it is stored by, with no type a filter can name.
    private static func clearedEnvelope(_ bytes: [UInt8], fallbackID: String, queue: String) -> JobEnvelope {
        (try? JobEnvelope.decode(bytes)) ?? JobEnvelope(id: fallbackID, type: "(malformed)", queue: queue, payload: .null, enqueuedAt: 0)
    }
}
