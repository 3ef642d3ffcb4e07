import Foundation

/// A job a worker was running at its last heartbeat: which stream entry of which queue, and since when.
///
/// Only these: no job id (an enqueuer may choose one that says who it is for) and nothing of the payload. The Busy page
/// matches a run to a held job (`XPENDING`) by its queue and entry id.
public struct ProcessRun: Sendable, Equatable {
    /// The queue whose stream holds the job.
    public let queue: String
    /// The job's stream entry id (`<ms>-<seq>`).
    public let entryID: String
    /// When its run started, in seconds since 1970 by the worker host's clock.
    public let startedAt: Double

    public init(queue: String, entryID: String, startedAt: Double) {
        self.queue = queue
        self.entryID = entryID
        self.startedAt = startedAt
    }
}

extension ProcessRun {
    /// The heartbeat field a worker lists its runs in (``Worker/heartbeatFields``).
    public static let field = "running"

    /// How many runs a heartbeat lists at most: the oldest, which are what a reader looks for (a job that hangs). A
    /// worker runs up to 1,000 jobs at once (`--concurrency`); 100 runs make a field of about 5 KB, written every 5 s in
    /// the beat's one `HSET`. The worker's `busy` says how many ran in all (``ProcessRecord/listsEveryRun``).
    public static let listedLimit = 100

    /// `runs` as the heartbeat's ``field``: the `limit` oldest, oldest first, each `<queue> <entry id> <started>` (the
    /// start in seconds with milliseconds), comma-separated; empty when none runs. Queue names and entry ids hold
    /// neither a space nor a comma (``QueueSelection``'s rule; `XADD`'s ids).
    static func field(_ runs: [ProcessRun], limit: Int = listedLimit) -> String {
        runs.sorted { $0.startedAt < $1.startedAt }.prefix(max(0, limit))
            .map { "\($0.queue) \($0.entryID) \(secondsText($0.startedAt))" }
            .joined(separator: ",")
    }

    /// `seconds` with three decimals, as `%.3f` writes it (`1700000000.500`), from whole milliseconds: a beat writes one
    /// a running job, and `String(format:)` cost ~40,000 instructions a call (its variadic arguments' dynamic casts;
    /// callgrind, session 62). A time no whole number of milliseconds can hold (negative, not finite, past 2^53 ms)
    /// keeps `String(format:)`.
    static func secondsText(_ seconds: Double) -> String {
        // Rounded as `%.3f` rounds the exact value: the nearest, an exact tie to even. The product may itself have been
        // rounded onto a tie (0.9995 is a little below it): its exact remainder (a fused multiply-add) says which side.
        let product = seconds * 1000
        var milliseconds = product.rounded(.toNearestOrEven)
        if product - product.rounded(.down) == 0.5 {
            let remainder = (-product).addingProduct(seconds, 1000)
            if remainder > 0 { milliseconds = product.rounded(.up) } else if remainder < 0 { milliseconds = product.rounded(.down) }
        }
        guard seconds >= 0, milliseconds < 9_007_199_254_740_992 else { return String(format: "%.3f", seconds) }
        let whole = Int64(milliseconds)
        let fraction = whole % 1000
        let padding = fraction < 10 ? "00" : fraction < 100 ? "0" : ""
        return "\(whole / 1000).\(padding)\(fraction)"
    }

    /// The runs a ``field`` lists; a piece that does not read as one (another writer's) is left out.
    static func parse(_ text: String) -> [ProcessRun] {
        text.split(separator: ",").compactMap { piece in
            let parts = piece.split(separator: " ")
            guard parts.count == 3, let started = Double(parts[2]), started.isFinite else { return nil }
            return ProcessRun(queue: String(parts[0]), entryID: String(parts[1]), startedAt: started)
        }
    }
}

extension ProcessRecord {
    /// The runs its last heartbeat listed, oldest first; nil when it lists none at all, not even an empty list: a
    /// scheduler, or a worker of an earlier release, which did not say what it ran.
    public var runs: [ProcessRun]? {
        fields[ProcessRun.field].map(ProcessRun.parse)
    }

    /// Whether ``runs`` is every job the worker was running at that beat: false past ``ProcessRun/listedLimit``, when
    /// its `busy` (counted in the same instant) is more. A held job missing from a full list may be running.
    public var listsEveryRun: Bool {
        guard let runs else { return false }
        return runs.count >= (fields["busy"].flatMap { Int($0) } ?? 0)
    }

    /// How long `run` has run now: from its start to the beat that listed it, both by the worker host's clock, plus the
    /// beat's ``age`` (by Redis's clock), as ``up`` is counted: no other host's clock enters it. Nil without the beat's
    /// time, or with one that is no time (a hash written by hand).
    public func runningFor(_ run: ProcessRun) -> Double? {
        guard let beat = fields["beat_at"].flatMap(Double.init) else { return nil }
        let seconds = max(0, beat - run.startedAt) + age
        return seconds.isFinite ? seconds : nil
    }

    /// How long its longest run has run now (``runningFor(_:)``); nil when it listed none.
    public var longestRun: Double? {
        runs?.min { $0.startedAt < $1.startedAt }.flatMap(runningFor)
    }
}
