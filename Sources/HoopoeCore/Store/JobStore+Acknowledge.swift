import Foundation
import Redis
import Synchronization

/// The acknowledgement of finished jobs: their history records in one `HSET`, then the acknowledge script, in one
/// write (decision 0062); now and then the history's upkeep after it.
///
/// Why the records are not the script's arguments: every byte that enters a Lua script is hashed byte by byte as Lua
/// interns it (this Redis hashes all of a string, not a sample), then copied again into the commands the script
/// calls. The records, ~400 bytes a job, were most of what a settle sent, and made its script the largest part of
/// Redis's CPU at full speed. Given to `HSET` directly, they are read once.
extension JobStore {
    static let acknowledgeScript = historyScript(name: "acknowledge", embedded: PackageResources.acknowledge_lua)
    /// The most jobs one acknowledge call carries: the script spreads its ids into `XACK`, `XDEL` and `LPUSH` with
    /// `unpack`, which Lua refuses past about 8,000 values ("too many results to unpack") before the script's first
    /// write. A batch that grew while a flight hung on a frozen node (10,796 jobs once, on a cluster) was refused
    /// whole, and every job in it ran again. Under load a batch is tens of jobs; larger ones go in calls of this many.
    static let acknowledgementsACall = 1000
    static let historyUpkeepScript = historyScript(name: "history-upkeep", embedded: PackageResources.history_upkeep_lua)

    /// Acknowledges finished jobs of one queue and one counter. In one write:
    /// 1. `HSET history:jobs` of their history records (when the worker keeps history);
    /// 2. the acknowledge script: removes their entries, releases their unique locks (only if still held by that job),
    ///    pushes the answers of the jobs with `notify`, lists their ids in job history (one `LPUSH`; past the cap's
    ///    1 % slack, the oldest entries go, and their records but the batch's own), and counts them
    ///    per type for the day and in all for the minute (a counter key's TTL is set when a field of it is new; the
    ///    totals are summed when read, decision 0033).
    ///
    /// The records come first and are not atomic with the rest: if the script does not run (the connection or the
    /// server lost between the two), a record is there without its list entry, and its job, not acknowledged, runs
    /// again after its lease and writes it again, listed then. The list, which the dashboard's search walks, names
    /// only acknowledged jobs; a lookup by id (`hoopoe job show`) may find a record a moment before.
    ///
    /// Returns what the history needs next (``HistoryUpkeep``), when it needs anything: the caller runs it with
    /// ``keepHistory(_:)``.
    /// - Throws: ``RedisError``: the script failed or never ran (the jobs stay delivered and run again after their
    ///   lease); ``HistoryRecordsNotWritten``: the jobs were acknowledged, but `HSET` was refused.
    ///
    /// KEYS[1] stream · KEYS[2] stats:<day> · KEYS[3] stats:<hour> · KEYS[4] history:ids · KEYS[5] history:jobs ·
    /// KEYS[6..5+u] unique:<key> of the jobs that hold one · KEYS[6+u..5+u+a] answer:<id> of the jobs with `notify`
    /// ARGV[1] group · ARGV[2] n · ARGV[3] u · ARGV[4] a · ARGV[5] answer TTL (s) · ARGV[6] the minute's field prefix
    /// (`m07`) · ARGV[7] hour counters' TTL (s) · ARGV[8] h (history records) · ARGV[9] the newest of the entry ids
    /// ("" = remove them one by one: a batch smaller than ``trimBatch``) · ARGV[10] history max jobs · ARGV[11] the
    /// settling worker's consumer ("" = no owner check); then n entry ids, u (job id, entry id) pairs (one per unique
    /// key, same order), a (entry id, outcome JSON) pairs (one per answer key), h job ids (those with a record, in
    /// order), then the counter name (`processed`, `discarded`, `deferred`), then type/count pairs.
    /// Returns {n, 1 when the minute's counter was new}
    ///
    /// - Parameter consumer: the worker's consumer: a job with a unique key or `notify` whose entry another consumer
    ///   holds now (this worker's lease lapsed, another recovered it and runs it) is left to that one, its lock and
    ///   answer untouched (as retries and burials are: ``DeliveryTakenOver``). "" checks nothing.
    func acknowledge(_ acks: [Acknowledgement], queue: String, counter: String, at date: Date, consumer: String = "") async throws -> HistoryUpkeep? {
        if acks.isEmpty { return nil }
        let k = keys(queue)
        let call = Self.acknowledgeCall(k, at: date, counter: counter, acks: acks, consumer: consumer)
        let replies = try await redis.run(
            Self.acknowledgeScript, keys: call.keys, arguments: call.arguments, after: call.records.map { [$0] } ?? [], durable: true)
        guard let limits = call.limits, let added = replies.commands.first else { return nil }
        if let message = added.errorMessage {
            throw HistoryRecordsNotWritten(error: RedisError.reply(message, endpoint: endpoint, command: "HSET"))
        }
        let reply = replies.script.array ?? []
        let byAge = reply.count > 1 && reply[1].int == 1
        let refinished = call.recordCount - (added.int ?? call.recordCount)
        guard refinished > 0 || byAge else { return nil }
        // The ids are gathered only for the re-finish check, which needs them: most settles ask for no upkeep.
        let jobIDs = refinished > 0 ? acks.compactMap { $0.history == nil ? nil : $0.jobID } : []
        return HistoryUpkeep(queue: queue, limits: limits, now: date.timeIntervalSince1970, byAge: byAge, refinished: refinished, jobIDs: jobIDs)
    }

    /// The jobs were acknowledged, but their history records were refused (`WRONGTYPE`, an ACL): only their history
    /// is missing.
    struct HistoryRecordsNotWritten: Error, CustomStringConvertible {
        let error: RedisError
        var description: String { "\(error)" }
    }

    /// One acknowledgement's script keys and arguments (as ``acknowledge(_:queue:counter:at:)`` documents), its
    /// `HSET` of the records (nil when no job has one), the history's caps, and how many jobs have a record.
    struct AcknowledgeCall {
        var keys: [String]
        var arguments: [String]
        var records: RedisCommand?
        var limits: HistoryLimits?
        /// How many of the batch's jobs have a history record (the `HSET`'s fields).
        var recordCount: Int
    }

    static func acknowledgeCall(_ keys: QueueKeys, at date: Date, counter: String, acks: [Acknowledgement], consumer: String = "") -> AcknowledgeCall {
        var uniqueCount = 0
        var answerCount = 0
        var recordCount = 0
        var recordBytes = 0
        var limits: HistoryLimits?
        for ack in acks {
            if ack.uniqueKey != nil { uniqueCount += 1 }
            if ack.answer != nil { answerCount += 1 }
            if let history = ack.history {
                if limits == nil { limits = history.limits }
                recordCount += 1
                recordBytes += ack.jobID.utf8.count + history.record.count
            }
        }
        let named = settleKeys(keys, at: date)
        var k = [named.stream, named.statsDay, named.statsHour, named.historyIDs, named.historyJobs]
        k.reserveCapacity(k.count + uniqueCount + answerCount)
        for ack in acks { if let key = ack.uniqueKey { k.append(keys.unique(key)) } }
        for ack in acks where ack.answer != nil { k.append(keys.answer(ack.jobID)) }
        var a = [
            QueueKeys.group, String(acks.count), String(uniqueCount), String(answerCount), answerTTLArgument,
            named.minute, hourStatsTTLArgument, String(recordCount), acks.count < trimBatch ? "" : newestEntryID(acks),
            String(limits?.maxJobs ?? 0), consumer,
        ]
        a.reserveCapacity(a.count + acks.count + 2 * (uniqueCount + answerCount) + recordCount + 3)
        for ack in acks { a.append(ack.entryID) }
        for ack in acks where ack.uniqueKey != nil {
            a.append(ack.jobID)
            a.append(ack.entryID)
        }
        for ack in acks {
            if let answer = ack.answer {
                a.append(ack.entryID)
                a.append(answer)
            }
        }
        var records: RedisCommand?
        if recordCount > 0 {
            var hset = RedisCommand("HSET", reservingCapacity: recordBytes + named.historyJobs.utf8.count, arguments: 2 * recordCount + 1)
            hset.append(named.historyJobs)
            for ack in acks {
                guard let history = ack.history else { continue }
                hset.append(ack.jobID)
                hset.append(bytes: history.record)
                a.append(ack.jobID)
            }
            records = hset
        }
        a.append(counter)
        // Per type: a batch is nearly always of one type, so the first is counted without a dictionary.
        let firstType = acks.first?.type ?? ""
        var firstCount = 0
        var others: [String: Int] = [:]
        for ack in acks {
            if ack.type == firstType { firstCount += 1 } else { others[ack.type, default: 0] += 1 }
        }
        if firstCount > 0 {
            a.append(firstType)
            a.append(String(firstCount))
        }
        for (type, count) in others {
            a.append(type)
            a.append(String(count))
        }
        return AcknowledgeCall(keys: k, arguments: a, records: records, limits: limits, recordCount: recordCount)
    }

    private static let answerTTLArgument = String(QueueKeys.answerTTLSeconds)
    private static let hourStatsTTLArgument = String(QueueKeys.hourStatsTTLSeconds)

    /// The keys every settle of a queue names, and its counters' time parts for one minute.
    struct SettleKeys {
        let keys: QueueKeys
        let stream: String
        let historyIDs: String
        let historyJobs: String
        /// Whole minutes since 1970 (rounded down) that `statsDay`, `statsHour` and `minute` were made for.
        var minuteIndex: Int
        var statsDay: String
        var statsHour: String
        var minute: String
    }

    /// The most queues whose settle keys are kept; past it the least recently used goes (a worker serves a few queues;
    /// a process that settles in many, such as the test suites, keeps building them).
    static let settleKeysKept = 16
    private static let settleKeysCache = Mutex<[SettleKeys]>([])

    /// `keys`' settle keys at `date`, made once for a queue and once a minute for its counters, not for every settle:
    /// each key is an interpolated `String`, and making the five (with the day's, hour's and minute's text) cost about
    /// 11,000 instructions a settle, ~350 a job in a run's batches of ~30 (callgrind, session 64). Looked up by equal
    /// queue and namespace in a short list, the most recently used first.
    static func settleKeys(_ keys: QueueKeys, at date: Date) -> SettleKeys {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let minuteIndex = seconds >= 0 ? seconds / 60 : (seconds - 59) / 60
        let found = settleKeysCache.withLock { kept -> SettleKeys? in
            guard let index = kept.firstIndex(where: { $0.keys == keys }) else { return nil }
            if index > 0 { kept.swapAt(0, index) }
            return kept[0].minuteIndex == minuteIndex ? kept[0] : nil
        }
        if let found { return found }
        let time = QueueKeys.counterTime(date)
        let made = SettleKeys(
            keys: keys, stream: keys.stream, historyIDs: keys.historyIDs, historyJobs: keys.historyJobs, minuteIndex: minuteIndex,
            statsDay: keys.stats(day: time.day), statsHour: keys.stats(hour: time.hour), minute: time.minute)
        settleKeysCache.withLock { kept in
            if let index = kept.firstIndex(where: { $0.keys == keys }) {
                kept[index] = made
            } else {
                if kept.count >= settleKeysKept { kept.removeLast() }
                kept.insert(made, at: 0)
            }
        }
        return made
    }

    /// The smallest batch whose entries the acknowledge script may remove with `XPENDING` + `XTRIM` (decision 0043):
    /// below it `XDEL`, whose cost grows with the batch (it finds each id in its stream node), costs less than the two
    /// fixed commands, and a lone job's settle keeps its command count.
    static let trimBatch = 8

    /// The newest of the batch's stream entry ids ("" for none): the acknowledge script removes the batch's entries with
    /// one `XTRIM MINID` when this one is older than every entry still pending (decision 0043).
    /// Each id's numbers were read with its job (``Acknowledgement/held``); an id not in Redis's form is read here (one
    /// that is not an id at all precedes nothing and follows nothing, as ``StreamEntryID/order(_:)`` says: the first id
    /// stays when it cannot be ordered).
    static func newestEntryID(_ acks: [Acknowledgement]) -> String {
        guard let first = acks.first else { return "" }
        var newest = first.entryID
        guard var newestOrder = order(first) else { return newest }
        for ack in acks.dropFirst() {
            if let order = order(ack), newestOrder < order {
                newest = ack.entryID
                newestOrder = order
            }
        }
        return newest
    }

    private static func order(_ ack: Acknowledgement) -> (ms: UInt64, seq: UInt64)? {
        if let held = ack.held { return (held.ms, held.seq) }
        return StreamEntryID.order(ack.entryID)
    }

    /// What a settle's history needs after it, decided from its replies.
    struct HistoryUpkeep: Sendable, Equatable {
        let queue: String
        let limits: HistoryLimits
        /// When the settle ran, Unix seconds: the age trim's clock.
        let now: Double
        /// The first settle of a minute (its minute counter was new): trim by age too.
        let byAge: Bool
        /// How many of the batch's ids `HSET` found already there (a dead job retried, a job run twice).
        let refinished: Int
        /// The batch's job ids with a record, in order (searched only when `refinished` > 0).
        let jobIDs: [String]
    }

    /// Runs a settle's history upkeep in one script call (history_upkeep.lua, with history.lua before it):
    /// removes the older list entries of the jobs that finished again, then trims by age (when `byAge`) and by count
    /// (when over the cap by more than 1 %), as ``HistoryLimits`` says. Asked for only by the minute's first settle and
    /// by one in which `HSET` found an id already there: the acknowledge script makes the count trim itself.
    ///
    /// Best effort, after the jobs are acknowledged: a failed age trim is made by the next minute's first settle; a
    /// failed re-finish check leaves that job listed twice, until its older entry is trimmed.
    ///
    /// KEYS[1] history:ids · KEYS[2] history:jobs · KEYS[3] history (the legacy sorted set, emptied)
    /// ARGV[1] history max jobs · ARGV[2] history max age (s) · ARGV[3] now (Unix s) · ARGV[4] `1`: trim by age ·
    /// ARGV[5] how many of the batch's jobs had finished before · ARGV[6...] the batch's job ids (when ARGV[5] > 0)
    /// Returns {the list's length before the trims, how many records the age trim removed}.
    ///
    /// - Returns: how many records the age trim removed: ``historyAgeTrimBatch`` when more may be past the age cap.
    @discardableResult
    func keepHistory(_ upkeep: HistoryUpkeep) async throws -> Int {
        let k = keys(upkeep.queue)
        var arguments = [
            String(upkeep.limits.maxJobs), String(upkeep.limits.maxAgeSeconds), HistoryRecord.number(upkeep.now), upkeep.byAge ? "1" : "0",
            String(upkeep.refinished),
        ]
        if upkeep.refinished > 0 { arguments.append(contentsOf: upkeep.jobIDs) }
        let reply = try await redis.run(Self.historyUpkeepScript, keys: [k.historyIDs, k.historyJobs, k.legacyHistory], arguments: arguments)
        return reply.array?.last?.int ?? 0
    }

    /// The most records one age trim removes (history.lua's `history_trim_age`).
    static let historyAgeTrimBatch = 1000
}
