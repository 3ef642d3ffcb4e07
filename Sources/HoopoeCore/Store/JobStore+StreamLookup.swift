import Redis

/// How much of a queue's stream a lookup by id reads (the stream holds the ready and running jobs).
///
/// Why bounded: a job's stream entry cannot be found from its id in O(1) without an index written on every enqueue
/// (a second command per job, issue 17), and a scan of a 100k-job backlog takes seconds. Instead a bounded lookup
/// reads where the job can be: for an id ``JobID/make(now:)`` made, the entries added around the time it carries
/// (an entry id is the XADD's `<ms>-<seq>`, and a job is added when it is made unless it was delayed or retried);
/// then, for any id, the oldest entries (the next to run, and the jobs workers hold) and the newest.
public struct StreamSearch: Sendable, Equatable {
    /// Entries read from each place; nil reads the whole stream.
    public let window: Int?
    /// Stored bytes read from each place, at most (the slice that crosses it is read whole).
    public let placeBytes: Int
    /// ``placeBytes`` of a lookup in one queue: a plain `XADD` may write an envelope of 512 KiB, and a thousand of those
    /// from each of four places pulled 2 GiB through the dashboard (or the CLI) for one lookup, a request any web page
    /// could make of a dashboard on loopback without a password.
    public static let placeByteBudget = 8 << 20
    /// The least share of a place's budget a lookup over many queues leaves each (``shared(among:)``).
    public static let leastPlaceBytes = 256 << 10

    /// Every entry: slow on a large backlog, but a waiting job is never missed (a cancel, a "is it still waiting?").
    public static let whole = StreamSearch(window: nil)
    /// At most ``defaultWindow`` entries from each of: around the time a Hoopoe id carries, the oldest, the newest.
    public static let bounded = StreamSearch(window: defaultWindow)
    public static let defaultWindow = 1000
    /// How far before the time an id carries its entry may be (the enqueuer's clock ahead of Redis's).
    public static let clockSkewMilliseconds: UInt64 = 5000

    public init(window: Int?, placeBytes: Int = Self.placeByteBudget) {
        self.window = window.map { max(1, $0) }
        self.placeBytes = max(1, placeBytes)
    }

    /// This search for a lookup in each of `count` queues (the dashboard's `/job?id=` without a queue, `hoopoe job show`
    /// without `--queue`): each queue's places share the budget, at least ``leastPlaceBytes`` each, so the lookup reads
    /// about what one in a single queue does, not that times the number of queues.
    public func shared(among count: Int) -> StreamSearch {
        guard window != nil, count > 1 else { return self }
        return StreamSearch(window: window, placeBytes: max(Self.leastPlaceBytes, placeBytes / count))
    }

    /// What a bounded lookup read, for a "not found" message ("not found in …").
    public var scope: String {
        guard let window else { return "the whole stream" }
        return "the stream's oldest \(window) and newest \(window) entries (for an id Hoopoe made, also the \(window) entries from "
            + "\(Self.clockSkewMilliseconds / 1000) s before the time it carries, and the \(window) after), at most "
            + (placeBytes >= 1 << 20 ? "\(placeBytes >> 20) MiB" : "\(placeBytes >> 10) KiB") + " from each"
    }
}

extension JobStore {
    /// Job `id`'s entry in `queue`'s stream (its entry id and envelope), reading as much of the stream as `search` says.
    /// A bounded search reads each place in slices, as far as its window and ``StreamSearch/placeBytes`` reach: a
    /// slice of 16 first (at the envelope limit, the budget), then as many as the budget left holds at the size the
    /// entries had so far, so envelopes of the usual size cost two reads a place, and large ones stop at the budget.
    func streamEntry(queue: String, id: String, search: StreamSearch) async throws -> (String, JobEnvelope)? {
        let stream = keys(queue).stream
        let matcher = EntryMatcher(id: id)
        guard let window = search.window else { return try await scanStream(stream, matcher) }
        var places: [(forward: Bool, from: String, to: String)] = []
        if let ms = JobID.milliseconds(of: id) {
            // Forward from its time (the usual case: added just after it was made), and back from there to the skew.
            let earliest = ms > StreamSearch.clockSkewMilliseconds ? ms - StreamSearch.clockSkewMilliseconds : 0
            places.append((true, String(ms), "+"))
            if ms > 0 { places.append((false, "\(ms - 1)", String(earliest))) }
        }
        places += [(true, "-", "+"), (false, "+", "-")]
        for place in places {
            if let found = try await readPlace(
                stream, forward: place.forward, from: place.from, to: place.to, window: window, budget: search.placeBytes, matcher)
            {
                return found
            }
        }
        return nil
    }

    /// Up to `window` entries of `stream` from `from` towards `to`, in slices, until the match, the window, the end of
    /// the range, or `budget` bytes (every field of an entry counted: a worker reads the `job` field wherever it is, so
    /// an entry with a small field after a large one is a job too, and costs what it weighs).
    private func readPlace(
        _ stream: String, forward: Bool, from: String, to: String, window: Int, budget: Int, _ matcher: EntryMatcher
    ) async throws -> (String, JobEnvelope)? {
        var start = from
        var read = 0
        var spent = 0
        // The first slice: at the envelope limit (512 KiB), 16 entries are a whole place's budget in one read.
        var slice = min(window, max(1, budget / (512 << 10)), 16)
        while read < window, spent < budget {
            let command = RedisCommand(forward ? "XRANGE" : "XREVRANGE", stream, start, to, "COUNT", String(slice))
            let entries = try await redis.send(command).array ?? []
            if let found = matcher.first(in: entries) { return found }
            for entry in entries {
                for field in entry.array?.last?.array ?? [] { spent += field.bytes?.count ?? 0 }
            }
            read += entries.count
            guard entries.count == slice, let last = entries.last?.array?.first?.string else { return nil }
            start = "(" + last
            // The next slice: what the budget left holds at this place's size so far, within the window.
            let average = max(1, spent / max(1, read))
            slice = max(1, min(window - read, (budget - spent) / average))
        }
        return nil
    }

    /// Every entry of `stream`, oldest first, in pages of 500.
    private func scanStream(_ stream: String, _ matcher: EntryMatcher) async throws -> (String, JobEnvelope)? {
        var start = "-"
        while true {
            let page = try await redis.send("XRANGE", stream, start, "+", "COUNT", "500").array ?? []
            if let found = matcher.first(in: page) { return found }
            guard page.count == 500, let last = page.last?.array?.first?.string else { return nil }
            start = "(" + last
        }
    }
}

/// Picks a job's entry out of a page of stream entries: a cheap byte test for its quoted id, then a decode of only
/// the entries that pass. The quoted id, not `"id":"…"`: enqueuers write JSON with or without spaces.
private struct EntryMatcher {
    let id: String
    let needle: [UInt8]

    init(id: String) {
        self.id = id
        needle = Array("\"\(id)\"".utf8)
    }

    func first(in entries: [RedisReply]) -> (String, JobEnvelope)? {
        for entry in entries {
            // The `job` field, as a worker reads it (``JobStore/jobField(_:)``), not the last: an entry written with a
            // field after it is a job the worker runs, and was never found here.
            guard let parts = entry.array, let entryID = parts.first?.string, let fields = parts.last, fields.array != nil else { continue }
            let bytes = JobStore.jobField(fields)
            guard contains(bytes), let envelope = try? JobEnvelope.decode(bytes), envelope.id == id else { continue }
            return (entryID, envelope)
        }
        return nil
    }

    private func contains(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= needle.count else { return false }
        let first = needle[0]
        var index = 0
        while index <= bytes.count - needle.count {
            if bytes[index] == first && bytes[index..<index + needle.count].elementsEqual(needle) { return true }
            index += 1
        }
        return false
    }
}
