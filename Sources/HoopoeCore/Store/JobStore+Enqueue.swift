import Foundation
import Redis

extension JobStore {
    /// Enqueues one job: now (stream), or later (scheduled), optionally unique or once-only. Other services may
    /// `EVAL` it too (`jobs/lua/enqueue.lua` is this file; `jobs/PROTOCOL.md` documents it).
    static let enqueueScript = RedisScript(name: "enqueue", embedded: PackageResources.enqueue_lua)

    /// Writes jobs in one round trip, results in the order given. Each is independent: a refused duplicate does
    /// not stop the others. A plain job (now, not unique, no once-key) is one `XADD`; the others run
    /// ``enqueueScript``:
    ///
    /// KEYS[1] stream · KEYS[2] scheduled · KEYS[3] scheduled:jobs · KEYS[4] unique:<key> · KEYS[5] once:<key>
    /// ARGV[1] envelope JSON · ARGV[2] job id · ARGV[3] run_at (Unix s, 0 = now)
    /// ARGV[4] unique seconds ("" = not unique) · ARGV[5] once seconds ("" = none) · ARGV[6] max bytes (0 = 524288;
    /// more is capped at 524288)
    /// Returns {"enqueued", id} · {"scheduled", id} · {"duplicate", id holding the unique key} ·
    /// {"once", id that took this once key}; an error reply `HOOPOE ...` for an envelope over the limit, a
    /// run_at in milliseconds, or a unique key the envelope contradicts.
    ///
    /// A unique job's envelope is written with `unique_key` (the `<key>` of KEYS[4]) added when it lacks one, so
    /// the worker releases the lock when the job settles whatever the client put in the envelope (decision 0005).
    ///
    /// Durable: with `REDIS_WAIT_REPLICAS` set, the jobs are reported enqueued only once that many replicas have them
    /// (else ``RedisError/Code/notReplicated`` is thrown), so a failover loses no enqueue that returned.
    func enqueue(_ jobs: [PreparedJob], maxEnvelopeBytes: Int) async throws -> [EnqueueResult] {
        // Filled in below, each in its place: a plain job's result is known before its XADD is sent, a scripted job's
        // placeholder is replaced by its script's reply.
        var results = [EnqueueResult](repeating: .enqueued(id: ""), count: jobs.count)
        var plain: [RedisCommand] = []
        plain.reserveCapacity(jobs.count)
        var scripted: [(index: Int, call: (keys: [String], arguments: [String]))] = []
        var lastStream: (queue: String, key: String)?  // a batch is mostly one queue: its key is built once
        // By index, reading fields in place: iterating `enumerated()` copied each job (its strings and options retained,
        // then released), ~3 % of a batch enqueue's instructions with the results' last copy (docs/benchmarks.md,
        // session 16).
        for index in jobs.indices {
            if jobs[index].isPlain {
                let stream: String
                if let lastStream, lastStream.queue == jobs[index].queue {
                    stream = lastStream.key
                } else {
                    stream = keys(jobs[index].queue).stream
                    lastStream = (jobs[index].queue, stream)
                }
                var xadd = RedisCommand("XADD", reservingCapacity: stream.utf8.count + 4 + jobs[index].bytes.count, arguments: 4)
                xadd.append(stream)
                xadd.append("*")
                xadd.append("job")
                xadd.append(bytes: jobs[index].bytes)
                plain.append(xadd)
                results[index] = .enqueued(id: jobs[index].id)
                continue
            }
            let job = jobs[index]
            let k = keys(job.queue)
            let now = Date().timeIntervalSince1970
            let options = job.options
            let uniqueSeconds = options.uniqueFor.map { $0.seconds } ?? (max(0, (job.runAt ?? now) - now) + 86_400)
            scripted.append((index, (
                [k.stream, k.scheduled, k.scheduledJobs, k.unique(options.uniqueKey ?? "-"), k.once(options.onceKey ?? "-")],
                [
                    String(decoding: job.bytes, as: UTF8.self), job.id, job.runAt.map { String($0) } ?? "0",
                    options.uniqueKey == nil ? "" : Self.wholeSeconds(uniqueSeconds),
                    options.onceKey == nil ? "" : Self.wholeSeconds(options.onceFor.seconds), String(maxEnvelopeBytes),
                ]
            )))
        }
        // Every reply is read, and the scripts sent after a refused XADD (each job is independent): a refusal met
        // first no longer hides what the rest of the batch wrote (EnqueueBatchError).
        var failures: [Int: any Error] = [:]
        var plainSent = false
        if !plain.isEmpty {
            plainSent = true
            do {
                var position = 0
                let replies = try await redis.pipeline(plain, durable: true)
                for index in jobs.indices where jobs[index].isPlain {
                    if position < replies.count, let message = replies[position].errorMessage {
                        failures[index] = RedisError.reply(message, endpoint: endpoint, command: "XADD")
                    }
                    position += 1
                }
            } catch {
                // One job: its error alone, as before. A batch: the XADDs may be in (`notReplicated`: on the primary; a
                // connection lost after sending), and the scripted jobs are still sent: thrown here, they were never
                // sent while the error said the writes had reached the primary.
                guard jobs.count > 1 else { throw error }
                let unknown = (error as? RedisError)?.outcomeUnknown ?? false
                for index in jobs.indices where jobs[index].isPlain { failures[index] = unknown ? Self.NoAnswer(error: error) : error }
            }
        }
        if !scripted.isEmpty {
            let replies: [RedisReply]
            do {
                replies = try await redis.pipeline(Self.enqueueScript, calls: scripted.map(\.call), durable: true)
                guard replies.count == scripted.count else {  // else a job's placeholder result would stand
                    throw RedisError(
                        .protocolError, endpoint: endpoint, command: "EVALSHA enqueue",
                        message: "\(replies.count) replies to \(scripted.count) calls")
                }
            } catch {
                // The XADDs before were written: say so, unless there were none (the error alone, as before).
                guard plainSent else { throw error }
                let unknown = (error as? RedisError)?.outcomeUnknown ?? false
                for (index, _) in scripted { failures[index] = unknown ? Self.NoAnswer(error: error) : error }
                throw Self.batchError(results, failures: failures)
            }
            for (reply, (index, _)) in zip(replies, scripted) {
                do {
                    results[index] = try enqueueResult(reply, of: jobs[index])
                } catch {
                    failures[index] = error
                }
            }
        }
        if !failures.isEmpty {
            if jobs.count == 1, let only = failures.first?.value { throw only }
            throw Self.batchError(results, failures: failures)
        }
        return results
    }

    /// A scripted job sent when the connection failed: its outcome is unknown.
    private struct NoAnswer: Error { let error: any Error }

    private static func batchError(_ results: [EnqueueResult], failures: [Int: any Error]) -> EnqueueBatchError {
        let first = failures.min { $0.key < $1.key }!.value
        return EnqueueBatchError(
            outcomes: results.indices.map { index in
                switch failures[index] {
                case nil: .written(results[index])
                case is NoAnswer: .unknown
                case let error?: .failed(error)
                }
            },
            firstError: (first as? NoAnswer)?.error ?? first)
    }

    /// A TTL in whole seconds for `SET EX`: at least 1, at most 10⁹ (~31 years: Redis refuses an expiry whose
    /// milliseconds overflow), and never a conversion that traps, whatever `Duration` the caller passed.
    static func wholeSeconds(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "1000000000" }
        return String(Int(min(1e9, max(1, seconds.rounded(.up)))))
    }

    /// `reply` to `job`'s script. A `duplicate` or `once` naming the job's own id can only answer an earlier send of
    /// the same job (a caller sending it again after an unknown outcome): it is in, as the clients count it (decision
    /// 0080 §2).
    private func enqueueResult(_ reply: RedisReply, of job: PreparedJob) throws -> EnqueueResult {
        if let message = reply.errorMessage {
            throw message.hasPrefix("HOOPOE ")
                ? EnqueueError(message: String(message.dropFirst(7)))
                : RedisError.reply(message, endpoint: endpoint, command: "EVALSHA enqueue")
        }
        guard let parts = reply.array, parts.count == 2, let kind = parts[0].string, let id = parts[1].string else {
            throw RedisError(.protocolError, endpoint: endpoint, command: "EVALSHA enqueue", message: "unexpected reply \(reply)")
        }
        switch kind {
        case "enqueued": return .enqueued(id: id)
        case "scheduled": return .scheduled(id: id)
        case _ where id == job.id: return job.runAt == nil ? .enqueued(id: id) : .scheduled(id: id)
        case "duplicate": return .duplicate(existingID: id)
        default: return .alreadyEnqueued(existingID: id)
        }
    }
}
