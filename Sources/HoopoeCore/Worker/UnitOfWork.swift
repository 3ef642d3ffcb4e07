import Logging
import Redis

/// A fetched job on its way to being settled (Sidekiq's `UnitOfWork`): the job and what settling it needs.
///
/// Every way a job ends is a method here — acknowledged, retried, moved early to the scheduled set, buried in the
/// dead set, handed back — and each releases the job's lease (``Leases``) itself, whether Redis took the command
/// or not (then the lease lapses and the job runs again: at least once). So no caller has to remember the lease,
/// and none can settle a job and go on renewing it. A value made per run on the runner's stack and moved into its
/// attempt (``Worker/AttemptRun``), which settling reads it from: never copied. Besides the job it holds two references,
/// the worker's acknowledger and its ``HandBack`` (a class), which brings the store, the leases, the consumer and the
/// retry settings: its seven fields copied in as a struct, and the store and the leases held twice, cost the worker
/// ~530 instructions a job (callgrind, session 63).
struct UnitOfWork: Sendable {
    let job: FetchedJob
    private let acknowledger: Acknowledger
    private let handBacks: HandBack
    private var store: JobStore { handBacks.store }
    private var leases: Leases { handBacks.leases }

    init(_ job: FetchedJob, acknowledger: Acknowledger, handBack: HandBack) {
        self.job = job
        self.acknowledger = acknowledger
        handBacks = handBack
    }

    /// Acknowledged in the acknowledger's next batch (group commit), which releases the lease once sent.
    /// - Parameters:
    ///   - counter: `processed`, `discarded` or `deferred`.
    ///   - answer: the outcome for a job with `notify`.
    ///   - history: its job history record, written in the same round trip (just before the script: decision 0062).
    func acknowledge(
        type: String, jobID: String, uniqueKey: String?, counter: String, answer: String?, history: (record: [UInt8], limits: JobStore.HistoryLimits)?
    ) {
        acknowledger.add(Acknowledgement(
            queue: job.queue, entryID: job.entryID, held: job.held, type: type, jobID: jobID, uniqueKey: uniqueKey, counter: counter, answer: answer, history: history))
    }

    /// Scheduled to run again at `due` (Unix seconds) as `envelope`, its attempt and error rewritten; `uniqueKey`'s
    /// lock, when it is the job's and had no `unique_for`, kept until a day after `due`. Like ``bury(_:uniqueKey:countedType:answer:limits:now:history:)``
    /// and ``deferEarly(jobID:runAt:type:)``, only while the delivery is this worker's: else ``DeliveryTakenOver``.
    /// Sent again while Redis did not run it (``sentUntilRun(_:_:)``).
    func retry(jobID: String, envelope: [UInt8], due: Double, type: String, uniqueKey: String?, countedAt: Double) async throws {
        defer { release() }
        try await sentUntilRun("scheduling the retry of job \(jobID)") {
            try await store.retry(
                queue: job.queue, entryID: job.entryID, jobID: jobID, envelope: envelope, due: due, type: type, uniqueKey: uniqueKey,
                consumer: handBacks.consumer, countedAt: countedAt)
        }
    }

    /// Moved to the scheduled set to run at `runAt`: it arrived before its time. Returns false when Redis's clock
    /// says it is due after all; then it runs now, and keeps its lease.
    func deferEarly(jobID: String, runAt: Double, type: String) async throws -> Bool {
        do {
            let moved = try await store.deferEarly(
                queue: job.queue, entryID: job.entryID, jobID: jobID, envelope: job.bytes, runAt: runAt, type: type, consumer: handBacks.consumer)
            if moved { release() }
            return moved
        } catch {
            release()
            throw error
        }
    }

    /// To the dead set as `record` (``JobStore/bury(_:queue:entryID:uniqueKey:countedType:answer:limits:now:history:)``),
    /// sent again while Redis did not run it (``sentUntilRun(_:_:)``).
    func bury(
        _ record: JobEnvelope, uniqueKey: String?, countedType: String, answer: String?, limits: JobStore.DeadSetLimits, now: Double,
        history: (record: [UInt8], limits: JobStore.HistoryLimits)?
    ) async throws {
        defer { release() }
        try await sentUntilRun("moving job \(record.id) to the dead set") {
            try await store.bury(
                record, queue: job.queue, entryID: job.entryID, uniqueKey: uniqueKey, countedType: countedType, answer: answer, limits: limits,
                now: now, history: history, consumer: handBacks.consumer)
        }
    }

    /// Back on its queue at once (shutdown interrupted it), its run counted in its attempts when it had `started`. False
    /// when it was left for its lease to bring back.
    @discardableResult
    func handBack(started: Bool) async -> Bool {
        await handBacks([job], started: started)
    }

    /// `call`, made again while Redis is known not to have run it (no connection: nothing was written; a server still
    /// loading; a cluster's momentary refusal; a refused write, `OOM` or `NOREPLICAS`, raised before the script's first
    /// write: ``Acknowledger/notRun(_:)``), backing off from a quarter of a second to
    /// two, for up to ``WorkerOptions/unsentAcknowledgementRetry`` (30 s), the lease still held, as acknowledgements and
    /// hand-backs are (decision 0098); not after "stop now" (``RetryCutoff``).
    ///
    /// Why: a retry or a burial given up at its first failure released the lease, and the job came back after it as a
    /// second delivery, counted a lost worker's: a job failing through two Redis outages longer than the reconnect
    /// window was buried as a poison pill ("killed its worker 2 times") by a live worker, its own error gone, and a
    /// failed job ran again without its backoff (a review reproduced both, and again with two 4-s `OOM` windows). The
    /// scripts settle only an entry still pending to this worker, so a second call never settles one twice. While Redis
    /// refuses writes the fetch of the job's queue pauses (``WriteRefusals``).
    private func sentUntilRun(_ what: @autoclosure () -> String, _ call: () async throws -> Void) async throws {
        var warned = false
        let retry = UnsentRetry(for: handBacks.unsentRetry, cutoff: handBacks.cutoff, refusals: handBacks.writeRefusals)
        try await retry.run(call, queue: job.queue, mayTryAgain: Acknowledger.notRun) { error in
            let why = error.refusesWrites ? "Redis refused the write for now" : "could not be sent"
            handBacks.logger.warning(
                "\(what()) \(why); trying again until Redis takes it (for up to \(handBacks.unsentRetry)), the job's lease held",
                metadata: ["queue": "\(job.queue)", "error": "\(error.operatorLine)"])
            warned = true
        }
        if warned { handBacks.logger.notice("\(what()) went through once Redis answered again", metadata: ["queue": "\(job.queue)"]) }
    }

    private func release() {
        leases.release(queue: job.queue, entryID: job.entryID, held: job.held)
    }
}
