import Foundation
import Redis

extension JobStore {
    static let cancelReadyScript = cancelScript(name: "cancel-ready", embedded: PackageResources.cancel_ready_lua)
    static let cancelScheduledScript = cancelScript(name: "cancel-scheduled", embedded: PackageResources.cancel_scheduled_lua)

    /// A cancel's script: history.lua's functions, cancel.lua's (`cancel_finish`: the unique key, the record, the
    /// answer; `cancel_holder`: whom an entry is pending to; `cancel_now_ms`), then the script's own text, so the three
    /// ways a job is cancelled (ready, scheduled, held by a worker) finish it alike and decision 0089's steps read an
    /// entry's holder and a deadline one way.
    static func cancelScript(name: String, embedded bytes: [UInt8]) -> RedisScript {
        RedisScript(name: name, embedded: PackageResources.history_lua + PackageResources.cancel_lua + bytes)
    }

    /// Cancels job `id`, as ``find(id:queue:)`` found it, if it is waiting; a running job is not interrupted.
    /// A scheduled job is cancelled by its id alone (its place in the set and its text removed), so one found under a
    /// placeholder (``unreadableScheduled(id:queue:text:)``: its text unreadable or missing) goes as any other.
    /// Its unique lock is released only if this job holds it, and `record` (outcome `cancelled`; nil for none: a
    /// queue's clear) is added to the queue's job history in the same script. Not trimmed here: the CLI does not know
    /// the workers' caps, and the next settle of the queue trims.
    /// `answer`, for a job with `notify`, is pushed to its answer list in the same script, so a caller waiting for
    /// the job learns it was cancelled instead of waiting out its timeout.
    /// Durable, as the held job's cancel is (decision 0089): with `REDIS_WAIT_REPLICAS` set, a failover must not bring
    /// back a job its canceller was told is cancelled; too few replicas throw ``RedisError/Code/notReplicated``.
    ///
    /// A record written names its queue in ``GlobalKeys/queues`` too: a queue no worker ever served (a typo's, jobs
    /// cancelled one by one) is then trimmed by age once no worker has served it for an hour (decision 0088), as every
    /// other; it was in no list of queues the workers trim, and its records, payloads and all, stayed for good.
    func cancel(id: String, _ found: FoundJob, queue: String, record: HistoryRecord?, answer: String?) async throws -> CancelResult {
        let result: CancelResult
        do {
            result = try await cancelNow(id: id, found, queue: queue, record: record, answer: answer)
        } catch let error as RedisError where error.code == .notReplicated {
            // Cancelled on the primary (its record written); only the replicas' confirmation is missing.
            if record != nil { await nameQueue(queue) }
            throw error
        }
        if result == .cancelled, record != nil { await nameQueue(queue) }
        return result
    }

    /// `queue` added to ``GlobalKeys/queues``: its own command, the set being a global key, in another cluster slot than
    /// the queue's. The cancel stands if it fails (Redis gone since): a worker serving the queue, or the next cancel
    /// there, names it.
    private func nameQueue(_ queue: String) async {
        _ = try? await redis.send("SADD", global.queues, queue)
    }

    /// ``cancel(id:_:queue:record:answer:)``'s script.
    private func cancelNow(id: String, _ found: FoundJob, queue: String, record: HistoryRecord?, answer: String?) async throws -> CancelResult {
        let k = keys(queue)
        let unique = k.unique(found.envelope.uniqueKey ?? "-")
        let history = record.map { String(decoding: $0.encoded(), as: UTF8.self) } ?? ""
        let answerTTL = String(QueueKeys.answerTTLSeconds)
        switch found.state {
        case .scheduled:
            // KEYS[1] scheduled · KEYS[2] scheduled:jobs · KEYS[3] unique:<key> · KEYS[4] history (legacy sorted set)
            // KEYS[5] history:jobs · KEYS[6] history:ids · KEYS[7] answer:<id> · ARGV[1] job id · ARGV[2] history record ('' for none)
            // ARGV[3] the answer ('' for none) · ARGV[4] its TTL, s
            // Returns 1 cancelled · 0 not there
            let n = try await redis.run(
                Self.cancelScheduledScript, keys: [k.scheduled, k.scheduledJobs, unique, k.legacyHistory, k.historyJobs, k.historyIDs, k.answer(id)],
                arguments: [id, history, answer ?? "", answerTTL], durable: true)
            return n.int == 1 ? .cancelled : .notFound
        case .ready:
            // KEYS[1] stream · KEYS[2] unique:<key> · KEYS[3] history (legacy sorted set) · KEYS[4] history:jobs
            // KEYS[5] history:ids · KEYS[6] answer:<id> · ARGV[1] group · ARGV[2] entry id · ARGV[3] job id
            // ARGV[4] history record ('' for none) · ARGV[5] the answer ('' for none) · ARGV[6] its TTL, s
            // Returns 1 cancelled · 0 gone · -1 running (a worker holds it)
            let n = try await redis.run(
                Self.cancelReadyScript, keys: [k.stream, unique, k.legacyHistory, k.historyJobs, k.historyIDs, k.answer(id)],
                arguments: [QueueKeys.group, found.entryID!, id, history, answer ?? "", answerTTL], durable: true)
            return n.int == 1 ? .cancelled : n.int == -1 ? .running : .notFound
        case .running: return .running
        case .dead, .finished: return .notFound
        }
    }
}
