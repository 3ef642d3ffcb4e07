import Foundation
import HoopoeJSON
import Redis

/// Every way a fetched job leaves its stream: acknowledged (JobStore+Acknowledge.swift), rescheduled (a retry, or an
/// early arrival), buried in the dead set, or handed back. Each is one script, so a job is always before or after
/// the change (an acknowledgement's history records are written just before its script: decision 0062).
///
/// Each is durable: with `REDIS_WAIT_REPLICAS` set, a settle waits for that many replicas to have it. One they did not
/// confirm in time (``RedisError/Code/notReplicated``) was done on the primary: the worker logs it as such and counts
/// it; only a failover before the replicas catch up loses it, and then the job runs again after its lease (at least
/// once).
extension JobStore {
    static let rescheduleScript = RedisScript(name: "reschedule", embedded: PackageResources.reschedule_lua)
    /// history.lua, dead.lua (the dead set's trim, shared with ``deadUpkeepScript``), then kill.lua.
    static let killScript = historyScript(name: "kill", embedded: PackageResources.dead_lua + PackageResources.kill_lua)
    static let handBackScript = RedisScript(name: "hand-back", embedded: PackageResources.hand_back_lua)

    /// How much job history a queue keeps (``QueueKeys/history``): the settle scripts that add records trim the
    /// oldest beyond these (decision 0028).
    ///
    /// A trim's fixed cost (an `RPOP` of the oldest ids and their `HDEL`; for the age, a read of the oldest
    /// records' `finished_at`) is paid once per many jobs, not once per settle: the count trim runs when the history
    /// holds more than `maxJobs + maxJobs / 100` records (1 % slack, none below a cap of 100) and takes it back to
    /// `maxJobs` (for an acknowledgement, in its script, sparing the batch's own records: decision 0062); an
    /// acknowledgement that is the first settle of a minute trims by age, through ``keepHistory(_:)`` after it, and
    /// so does every worker serving the queue about once a minute (``RetentionUpkeep``, decision 0088): a job is
    /// removed at most about a minute after it is `maxAgeSeconds` old, whether or not the queue's jobs run; the kill
    /// script trims by age on every call (a death is rare). Both are in history.lua (decision 0033).
    struct HistoryLimits: Sendable, Equatable {
        /// Most records a queue keeps (plus at most 1 % between two trims).
        let maxJobs: Int
        /// Oldest record kept, seconds (plus at most a minute between two trims).
        let maxAgeSeconds: Int
    }

    /// Schedules a failed job's next attempt (`envelope`, due at `due`) and removes the failed delivery
    /// (`entryID`, "" when it did not come from the stream); counts `failed` and `retried`. A job with a unique key
    /// and no `unique_for` of its own (`uniqueKey`) keeps its lock until a day after the retry is due: the lock is
    /// held while the job is pending, and the enqueue gave it a day past the first run only.
    ///
    /// With `consumer`, a delivery no longer pending to it changes nothing and throws ``DeliveryTakenOver``.
    /// `countedAt` (Unix s): the time its counters fall in, Redis's clock as the worker knows it (``ClockLead``).
    func retry(
        queue: String, entryID: String, jobID: String, envelope: [UInt8], due: Double, type: String, uniqueKey: String? = nil, consumer: String = "",
        countedAt: Double = Date().timeIntervalSince1970
    ) async throws {
        let lock = uniqueKey.map { (key: $0, seconds: Self.wholeSeconds(max(0, due - countedAt) + 86_400)) }
        _ = try await reschedule(
            queue: queue, entryID: entryID, jobID: jobID, envelope: envelope, at: due, type: type, onlyIfEarly: false, counters: ["failed", "retried"],
            uniqueLock: lock, consumer: consumer, countedAt: countedAt)
    }

    /// Moves a job that arrived in the stream before its `run_at` to the scheduled set, acknowledging its entry,
    /// and counts it `early` — unless Redis's clock says it is due (this worker's clock is ahead): then it is left
    /// for the caller to run, and this returns false.
    func deferEarly(queue: String, entryID: String, jobID: String, envelope: [UInt8], runAt: Double, type: String, consumer: String = "") async throws -> Bool {
        try await reschedule(
            queue: queue, entryID: entryID, jobID: jobID, envelope: envelope, at: runAt, type: type, onlyIfEarly: true, counters: ["early"], consumer: consumer)
    }

    /// KEYS[1] stream · KEYS[2] scheduled · KEYS[3] scheduled:jobs · KEYS[4] stats:<day> · KEYS[5] stats:<hour>
    /// KEYS[6] the job's unique lock (`unique:-` when none)
    /// ARGV[1] group · ARGV[2] entry id ("" = not from the stream) · ARGV[3] job id · ARGV[4] envelope JSON
    /// ARGV[5] due (Unix s) · ARGV[6] type · ARGV[7] `1`: only if ARGV[5] is still ahead of Redis's `TIME`
    /// ARGV[8] the minute's field prefix (`m07`) · ARGV[9] hour counters' TTL (s)
    /// ARGV[10] the least TTL (s) KEYS[6] keeps while it holds ARGV[3] ("" = leave it)
    /// ARGV[11] the consumer the delivery must be pending to ("" = no check)
    /// ARGV[12...] counters to add one to: each also per type (`<counter>:<type>`) in the day's counters, and in
    /// the hour's as the minute's (`m07:<counter>`); the totals are summed when read
    /// Returns 1 scheduled · 0 due now (only with ARGV[7] `1`; nothing changed) · -1 pending to another consumer (nothing
    /// changed: thrown as ``DeliveryTakenOver``)
    private func reschedule(
        queue: String, entryID: String, jobID: String, envelope: [UInt8], at time: Double, type: String, onlyIfEarly: Bool, counters: [String],
        uniqueLock: (key: String, seconds: String)? = nil, consumer: String, countedAt: Double = Date().timeIntervalSince1970
    ) async throws -> Bool {
        let k = keys(queue)
        let counted = QueueKeys.counterTime(Date(timeIntervalSince1970: countedAt))
        let reply = try await redis.run(
            Self.rescheduleScript,
            keys: [k.stream, k.scheduled, k.scheduledJobs, k.stats(day: counted.day), k.stats(hour: counted.hour), k.unique(uniqueLock?.key ?? "-")],
            arguments: [
                QueueKeys.group, entryID, jobID, String(decoding: envelope, as: UTF8.self), String(time), type, onlyIfEarly ? "1" : "0",
                counted.minute, String(QueueKeys.hourStatsTTLSeconds), uniqueLock?.seconds ?? "", consumer,
            ] + counters, durable: true)
        if reply.int == -1 { throw DeliveryTakenOver(jobID: jobID, queue: queue) }
        return reply.int == 1
    }

    /// What the dead set keeps, and the events stream's length (``GlobalKeys/events``).
    struct DeadSetLimits: Sendable {
        /// Most dead jobs a queue keeps (the oldest go first).
        let maxJobs: Int
        /// Longest a dead job is kept.
        let maxAge: Duration
        /// The events stream's approximate `MAXLEN`.
        let eventsMaxLength: Int
    }

    /// Moves a job to the dead set as `record` (its `dead_reason`, `died_at` and `attempt` set), trims the dead set
    /// by age and count, releases its unique lock if the job holds it, writes the `job.dead` event (jobs/EVENTS.md)
    /// and, for a job with `notify`, its `answer` — all in one script, so a job is never dead without them.
    ///
    /// KEYS[1] stream · KEYS[2] dead · KEYS[3] dead:jobs · KEYS[4] stats:<day> · KEYS[5] unique:<key>
    /// KEYS[6] `<ns>:events` · KEYS[7] answer:<id> · KEYS[8] stats:<hour> · KEYS[9] history (legacy sorted set) ·
    /// KEYS[10] history:jobs · KEYS[11] history:ids
    /// ARGV[1] group · ARGV[2] entry id or "" · ARGV[3] job id · ARGV[4] dead envelope JSON
    /// ARGV[5] now (Unix s) · ARGV[6] max dead jobs · ARGV[7] max age (s) · ARGV[8] type
    /// ARGV[9] id that must hold the unique lock for it to be released ("" = no lock)
    /// ARGV[10] `job.dead` event data JSON ("" = written by the caller) · ARGV[11] events MAXLEN · ARGV[12] event
    /// time (`%.3f` s) · ARGV[13] outcome JSON for the answer list ("" = the job has no `notify`) · ARGV[14] answer
    /// TTL (s) · ARGV[15] the minute's field prefix (`m07`) · ARGV[16] hour counters' TTL (s) · ARGV[17] the job's
    /// history record ("" = no history) · ARGV[18] history max jobs · ARGV[19] history max age (s) · ARGV[20] the
    /// consumer the delivery must be pending to ("" = no check). Returns 1, or -1 when the delivery is pending to
    /// another consumer (nothing changed: thrown as ``DeliveryTakenOver``).
    ///
    /// KEYS[6] is outside the queue's hash slot: on one Redis the `job.dead` event is written in the same atomic step
    /// as the death (decision 0006). A cluster refuses a script whose keys span slots, so there the event is
    /// written first, on its own, and the script gets the queue's stream as KEYS[6] and no event (decision 0026):
    /// a failure between the two repeats the death and its event after the lease, never loses the event. The
    /// repeat names the same `entry_id` (the entry stays pending, and recovery keeps its id), which is what
    /// consumers de-duplicate on.
    func bury(
        _ record: JobEnvelope, queue: String, entryID: String, uniqueKey: String?, countedType: String, answer: String?,
        limits: DeadSetLimits, now: Double, history: (record: [UInt8], limits: HistoryLimits)? = nil, consumer: String = ""
    ) async throws {
        let k = keys(queue)
        let time = QueueKeys.counterTime(Date(timeIntervalSince1970: now))  // the day and the hour of one instant
        let event: [String: JSONValue] = [
            // Phones masked: a reason may quote the value it refused, a type may be any text a client wrote, and
            // other services read the events stream.
            "job_id": .string(record.id), "job_type": .string(PersonalDataMask.mask(record.type)), "queue": .string(queue),
            "reason": .string(PersonalDataMask.mask(record.deadReason ?? "")), "attempt": .integer(Int64(record.attempt)),
            // What tells deaths apart (jobs/EVENTS.md, decision 0026): an entry carries the job from its enqueue, a retry
            // or a `dead retry` until it settles, and a job dies at most once per entry (the burial deletes it). A death
            // written twice (on a cluster, the event went out and the script did not run: the entry stays pending, and
            // recovery, which keeps its id, brings it back) names the same entry. `attempt` does neither: a dead job
            // retried counts from 1 again, and a delivery the lease brought back may count one more.
            "entry_id": .string(entryID),
        ]
        let eventData = String(decoding: JSONValue.object(event).encoded(), as: UTF8.self)
        let eventFirst = redis.isCluster
        var eventNotReplicated: RedisError?
        if eventFirst {
            // Checked before the event too (the script checks again): a job another worker recovered is not announced dead.
            if !entryID.isEmpty && !consumer.isEmpty,
                try await redis.send("XPENDING", k.stream, QueueKeys.group, entryID, entryID, "1", consumer).array?.isEmpty == true
            {
                throw DeliveryTakenOver(jobID: record.id, queue: queue)
            }
            do {
                try await redis.send(RedisCommand("XADD", [
                    global.events, "MAXLEN", "~", String(limits.eventsMaxLength), "*", "type", "job.dead", "data", eventData, "at", String(format: "%.3f", now),
                ]), durable: true)  // as durable as the death: an event a failover lost was never written again
            } catch let error as RedisError where error.code == .notReplicated {
                // Written on its node's primary, too few replicas confirmed it: the death goes on, and the refusal is
                // thrown after it. Thrown here, the worker took the job for buried while the script had not run.
                eventNotReplicated = error
            }
        }
        let reply = try await redis.run(
            Self.killScript,
            keys: [
                k.stream, k.dead, k.deadJobs, k.stats(day: time.day), k.unique(uniqueKey ?? "-"), eventFirst ? k.stream : global.events, k.answer(record.id),
                k.stats(hour: time.hour), k.legacyHistory, k.historyJobs, k.historyIDs,
            ],
            arguments: [
                QueueKeys.group, entryID, record.id, String(decoding: record.encoded(), as: UTF8.self), String(now),
                String(limits.maxJobs), String(Int(limits.maxAge.seconds)), countedType, uniqueKey == nil ? "" : record.id,
                eventFirst ? "" : eventData, String(limits.eventsMaxLength),
                String(format: "%.3f", now), answer ?? "", String(QueueKeys.answerTTLSeconds),
                time.minute, String(QueueKeys.hourStatsTTLSeconds), history.map { String(decoding: $0.record, as: UTF8.self) } ?? "",
                String(history?.limits.maxJobs ?? 0), String(history?.limits.maxAgeSeconds ?? 0), consumer,
            ], durable: true)
        if reply.int == -1 { throw DeliveryTakenOver(jobID: record.id, queue: queue) }
        if let eventNotReplicated { throw eventNotReplicated }
    }

    /// Hands jobs of `queue` back at once (graceful shutdown): each envelope is added anew and its old delivery
    /// removed, so no worker has to wait for a lease to expire. A job that came from the scheduled set keeps its
    /// `promoted 1` field (see ``promote(queue:)``): its time was already decided, and without the marker the
    /// next worker would take its `run_at` for an early arrival and defer it again.
    ///
    /// Only entries still pending to `consumer` are handed back, so the call can be made again after a failure whose
    /// outcome is unknown. A nil envelope is the entry's own, copied by the script as stored: text that is not UTF-8
    /// stays as it was (passed through a Swift string it became U+FFFD, and a job that should have been buried ran).
    ///
    /// KEYS[1] stream · ARGV[1] group · ARGV[2] consumer, then triples of (entry id, promoted `1` or `0`, envelope
    /// JSON or `""`). Returns how many were handed back.
    @discardableResult
    func handBack(queue: String, consumer: String, _ jobs: [(entryID: String, promoted: Bool, envelope: [UInt8]?)]) async throws -> Int {
        var arguments = [QueueKeys.group, consumer]
        for job in jobs {
            arguments.append(job.entryID)
            arguments.append(job.promoted ? "1" : "0")
            arguments.append(job.envelope.map { String(decoding: $0, as: UTF8.self) } ?? "")
        }
        return try await redis.run(Self.handBackScript, keys: [keys(queue).stream], arguments: arguments, durable: true).int ?? 0
    }
}
