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
    /// Pages of ``JobStore/clearPage`` jobs, each cancelled in one pipelined burst; `progress` is told the running count
    /// after each page. Decision 0092.
    public func clear(
        queue: String, type: String? = nil, scheduled: Bool = false, progress: (@Sendable (ClearResult) -> Void)? = nil
    ) async throws -> ClearResult {
        var result = ClearResult()
        // Scheduled first: one that comes due meanwhile is promoted into the stream, which is cleared after.
        if scheduled {
            // As many jobs as the set held at the start: retries and delayed jobs added meanwhile do not keep it going.
            let total = try await store.scheduledCount(queue: queue)
            var offset = 0
            var examined = 0
            while examined < total {
                let page = try await store.scheduledPage(queue: queue, offset: offset, count: min(JobStore.clearPage, total - examined))
                guard !page.isEmpty else { break }
                examined += page.count
                let found = page.map { job in
                    FoundJob(envelope: Self.clearedEnvelope(job.envelope ?? [], fallbackID: job.id, queue: queue), state: .scheduled(at: 0), entryID: nil)
                }
                let before = result.otherTypes
                try await cancel(found, of: type, queue: queue, into: &result)
                offset += result.otherTypes - before  // they stay in the set, ahead of the next page
                progress?(result)
            }
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
