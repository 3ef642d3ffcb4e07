import Foundation
import HoopoeJSON
import Logging
import Redis

extension Worker {
    /// Runs one fetched job and settles it. Never throws: every outcome, bad input included, ends as
    /// an acknowledgement, a retry, a dead-set entry or a hand-back.
    func execute(_ job: FetchedJob) async {
        let clock = ContinuousClock()
        let start = clock.now
        // The usual envelope is read in one pass without JSONDecoder; any other goes the full way, so
        // a malformed or unusual one is judged exactly as before. The full envelope is decoded later
        // only if the job fails (a retry or the dead set rewrites it).
        let header: JobHeader
        if let scan = EnvelopeScan.scan(job.bytes) {
            header = JobHeader(scan, queue: job.queue)
        } else {
            do {
                var envelope = try JobEnvelope.decode(job.bytes)
                if envelope.queue.isEmpty { envelope.queue = job.queue }
                header = JobHeader(envelope)
            } catch {
                await bury(job, envelope: nil, attempt: job.deliveries, reason: "not a valid job envelope: \(Self.describe(error))")
                return
            }
        }
        guard job.bytes.count <= jobs.maxEnvelopeBytes else {
            await bury(job, envelope: header.envelope(job), attempt: header.attempt + 1, reason: "envelope is \(job.bytes.count) bytes, over the \(jobs.maxEnvelopeBytes)-byte limit")
            return
        }
        guard let entry = registry[header.type] else {
            await bury(job, envelope: header.envelope(job), attempt: header.attempt + 1, reason: "unknown job type '\(header.type)'; this worker runs: \(registry.types.joined(separator: ", "))")
            return
        }
        let maxAttempts = header.maxAttempts ?? entry.maxAttempts
        let attempt = header.attempt + job.deliveries
        if job.deliveries > 1 && attempt > maxAttempts {
            await bury(job, envelope: header.envelope(job), attempt: attempt, reason: "its worker was lost \(job.deliveries - 1) time(s) while running it (lease expired); \(attempt) attempts exceed the limit of \(maxAttempts)")
            return
        }

        let context = JobContext(
            id: header.id, type: header.type, queue: header.queue, attempt: attempt, maxAttempts: maxAttempts,
            enqueuedAt: header.enqueuedAt, logger: logger, jobs: jobs)
        // The job's metadata is built only for a line that is written (the info lines are usually off
        // in production); failures, rare, always get it.
        let logsInfo = logger.logLevel <= .info
        if job.deliveries > 1 { context.logger.warning("job recovered from a lost worker; running again") }
        if logsInfo { context.logger.info("job started") }
        let timeout = header.timeout.map { Duration.milliseconds(Int($0 * 1000)) } ?? entry.timeout
        let running = RunningJob(key: job.entryID, timeout: timeout)
        register(running)
        let bytes = job.bytes
        let payload = header.payload
        let outcome = await running.run { try await entry.run(bytes, payload, context) }
        unregister(running)
        let seconds = (clock.now - start).seconds
        let duration = Self.duration(seconds)

        switch outcome {
        case .finished(.success):
            if logsInfo { context.logger.info("job done", metadata: ["duration": "\(duration)"]) }
            acknowledger.add(.init(queue: job.queue, entryID: job.entryID, type: header.type, jobID: header.id, uniqueKey: header.uniqueKey, counter: "processed"))
            settled(header.type, "processed", seconds)
        case .interrupted:
            context.logger.warning("job interrupted by shutdown; handed back to its queue", metadata: ["duration": "\(duration)"])
            await handBack([job])
            settled(header.type, "handed_back", seconds)
        case .timedOut:
            guard let envelope = header.envelope(job) else { return await buryUndecodable(job, header) }
            await fail(job, envelope, attempt: attempt, maxAttempts: maxAttempts, policy: entry.retryPolicy,
                failure: .retry("timed out after \(timeout) (the handler was cancelled)"), log: context.logger, seconds: seconds)
        case .finished(.failure(let error)):
            let failure: JobFailure =
                switch error {
                case let failure as JobFailure: failure
                case let decoding as PayloadDecodingError: .permanent(decoding.description)
                default: .retry(String(describing: error))
                }
            guard let envelope = header.envelope(job) else { return await buryUndecodable(job, header) }
            await fail(job, envelope, attempt: attempt, maxAttempts: maxAttempts, policy: entry.retryPolicy, failure: failure, log: context.logger, seconds: seconds)
        }
    }

    private func fail(
        _ job: FetchedJob, _ envelope: JobEnvelope, attempt: Int, maxAttempts: Int, policy: RetryPolicy,
        failure: JobFailure, log: Logger, seconds: Double
    ) async {
        let duration = Self.duration(seconds)
        switch failure.disposition {
        case .discard:
            log.info("job discarded: \(failure.message)", metadata: ["duration": "\(duration)"])
            acknowledger.add(.init(queue: job.queue, entryID: job.entryID, type: envelope.type, jobID: envelope.id, uniqueKey: envelope.uniqueKey, counter: "discarded"))
            settled(envelope.type, "discarded", seconds)
        case .permanent:
            log.error("job failed permanently: \(failure.message)", metadata: ["duration": "\(duration)"])
            await bury(job, envelope: envelope, attempt: attempt, reason: "failed permanently: \(failure.message)", lastError: failure.message)
            settled(envelope.type, "dead", seconds)
        case .retry(let at):
            guard attempt < maxAttempts else {
                log.error("job failed its last attempt (\(attempt) of \(maxAttempts)): \(failure.message)", metadata: ["duration": "\(duration)"])
                await bury(job, envelope: envelope, attempt: attempt, reason: "failed \(attempt) of \(maxAttempts) attempts", lastError: failure.message)
                settled(envelope.type, "dead", seconds)
                return
            }
            let now = Date().timeIntervalSince1970
            let due = at ?? (now + policy.delay(afterAttempt: attempt))
            var next = envelope
            next.attempt = attempt
            next.lastError = failure.message
            next.runAt = due
            log.warning("job failed (attempt \(attempt) of \(maxAttempts)), retrying in \(Int((due - now).rounded()))s: \(failure.message)", metadata: ["duration": "\(duration)"])
            let k = jobs.keys(job.queue)
            do {
                try await jobs.redis.run(
                    QueueScripts.retry, keys: [k.stream, k.scheduled, k.scheduledJobs, k.stats(day: JobQueue.day(Date()))],
                    arguments: [QueueKeys.group, job.entryID, envelope.id, String(decoding: next.encoded(), as: UTF8.self), String(due), envelope.type])
            } catch {
                log.error("could not schedule the retry; the job runs again after its lease", metadata: ["error": "\(error)"])
            }
            // Stop renewing it either way: settled, or left for the lease to expire and another run.
            held.release([(job.queue, job.entryID)])
            settled(envelope.type, "retried", seconds)
        }
    }

    /// Moves a job to the dead set with its reason. A job whose envelope could not be decoded is kept
    /// as a wrapper holding its raw text, so nothing is lost and a person can see what was sent — unless
    /// `rawType` names a type whose handler redacts payload keys (``JobHandler/redactedPayloadKeys``): then
    /// the raw text, which would hold the secret, is withheld. A decoded envelope loses those keys.
    func bury(_ job: FetchedJob, envelope: JobEnvelope?, attempt: Int, reason: String, lastError: String? = nil, rawType: String? = nil) async {
        let now = Date().timeIntervalSince1970
        var record: JobEnvelope
        if let envelope {
            record = envelope
            if let keys = registry[envelope.type]?.redactedPayloadKeys, !keys.isEmpty, case .object(var members) = envelope.payload {
                for key in keys { members[key] = nil }
                record.payload = .object(members)
            }
        } else if let rawType, registry[rawType]?.redactedPayloadKeys.isEmpty == false {
            let withheld = "(raw text withheld: \(rawType) payloads carry secrets)"
            record = JobEnvelope(id: "entry-\(job.entryID)", type: "(malformed)", queue: job.queue, payload: .string(withheld), enqueuedAt: 0)
        } else {
            let raw = String(decoding: job.bytes.prefix(64 * 1024), as: UTF8.self)
            record = JobEnvelope(id: "entry-\(job.entryID)", type: "(malformed)", queue: job.queue, payload: .string(raw), enqueuedAt: 0)
        }
        record.attempt = attempt
        record.deadReason = reason
        record.lastError = lastError ?? reason
        record.diedAt = now
        record.runAt = nil
        if envelope == nil || lastError == nil {
            logger.error("job sent to the dead set: \(reason)", metadata: ["job.id": "\(record.id)", "job.type": "\(record.type)", "queue": "\(job.queue)"])
        }
        let k = jobs.keys(job.queue)
        do {
            try await jobs.redis.run(
                QueueScripts.kill, keys: [k.stream, k.dead, k.deadJobs, k.stats(day: JobQueue.day(Date())), k.unique(record.uniqueKey ?? "-")],
                arguments: [
                    QueueKeys.group, job.entryID, record.id, String(decoding: record.encoded(), as: UTF8.self), String(now),
                    String(options.deadMaxJobs), String(Int(options.deadMaxAge.seconds)), record.type, record.uniqueKey == nil ? "" : record.id,
                ])
        } catch {
            logger.error("could not move the job to the dead set; it runs again after its lease", metadata: ["error": "\(error)"])
        }
        held.release([(job.queue, job.entryID)])
        if lastError == nil { settled(record.type, "dead", 0) }
    }

    /// `0.123s`: made only when a line is written (it is an autoclosure's value).
    private struct LoggedDuration: CustomStringConvertible {
        let seconds: Double
        var description: String { "\((seconds * 1000).rounded() / 1000)s" }
    }

    private static func duration(_ seconds: Double) -> LoggedDuration { LoggedDuration(seconds: seconds) }

    private func settled(_ type: String, _ outcome: String, _ seconds: Double) {
        metricsHook(type, outcome, seconds)
    }

    /// A job the one-pass scan accepted but `JSONDecoder` rejects (e.g. a lone `\ud800` surrogate in the
    /// payload): it is not a valid envelope, and it goes to the dead set as one, its raw text kept.
    private func buryUndecodable(_ job: FetchedJob, _ header: JobHeader) async {
        let reason: String
        do {
            _ = try JobEnvelope.decode(job.bytes)
            reason = "its payload could not be decoded"
        } catch {
            reason = Self.describe(error)
        }
        await bury(job, envelope: nil, attempt: header.attempt + job.deliveries, reason: "not a valid job envelope: \(reason)", rawType: header.type)
    }

    static func describe(_ error: any Error) -> String {
        if let decoding = error as? DecodingError { return DecodingErrorDescription(decoding).description }
        return "\(error)"
    }
}

/// What running a job needs from its envelope: read by ``EnvelopeScan`` (the full envelope is decoded
/// only when a failure rewrites it) or taken from a fully decoded one.
struct JobHeader {
    var id: String
    var type: String
    var queue: String
    var attempt: Int
    var maxAttempts: Int?
    var enqueuedAt: Double
    var timeout: Double?
    var uniqueKey: String?
    /// Where the payload lies in the envelope bytes (nil: decode it from the whole envelope).
    var payload: Range<Int>?
    /// The fully decoded envelope, when it was.
    private var decoded: JobEnvelope?

    init(_ scan: EnvelopeScan, queue: String) {
        id = scan.id
        type = scan.type
        self.queue = scan.queue.isEmpty ? queue : scan.queue
        attempt = scan.attempt
        maxAttempts = scan.maxAttempts
        enqueuedAt = scan.enqueuedAt
        timeout = scan.timeout
        uniqueKey = scan.uniqueKey
        payload = scan.payload
    }

    init(_ envelope: JobEnvelope) {
        id = envelope.id
        type = envelope.type
        queue = envelope.queue
        attempt = envelope.attempt
        maxAttempts = envelope.maxAttempts
        enqueuedAt = envelope.enqueuedAt
        timeout = envelope.timeout
        uniqueKey = envelope.uniqueKey
        decoded = envelope
    }

    /// The full envelope (decoded now if it was only scanned), its queue filled in; nil when `JSONDecoder`
    /// rejects what the scan accepted (the scan skips string escapes it does not decode), so that the
    /// caller keeps the raw text instead of an envelope rebuilt without its payload.
    func envelope(_ job: FetchedJob) -> JobEnvelope? {
        if let decoded { return decoded }
        guard var envelope = try? JobEnvelope.decode(job.bytes) else { return nil }
        if envelope.queue.isEmpty { envelope.queue = job.queue }
        return envelope
    }
}
