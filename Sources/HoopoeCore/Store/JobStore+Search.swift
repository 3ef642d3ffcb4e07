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

/// The recent jobs of a queue as a search read them, and whether a place's read stopped at its byte budget.
package struct RecentJobs: Sendable {
    package var jobs: [RecentJob] = []
    /// True when the stored text of a place ran past its share of the budget before `limit` jobs were read.
    package var cut = false
}

/// The recent jobs of a queue, for the dashboard's search: a bounded read of each place a job can be.
extension JobStore {
    /// Up to `limit` jobs from each of `queue`'s history (most recently finished), stream (newest), scheduled set
    /// (soonest due) and dead set (newest), and at most a quarter of `byteBudget` bytes of stored text from each: the
    /// hashes' texts through ``boundedTexts(_:_:budget:)``, the stream in slices of ``searchStreamSlice`` entries.
    /// Whatever the backlog, and however large its envelopes, a search reads at most 4 × `limit` jobs and about
    /// `byteBudget` bytes (plus one stream slice); only jobs whose stored text contains every one of `needles` (a cheap
    /// test that a filter may match) are decoded.
    package func recentJobs(queue: String, limit: Int, needles: [[UInt8]] = [], byteBudget: Int = JobStore.searchByteBudget) async throws -> RecentJobs {
        guard limit > 0 else { return RecentJobs() }
        let k = keys(queue)
        let share = max(1, byteBudget / 4)
        func wanted(_ bytes: [UInt8]) -> Bool { needles.allSatisfy { bytes.containsBytes($0) } }
        var found = RecentJobs()

        let (listed, legacy) = try await historyIDs(queue: queue, limit: limit)
        let history = listed + legacy
        let records = try await boundedTexts(k.historyJobs, history, budget: share)
        found.cut = found.cut || records.count < history.count
        var finished: [(job: RecentJob, text: [UInt8])] = []
        for (id, reply) in zip(history, records) {
            // With a legacy set the two are merged by finish time before the filter, so every job is read.
            guard let bytes = reply.bytes, !legacy.isEmpty || wanted(bytes), let record = HistoryRecord.decode(bytes), record.id == id,
                let envelope = record.envelope
            else { continue }
            finished.append((RecentJob(place: .finished, envelope: envelope, record: record, at: record.finishedAt), bytes))
        }
        if !legacy.isEmpty {
            finished = Array(finished.sorted { ($0.job.at ?? 0) > ($1.job.at ?? 0) }.prefix(limit)).filter { wanted($0.text) }
        }
        found.jobs += finished.map(\.job)

        let streamCut = try await newestEntries(k.stream, limit: limit, budget: share) { bytes in
            guard wanted(bytes), let envelope = try? JobEnvelope.decode(bytes) else { return }
            found.jobs.append(RecentJob(place: .stream, envelope: envelope, record: nil, at: nil))
        }
        found.cut = found.cut || streamCut

        for (place, index, bodies, newest) in [(RecentJob.Place.scheduled, k.scheduled, k.scheduledJobs, false), (.dead, k.dead, k.deadJobs, true)] {
            let pairs = try await redis.send(newest ? "ZREVRANGE" : "ZRANGE", index, "0", String(limit - 1), "WITHSCORES").array ?? []
            let (ids, scores) = Self.membersAndScores(pairs)
            let texts = try await boundedTexts(bodies, ids, budget: share)
            found.cut = found.cut || texts.count < ids.count
            for (position, reply) in texts.enumerated() {
                guard let bytes = reply.bytes, wanted(bytes), let envelope = try? JobEnvelope.decode(bytes) else { continue }
                found.jobs.append(RecentJob(place: place, envelope: envelope, record: nil, at: scores[position]))
            }
        }
        return found
    }

    /// Visits the envelope text of `stream`'s newest `limit` entries, newest first, in slices of
    /// ``searchStreamSlice``, and stops once `budget` bytes were read; true when it stopped there before `limit`.
    private func newestEntries(_ stream: String, limit: Int, budget: Int, _ visit: ([UInt8]) -> Void) async throws -> Bool {
        var end = "+"
        var read = 0
        var spent = 0
        while read < limit {
            if spent >= budget { return true }
            let want = min(Self.searchStreamSlice, limit - read)
            let slice = try await redis.send("XREVRANGE", stream, end, "-", "COUNT", String(want)).array ?? []
            for entry in slice {
                guard let fields = entry.array?.last, fields.array != nil else { continue }
                let bytes = Self.jobField(fields)  // the `job` field, as the worker reads it
                spent += bytes.count
                visit(bytes)
            }
            read += slice.count
            guard slice.count == want, let last = slice.last?.array?.first?.string else { return false }
            end = "(" + last
        }
        return false
    }

    /// What one queue's search may read of stored text: 32 MiB, a quarter for each place. A thousand envelopes of the
    /// peers' size take about 0.4 MiB; at the envelope limit of 512 KiB, a quarter holds 16.
    package static let searchByteBudget = 32 << 20
    /// Stream entries read in one `XREVRANGE` of a search: the most a slice can overshoot the budget by.
    static let searchStreamSlice = 50

    /// Job `id` wherever ``recentJobs(queue:limit:needles:byteBudget:)`` would look, without reading the others: one
    /// pipeline for its history record and its scheduled and dead copies, then the newest `limit` stream entries (as
    /// far as a quarter of ``searchByteBudget`` reaches).
    package func recentJob(id: String, queue: String, limit: Int) async throws -> [RecentJob] {
        let k = keys(queue)
        let replies = try await redis.pipeline([
            RedisCommand("HGET", k.historyJobs, id), RedisCommand("HGET", k.scheduledJobs, id), RedisCommand("ZSCORE", k.scheduled, id),
            RedisCommand("HGET", k.deadJobs, id), RedisCommand("ZSCORE", k.dead, id),
        ])
        var found: [RecentJob] = []
        if let record = replies[0].bytes.flatMap(HistoryRecord.decode), let envelope = record.envelope {
            found.append(RecentJob(place: .finished, envelope: envelope, record: record, at: record.finishedAt))
        }
        if let bytes = replies[1].bytes, let envelope = try? JobEnvelope.decode(bytes) {
            found.append(RecentJob(place: .scheduled, envelope: envelope, record: nil, at: replies[2].double ?? Double(replies[2].string ?? "")))
        }
        if let bytes = replies[3].bytes, let envelope = try? JobEnvelope.decode(bytes) {
            found.append(RecentJob(place: .dead, envelope: envelope, record: nil, at: replies[4].double ?? Double(replies[4].string ?? "")))
        }
        let needle = Array("\"\(id)\"".utf8)
        _ = try await newestEntries(k.stream, limit: limit, budget: Self.searchByteBudget / 4) { bytes in
            guard bytes.containsBytes(needle), let envelope = try? JobEnvelope.decode(bytes), envelope.id == id else { return }
            found.append(RecentJob(place: .stream, envelope: envelope, record: nil, at: nil))
        }
        return found
    }
}

extension Array where Element == UInt8 {
    /// True when `needle` occurs in these bytes (a cheap test before decoding an envelope).
    fileprivate func containsBytes(_ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, count >= needle.count else { return needle.isEmpty }
        var index = 0
        while index <= count - needle.count {
            if self[index] == needle[0] && self[index..<index + needle.count].elementsEqual(needle) { return true }
            index += 1
        }
        return false
    }
}
