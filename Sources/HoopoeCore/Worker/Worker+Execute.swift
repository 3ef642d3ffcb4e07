import Foundation
import HoopoeJSON
import Logging
import Redis

extension Worker {
    /// Runs one fetched job on runner `slot` and settles it. Never throws: every outcome, bad input included, ends as
    /// an acknowledgement, a retry, a dead-set entry or a hand-back.
    ///
    /// `lastEntry` is the registry entry of the runner's previous job: a runner mostly takes jobs of one type in a row,
    /// and comparing the type with the last one's is cheaper than looking it up (hashing the name: ~350 instructions
    /// a job, callgrind, session 26).
    ///
    /// - Returns: false when the attempt was taken over (timed out or interrupted while its handler ran in this task,
    ///   ``RunningJob``): a new task settled the job and runs the slot on, so the calling runner must stop.
    func execute(_ fetched: FetchedJob, slot: Int, lastEntry: inout JobRegistry.Entry?) async -> Bool {
        let work = UnitOfWork(fetched, acknowledger: acknowledger, handBack: handBack)
        let job = fetched
        let start = AttemptClock.now
        // The usual envelope is read in one pass without JSONDecoder (EnvelopeReader); any other goes the full
        // way. Every field is range-checked by EnvelopeRules on both ways before anything uses it. The full
        // envelope is decoded later only if the job fails (a retry or the dead set rewrites it).
        let header: JobHeader
        switch EnvelopeReader.read(job.bytes, queue: job.queue) {
        case .valid(let read):
            header = read
        case .invalid(let reason, let envelope, let id, let type):
            await bury(work, envelope: envelope.flatMap { EnvelopeRules.idProblem($0.id) == nil ? $0 : nil }, attempt: job.deliveries, reason: reason, rawID: id, rawType: type)
            return true
        }
        // A retry's envelope may be past the limit by the room its retry fields take (``EnvelopeRules/retryRoomBytes``).
        guard job.bytes.count <= jobs.maxEnvelopeBytes + (header.attempt > 0 ? EnvelopeRules.retryRoomBytes : 0) else {
            await bury(work, envelope: header.envelope(job), attempt: header.attempt + 1, reason: "envelope is \(job.bytes.count) bytes, over the \(jobs.maxEnvelopeBytes)-byte limit", rawID: header.id, rawType: header.type, rawUniqueKey: header.uniqueKey)
            return true
        }
        // Deliveries beyond the first ended with the lease lapsing while a worker held the job: it died or hung. Each
        // counts as an attempt (a run may have started: a handler tells its runs apart by the attempt), but only the
        // runs known to have started make a poison pill (decision 0079): a worker marks a recovered job before running
        // it, and a delivery held in a lost worker's buffer was never run. A job lost again after a marked run, on its
        // third delivery, is a poison pill whatever its max_attempts: that run and the first delivery's.
        let lostRuns = min(job.deliveries, 1_000_000) - 1
        if lostRuns >= Self.poisonPillKills && job.knownLostRuns >= Self.poisonPillKills - 1 {
            let kills = min(job.knownLostRuns, 1_000_000) + 1
            let reason = "killed its worker \(kills) times (lease expired while it ran)"
            // Its handler never runs again: it hears of the burial instead (an sms.send emits its sms.failed).
            if await bury(work, envelope: header.envelope(job), attempt: header.attempt + lostRuns, reason: reason, rawID: header.id, rawType: header.type, rawUniqueKey: header.uniqueKey) {
                await tellBuried(header, job: job, attempt: header.attempt + lostRuns, reason: reason)
            }
            return true
        }
        // Early (a plain XADD with a future run_at): to the scheduled set, to run at its time, before the type is looked
        // up: a type this worker does not know yet may be deployed by then (buried now, a retry from the dead set ran it
        // at once, days early). A job promoted from the scheduled set ran there by its score. Redis's clock decides: a
        // run_at this worker's clock calls past but within its possible lead over Redis's goes to the script, which
        // reads Redis's (``ClockLead``).
        if !job.promoted, let runAt = header.runAt, runAt > Date().timeIntervalSince1970 - clockLead.bound(queue: job.queue),
            await deferEarly(work, header, runAt: runAt)
        {
            return true
        }
        let entry: JobRegistry.Entry
        if let last = lastEntry, last.type == header.type {
            entry = last
        } else if let found = registry[header.type] {
            entry = found
            lastEntry = found
        } else {
            await bury(work, envelope: header.envelope(job), attempt: header.attempt + 1, reason: "unknown job type '\(header.type)'; this worker runs: \(registry.types.joined(separator: ", "))", rawID: header.id, rawType: header.type, rawUniqueKey: header.uniqueKey)
            return true
        }
        let maxAttempts = header.maxAttempts ?? entry.maxAttempts
        let attempt = header.attempt + lostRuns + 1
        // On any delivery, not only a recovered one: a job a stopping worker handed back carries the runs lost before in
        // its `attempt` (HandBack), on a first delivery. Checked only on recovered ones, a `max_attempts: 1` job whose
        // worker was killed, recovered by a worker then stopped, ran again elsewhere ("failed 2 of 1 attempts"); had
        // the recovering worker kept it, it was buried unrun. An enqueuer's `attempt` at its `max_attempts` is the same.
        if attempt > maxAttempts {
            let why = job.deliveries > 1
                ? "its worker was lost \(lostRuns) time(s) while it held it (lease expired; a run may have started)"
                : "its envelope says \(header.attempt) attempts were made (runs lost with their workers, or cut off by a shutdown, count)"
            let reason = "\(why); no attempt is left of its limit of \(maxAttempts)"
            // No run of it concluded: its last ones were lost with their workers or cut off by a shutdown (a run that
            // failed on its own was settled by its worker; only one whose settle then failed comes back). Its handler never
            // runs again, so it hears of the burial instead, as for the kill rule (an sms.send emits its sms.failed).
            // An enqueuer's `attempt` at its limit is told too: the hook's promise is that a buried job is heard of.
            if await bury(work, envelope: header.envelope(job), attempt: attempt - 1, reason: reason, rawID: header.id, rawType: header.type, rawUniqueKey: header.uniqueKey) {
                await tellBuried(header, job: job, attempt: attempt - 1, reason: reason)
            }
            return true
        }
        if job.deliveries > 1 {
            do {
                try await jobs.store.markRecoveredRun(queue: job.queue, entryID: job.entryID)
            } catch {
                logger.warning(
                    "could not mark a recovered job as started; if this run is lost too, it does not count toward the poison-pill rule", metadata: ["job.id": "\(header.id)", "error": "\(error)"])
            }
        }

        let context = JobContext(
            id: header.id, type: header.type, queue: header.queue, attempt: attempt, maxAttempts: maxAttempts,
            enqueuedAt: header.enqueuedAt, logger: logger, jobs: jobs)
        // The job's metadata is built only for a line that is written (the info lines are usually off
        // in production); failures, rare, always get it.
        let logsInfo = logger.logLevel <= .info
        if job.deliveries > 1 { context.logger.warning("job recovered from a lost worker; running again") }
        if logsInfo { context.logger.info("job started") }
        // In range (EnvelopeRules: 0 < timeout <= 86400), so the conversion cannot trap.
        let timeout = header.timeout.map { Duration.milliseconds(Int(($0 * 1000).rounded(.up))) } ?? entry.timeout
        let running = RunningJob(key: job.entryID, queue: job.queue, slot: slot, timeout: timeout)
        register(running)
        let bytes = job.bytes
        let payload = header.payload
        // Moved into the attempt, not copied: the handler reads them from it.
        let attemptRun = AttemptRun(
            worker: self, slot: slot, work: consume work, header: consume header, context: consume context, entry: entry, attempt: attempt,
            maxAttempts: maxAttempts, timeout: timeout, running: running, start: start, logsInfo: logsInfo)
        let outcome = await running.run(takeOver: attemptRun) { try await attemptRun.entry.run(bytes, payload, attemptRun.context) }
        guard let outcome else { return false }
        await conclude(attemptRun, outcome)
        return true
    }

    /// What settling an attempt needs once its handler ended (or was cut short), and who takes it over when it is
    /// ended while its handler runs (``RunningJob``).
    ///
    /// A class, made once a job: it is the take-over itself (no closure context besides it), and settling reads it
    /// in place; as a struct its dozen references were copied into the take-over's closure and out again for each
    /// job (~1 % of the worker's CPU). It and its ``RunningJob`` point at each other only while the handler runs.
    final class AttemptRun: RunningJob.TakeOver {
        let worker: Worker
        let slot: Int
        let work: UnitOfWork
        let header: JobHeader
        let context: JobContext
        let entry: JobRegistry.Entry
        let attempt: Int
        let maxAttempts: Int
        let timeout: Duration
        let running: RunningJob
        let start: AttemptClock
        let logsInfo: Bool

        init(
            worker: Worker, slot: Int, work: UnitOfWork, header: JobHeader, context: JobContext, entry: JobRegistry.Entry, attempt: Int,
            maxAttempts: Int, timeout: Duration, running: RunningJob, start: AttemptClock, logsInfo: Bool
        ) {
            self.worker = worker
            self.slot = slot
            self.work = work
            self.header = header
            self.context = context
            self.entry = entry
            self.attempt = attempt
            self.maxAttempts = maxAttempts
            self.timeout = timeout
            self.running = running
            self.start = start
            self.logsInfo = logsInfo
        }

        /// The handler still holds this runner's task: settle the job and run the slot on in a new one.
        func takeOver(_ outcome: RunningJob.Outcome) {
            worker.startRunner(slot: slot) { [self] in
                await worker.conclude(self, outcome)
                await worker.runnerLoop(slot: slot)
            }
        }
    }

    /// Settles an attempt by its outcome: acknowledged, retried or buried, or handed back when interrupted.
    func conclude(_ run: AttemptRun, _ outcome: RunningJob.Outcome) async {
        unregister(run.running)
        let header = run.header
        let context = run.context
        let attempt = run.attempt
        let maxAttempts = run.maxAttempts
        let timeout = run.timeout
        let entry = run.entry
        let seconds = run.start.secondsElapsed
        let duration = Self.duration(seconds)

        switch outcome {
        case .finished(.success):
            if run.logsInfo { context.logger.info("job done", metadata: ["duration": "\(duration)"]) }
            run.work.acknowledge(
                type: header.type, jobID: header.id, uniqueKey: header.uniqueKey, counter: "processed",
                answer: header.notify ? Self.answer(id: header.id, type: header.type, queue: run.work.job.queue, outcome: "processed", attempt: attempt) : nil,
                history: historyEntry(run.work.job, header, entry: entry, outcome: .processed, attempt: attempt, seconds: seconds))
            settled(header.type, "processed", seconds)
        case .interrupted, .interruptedBeforeStart:
            let started = if case .interrupted = outcome { true } else { false }
            context.logger.warning(
                started ? "job interrupted by shutdown; handed back to its queue" : "job not started before shutdown; handed back to its queue",
                metadata: ["duration": "\(duration)"])
            if await run.work.handBack(started: started) { settled(header.type, "handed_back", seconds) }
        case .timedOut:
            guard let envelope = header.envelope(run.work.job) else { return await buryUndecodable(run.work, header) }
            await fail(run.work, header, envelope, attempt: attempt, maxAttempts: maxAttempts, entry: entry,
                failure: .retry("timed out after \(timeout) (the handler was cancelled)"), log: context.logger, seconds: seconds, cutOff: true)
        case .finished(.failure(let error)):
            let failure: JobFailure =
                switch error {
                case let failure as JobFailure: failure
                case let decoding as PayloadDecodingError: .permanent(decoding.description)
                default: .retry(String(describing: error))
                }
            guard let envelope = header.envelope(run.work.job) else { return await buryUndecodable(run.work, header) }
            await fail(run.work, header, envelope, attempt: attempt, maxAttempts: maxAttempts, entry: entry, failure: failure, log: context.logger, seconds: seconds)
        }
    }

    /// Settles an attempt that failed: discarded, buried or retried by `failure`.
    /// - Parameter cutOff: the handler was cancelled at its timeout, so it never saw the attempt end: a burial (the last
    ///   attempt, or a retry too large to store) is told to it (``tellBuried(_:job:attempt:reason:)``), as its `run`
    ///   would otherwise never hear of it (an sms.send ended so emitted no sms.failed). A handler that returned or threw
    ///   on its own knows its failure, and is not told.
    private func fail(
        _ work: UnitOfWork, _ header: JobHeader, _ envelope: JobEnvelope, attempt: Int, maxAttempts: Int, entry: JobRegistry.Entry,
        failure: JobFailure, log: Logger, seconds: Double, cutOff: Bool = false
    ) async {
        let job = work.job
        let duration = Self.duration(seconds)
        switch failure.disposition {
        case .discard:
            // A deferral (the handler enqueued a job in this one's place) ends like a discard, but says so, with the link.
            let outcome: HistoryRecord.Outcome = failure.deferredTo == nil ? .discarded : .deferred
            if let next = failure.deferredTo {
                log.info("job deferred: \(failure.message)", metadata: ["duration": "\(duration)", "deferred_to": "\(next)"])
            } else {
                log.info("job discarded: \(failure.message)", metadata: ["duration": "\(duration)"])
            }
            let message = Self.capped(failure.message)
            work.acknowledge(
                type: envelope.type, jobID: envelope.id, uniqueKey: envelope.uniqueKey, counter: outcome.rawValue,
                answer: envelope.notify == true
                    ? Self.answer(id: envelope.id, type: envelope.type, queue: job.queue, outcome: outcome.rawValue, attempt: attempt, error: message, deferredTo: failure.deferredTo) : nil,
                history: historyEntry(job, header, entry: entry, outcome: outcome, attempt: attempt, seconds: seconds, error: message, deferredTo: failure.deferredTo))
            settled(envelope.type, outcome.rawValue, seconds)
        case .permanent:
            log.error("job failed permanently: \(failure.message)", metadata: ["duration": "\(duration)"])
            if await bury(work, envelope: envelope, attempt: attempt, reason: Self.capped("failed permanently: \(failure.message)"), lastError: Self.capped(failure.message), seconds: seconds) {
                settled(envelope.type, "dead", seconds)
            }
        case .retry(let at):
            guard attempt < maxAttempts else {
                log.error("job failed its last attempt (\(attempt) of \(maxAttempts)): \(failure.message)", metadata: ["duration": "\(duration)"])
                let reason = "failed \(attempt) of \(maxAttempts) attempts"
                if await bury(work, envelope: envelope, attempt: attempt, reason: reason, lastError: Self.capped(failure.message), seconds: seconds) {
                    settled(envelope.type, "dead", seconds)
                    if cutOff { await tellBuried(header, job: job, attempt: attempt, reason: "\(reason), the last \(failure.message)") }
                }
                return
            }
            // Timed by Redis's clock, which the scheduled set's promotion reads (decision 0081): on this host's, a
            // worker 10 minutes ahead delayed every retry 10 minutes, and one behind made them due at once. A handler's
            // own `at` came from this host's clock, so it moves by the same lead.
            let local = Date().timeIntervalSince1970
            let now = clockLead.redisNow(queue: job.queue, local: local)
            let due = Self.retryDue(at: at.map { $0 - (local - now) }, now: now, policyDelay: entry.retryPolicy.delay(afterAttempt: attempt))
            var next = envelope
            next.attempt = attempt
            next.lastError = Self.capped(failure.message)
            next.runAt = due
            next.failedAttempts = FailedAttempt.appending(FailedAttempt(attempt: attempt, at: now, error: failure.message), to: envelope.failedAttempts)
            // A retry may take the envelope past the enqueue limit by the room its own fields need; near it, the
            // attempts list (a convenience) goes first, then all but the start of the error, rather than the job.
            let retryLimit = jobs.maxEnvelopeBytes + EnvelopeRules.retryRoomBytes
            var nextBytes = next.encoded()
            if nextBytes.count > retryLimit {
                next.failedAttempts = nil
                nextBytes = next.encoded()
            }
            if nextBytes.count > retryLimit, let error = next.lastError {
                next.lastError = String(error.unicodeScalars.prefix(EnvelopeRules.shortLastErrorLength))
                nextBytes = next.encoded()
            }
            guard nextBytes.count <= retryLimit else {
                log.error("job failed (attempt \(attempt) of \(maxAttempts)) and its retry would be too large: \(failure.message)", metadata: ["duration": "\(duration)"])
                let reason = "its retry's envelope would be \(nextBytes.count) bytes, over the \(retryLimit)-byte limit"
                if await bury(work, envelope: envelope, attempt: attempt, reason: reason, lastError: Self.capped(failure.message), seconds: seconds) {
                    settled(envelope.type, "dead", seconds)
                    if cutOff { await tellBuried(header, job: job, attempt: attempt, reason: "\(reason) (attempt \(attempt) \(failure.message))") }
                }
                return
            }
            log.warning("job failed (attempt \(attempt) of \(maxAttempts)), retrying in \(Int((due - now).rounded()))s: \(failure.message)", metadata: ["duration": "\(duration)"])
            do {
                // A lock with its own `unique_for` is a window the enqueuer chose; one without is held while the job waits.
                try await work.retry(
                    jobID: envelope.id, envelope: nextBytes, due: due, type: envelope.type, uniqueKey: envelope.uniqueFor == nil ? envelope.uniqueKey : nil,
                    countedAt: now)
                settled(envelope.type, "retried", seconds)  // only then: a retry not stored is counted where the job settles next
            } catch let error as DeliveryTakenOver {
                log.warning("\(error)")
            } catch let error as RedisError where error.code == .notReplicated {
                // Scheduled on the primary; only the replicas' confirmation (REDIS_WAIT_REPLICAS) is missing.
                log.warning(
                    "scheduled the retry on the primary, but too few replicas confirmed it; if the primary fails over now the job runs again after its lease instead",
                    metadata: ["error": "\(error)"])
                settled(envelope.type, "retried", seconds)
            } catch {
                log.error("could not schedule the retry; the job runs again after its lease", metadata: ["error": "\(error)"])
            }
        }
    }

    /// `0.123s`: made only when a line is written (it is an autoclosure's value).
    private struct LoggedDuration: CustomStringConvertible {
        let seconds: Double
        var description: String { "\((seconds * 1000).rounded() / 1000)s" }
    }

    private static func duration(_ seconds: Double) -> LoggedDuration { LoggedDuration(seconds: seconds) }

    /// An attempt settled after its handler ran (its type is one this worker runs).
    func settled(_ type: String, _ outcome: String, _ seconds: Double) {
        metricsHook(type, outcome, seconds)
    }

    /// A job settled without running (`early`, or buried before it could run): no duration (``WorkerMetrics/jobSettled``).
    /// - Parameter type: its ``countedType(_:)``.
    func settledWithoutRunning(_ type: String, _ outcome: String) {
        metricsHook(type, outcome, nil)
    }

    /// The name a job's type is counted under, in Redis's per-type counters and in the metrics: a type this worker
    /// runs, else `(unknown)` (a valid name) or `(malformed)`. Counted by its own name, each type that arrived added a
    /// field to the day's counters, kept 90 days, and a series set to the metrics, kept until a restart: a client that
    /// put an id in `type` grew them by ~154 B a job. The dead job keeps its type, and its reason names it.
    func countedType(_ type: String) -> String {
        if registry[type] != nil { return type }
        return EnvelopeRules.typeProblem(type) == nil ? "(unknown)" : "(malformed)"
    }

    /// A job the one-pass scan accepted but `JSONDecoder` rejects (e.g. a lone `\ud800` surrogate in the
    /// payload): it is not a valid envelope, and it goes to the dead set as one, its raw text kept.
    ///
    /// What is wrong is read from the text first (``JSONTextProblem``): the decoder's own error names nothing for such
    /// a text, and a string it cannot read surfaced through ``JSONValue``'s fallbacks as "payload should be an object".
    private func buryUndecodable(_ work: UnitOfWork, _ header: JobHeader) async {
        let job = work.job
        let reason: String
        if case .failure(let problem) = JSONTextProblem.check(job.bytes) {
            reason = problem.description
        } else {
            do {
                _ = try JobEnvelope.decode(job.bytes)
                reason = "its payload could not be decoded"
            } catch {
                reason = Self.describe(error)
            }
        }
        await bury(work, envelope: nil, attempt: header.attempt + job.deliveries, reason: "not a valid job envelope: \(reason)", rawID: header.id, rawType: header.type, rawUniqueKey: header.uniqueKey)
    }

    static func describe(_ error: any Error) -> String {
        if let decoding = error as? DecodingError { return DecodingErrorDescription(decoding).description }
        return "\(error)"
    }
}
