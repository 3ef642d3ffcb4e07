import Foundation

/// Every Redis key of one queue, built in one place.
///
/// All keys of a queue carry the hash tag `{queue}`, so every key one script touches lives in one Redis
/// Cluster slot. The layout is documented in `jobs/PROTOCOL.md`; changing a name here changes the wire
/// format.
public struct QueueKeys: Sendable, Hashable {
    /// The queue's name.
    public let queue: String
    /// The key prefix (`hoopoe` in production; tests use their own to stay apart).
    public let namespace: String

    /// - Parameters:
    ///   - queue: the queue's name.
    ///   - namespace: the key prefix.
    public init(queue: String, namespace: String = "hoopoe") {
        self.queue = queue
        self.namespace = namespace
    }

    private var base: String { "\(namespace):{\(queue)}" }

    /// A periodic task's last handled tick (Unix seconds), in its queue's slot so that on a Redis Cluster it moves with
    /// the ticks' jobs: a failover that loses an enqueued tick loses its advance too, and the tick is enqueued again
    /// (docs/decisions/0084). Owned by HoopoeScheduler's `RedisLastTickStore`, which alone reads and writes it.
    public func scheduleLastTick(_ task: String) -> String { "\(base):schedule:\(task):last" }
    /// Stream of ready jobs; each entry has one field, `job`, holding the envelope JSON.
    public var stream: String { "\(base):stream" }
    /// Sorted set of delayed jobs and retries: member = job id, score = due time (Unix seconds).
    public var scheduled: String { "\(base):scheduled" }
    /// Hash of the delayed jobs' envelopes: field = job id.
    public var scheduledJobs: String { "\(base):scheduled:jobs" }
    /// Sorted set of dead jobs: member = job id, score = time of death.
    public var dead: String { "\(base):dead" }
    /// Hash of the dead jobs' envelopes (with `dead_reason` and `died_at`).
    public var deadJobs: String { "\(base):dead:jobs" }
    /// Short lock that keeps many workers from promoting the same queue at the same moment.
    public var promoteLock: String { "\(base):promote:lock" }
    /// Hash: stream entry id → a cancel's request for a job a worker holds (fetched into its buffer, not started), then
    /// the holder's answer: `requested` (written by `hoopoe job cancel`), `cancelled` or `running` (written by the worker
    /// that holds the entry). The canceller reads the answer and removes its field, or withdraws an unanswered request;
    /// both steps are atomic with the holder's, so a job is cancelled only while someone waits for the answer
    /// (decision 0089). Expires ``cancelsTTLSeconds`` after the longest wait of its requests: a canceller killed while
    /// waiting leaves its field for that long.
    public var cancels: String { "\(base):cancels" }
    /// How long the cancel requests are kept past their canceller's wait: a minute.
    public static let cancelsTTLSeconds = 60
    /// Hash `last`, `extra`, `until`: Redis's time (ms) of the last recovery round on this queue, by any worker, and
    /// what a longer gap added to the lease, until when (a stall of Redis is not held against live workers; decision
    /// 0032).
    public var recoveryClock: String { "\(base):recovery" }
    /// Hash: stream entry id → how many times a worker started that entry's job after it was recovered from a lost
    /// worker (decision 0079). A recovered job's worker marks it here before its handler runs, so when the entry is
    /// recovered again the lost runs are known, not guessed from the delivery count (which also counts deliveries
    /// fetched into a buffer and never started). Only recovered jobs are marked. A mark whose entry is no longer pending
    /// can never be read again (entry ids are never reused): each recovery round removes such marks, a few at a time,
    /// and the hash expires ``recoveredRunsTTLSeconds`` after its last mark.
    public var recoveredRuns: String { "\(base):recovered-runs" }
    /// How long the marks are kept after the last one: two days, above the longest job timeout (a day).
    public static let recoveredRunsTTLSeconds = 2 * 86_400
    /// Counters of one day (UTC), per type: `processed:<type>`, `failed:<type>`, … The day's totals are their sums,
    /// made when read (``JobStore/counters(queue:day:)``); keys written before decision 0033 also hold the totals,
    /// which the readers ignore.
    public func stats(day: String) -> String { "\(base):stats:\(day)" }
    /// The counters of the UTC day `date` falls on.
    func stats(on date: Date) -> String { stats(day: Self.day(date)) }
    /// List of finished jobs' ids (job history), the most recently finished first: each settle `LPUSH`es its jobs,
    /// whose reply is the length the count cap needs; the oldest are popped from the other end (decision 0033).
    /// Trimmed by age (the records' `finished_at`) and count in the script that adds to it (``JobStore`` settles).
    public var historyIDs: String { "\(base):history:ids" }
    /// The sorted set (member = job id, score = when it finished) that held job history's order before decision
    /// 0033. Workers of an older release may add to it during a rolling upgrade: the settles no longer write it but
    /// empty it (its records past the age cap, and beyond the count cap with the list), and the readers merge it
    /// with ``historyIDs`` while it exists. A new name, not a new type under the old one: an older worker's `ZADD`
    /// on a list would fail its whole acknowledgement (`WRONGTYPE`).
    public var legacyHistory: String { "\(base):history" }
    /// Hash of the finished jobs' records (``HistoryRecord`` JSON): field = job id.
    public var historyJobs: String { "\(base):history:jobs" }
    /// Counters of one UTC hour (`YYYY-MM-DDTHH`), per minute (`m07:processed`); the hour's totals are their sums,
    /// made when read (``JobStore/hourCounters(queue:hours:)``). Kept ``hourStatsTTLSeconds``, so the last day's
    /// hours are always there.
    public func stats(hour: String) -> String { "\(base):stats:\(hour)" }
    /// How long an hour's counters are kept (two days: a day of hours plus slack).
    public static let hourStatsTTLSeconds = 2 * 86_400

    /// The unique lock of a job with this `unique_key`.
    public func unique(_ key: String) -> String { "\(base):unique:\(key)" }
    /// A dedupe marker that is never released early (scheduler ticks).
    public func once(_ key: String) -> String { "\(base):once:\(key)" }

    /// A list the outcome of a job enqueued with `notify: true` is pushed to when it settles, for a caller's
    /// `BLPOP`; kept ``answerTTLSeconds``.
    public func answer(_ id: String) -> String { "\(base):answer:\(id)" }
    /// How long an answer list is kept (an hour): long enough for a caller that blocks, short enough to need no
    /// cleaning.
    public static let answerTTLSeconds = 3600

    /// The consumer group every worker reads the stream with.
    public static let group = "workers"

    /// `YYYY-MM-DD` in UTC: the counters' day.
    static func day(_ date: Date) -> String { counterTime(date).day }

    /// `YYYY-MM-DDTHH` in UTC: the hour counters' key part, and `mMM`: the minute's field prefix.
    static func hour(_ date: Date) -> (hour: String, minute: String) {
        let parts = counterTime(date)
        return (parts.hour, parts.minute)
    }

    /// The day, the hour and the minute's field prefix of `date` in UTC, from one date conversion.
    ///
    /// Written digit by digit, not with `String(format:)`: every acknowledgement batch needs them, and Foundation's
    /// formatter, five times a batch, was about a fortieth of the worker's CPU per job (session 6 profile).
    static func counterTime(_ date: Date) -> (day: String, hour: String, minute: String) {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let within = seconds - days * 86_400
        let (y, m, d) = civilFromDays(days)
        var day = ""
        day.reserveCapacity(10)
        appendPadded(y, width: 4, to: &day)
        day += "-"
        appendPadded(m, width: 2, to: &day)
        day += "-"
        appendPadded(d, width: 2, to: &day)
        var hour = day + "T"
        appendPadded(within / 3600, width: 2, to: &hour)
        var minute = "m"
        appendPadded((within % 3600) / 60, width: 2, to: &minute)
        return (day, hour, minute)
    }

    /// `value` in decimal, zero-padded to `width` digits (`%0*d`, a minus sign first for a negative year).
    private static func appendPadded(_ value: Int, width: Int, to text: inout String) {
        if value < 0 { text += "-" }
        let digits = String(value.magnitude)
        if digits.utf8.count < width + (value < 0 ? -1 : 0) {
            text += String(repeating: "0", count: width + (value < 0 ? -1 : 0) - digits.utf8.count)
        }
        text += digits
    }

    /// Howard Hinnant's days-to-civil: a date without a Calendar (cheap on the ack path).
    private static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}

/// Keys shared by all queues (not in any one queue's slot).
public struct GlobalKeys: Sendable, Hashable {
    /// The key prefix.
    public let namespace: String

    /// - Parameter namespace: the key prefix.
    public init(namespace: String = "hoopoe") { self.namespace = namespace }

    /// Set of queue names workers have served (for `hoopoe queues` and the health check).
    public var queues: String { "\(namespace):queues" }
    /// Set of the queue names the last scan of the keyspace found (queues only services' `XADD`s made, say), kept
    /// ``JobStore/scannedQueuesTTLSeconds``: the dashboard's pages and the health check read it instead of scanning
    /// every key on each request. Holds `""` when the scan found none, so that an empty result is remembered too.
    public var scannedQueues: String { "\(namespace):queues:scanned" }
    /// The turn of the worker that trims, this round, the queues no live worker serves (`SET NX PX`, its value the
    /// worker's consumer name; decision 0088, amended): one worker a round does it, not each of them.
    public var unservedTrimTurn: String { "\(namespace):retention:turn" }
    /// Hash: queue name → when a worker first found no live worker serving it (Unix seconds, that worker's clock); the
    /// field goes when a worker serves it again. A queue unserved for ``JobStore/unservedGraceSeconds`` is trimmed by
    /// age by the worker whose turn it is.
    public var unservedQueues: String { "\(namespace):retention:unserved" }
    /// Set by every look for the queues no live worker serves, expiring ``JobStore/unservedWatchGapSeconds(round:)`` after it:
    /// missing, no worker looked for that long (they were all down), so the times in ``unservedQueues`` span a gap in
    /// which nobody watched, and they start again.
    public var unservedWatch: String { "\(namespace):retention:watch" }
    /// Sorted set of live processes: member = process id, score = last heartbeat.
    public var processes: String { "\(namespace):processes" }
    /// The capped stream of outcomes other services read (jobs/EVENTS.md); the engine adds `job.dead` to it.
    public var events: String { "\(namespace):events" }
    /// Hash describing one process, with a TTL.
    public func process(_ id: String) -> String { "\(namespace):process:\(id)" }
    /// A periodic task's tick's claim: the name of the queue its job goes to, set by the first scheduler to handle the
    /// tick (`SET NX`), so schedulers whose files name different queues for the task still make one job of it
    /// (docs/decisions/0097). In the task's slot, no queue's. Owned by HoopoeScheduler's `JobQueueTickSink`.
    public func scheduleTickClaim(task: String, tick: Int64) -> String { "\(namespace):schedule:{\(task)}:claim:\(tick)" }
    /// A periodic task's queue record: the queue whose ``QueueKeys/scheduleLastTick(_:)`` holds the task's last tick, so
    /// a task moved to another queue finds its history there (decision 0084, amended in session 60). In the task's slot,
    /// no queue's. Owned by HoopoeScheduler's `RedisLastTickStore`.
    public func scheduleTaskQueue(task: String) -> String { "\(namespace):schedule:{\(task)}:queue" }
    /// Hash of the paused queues: field = queue name, value = when it was paused (Unix seconds). One key for all
    /// queues, so a worker learns every pause of its queues with one read (decision 0029).
    public var paused: String { "\(namespace):paused" }
}
