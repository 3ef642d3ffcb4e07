import Redis
import Foundation
import Logging

/// Answers cancels of jobs this worker holds (decision 0089): `hoopoe job cancel` of a job a worker fetched writes a
/// request (``JobStore/requestCancel(queue:entryID:wait:)``), and every worker reads its queues' requests as often as it
/// reads the paused queues (one script a queue, in one pipeline), removing those a minute past their deadline: their
/// cancellers died waiting, and while other cancels kept the hash alive they were never dropped.
///
/// For each request for an entry this worker holds: a job still waiting in the buffer is taken out of it, so no runner
/// starts it, and settled as cancelled (acknowledged and deleted, its unique key released, its history record and
/// `notify` answer written); a job running is answered `running`. Both only while the request stands: a job whose
/// canceller gave up first goes back into the buffer and runs. A job between the two (taken by a runner and not yet
/// started, or being settled or handed back) gets no answer this round: the next one sees where it went, and the
/// canceller sees an entry that is no longer pending. A request for an entry this worker does not hold is another
/// worker's, left alone.
struct CancelWatch: BackgroundStep {
    var name: String { "cancel watch" }
    let store: JobStore
    let queues: [String]
    let buffer: JobBuffer
    let leases: Leases
    /// The jobs running now: only those are answered `running`.
    let lifecycle: WorkerLifecycle
    let handBack: HandBack
    let interval: Duration
    /// This worker's consumer name, in the history records it writes.
    let consumer: String
    let redaction: PayloadRedaction
    /// Whether this worker keeps job history (`HOOPOE_HISTORY_MAX_JOBS` above 0): a cancelled job is recorded then.
    let keepsHistory: Bool
    let logger: Logger

    var jitter: Double { 0.2 }

    func round() async throws {
        for request in try await store.cancelRequests(queues: queues) where leases.holds(queue: request.queue, entryID: request.entryID) {
            // Running first: a copy of a running job can wait in the buffer too (recovery claims a worker's own lapsed
            // entry again), and withdrawing that copy answered `cancelled` for a job that ran.
            if lifecycle.isRunning(queue: request.queue, entryID: request.entryID) {
                _ = try await store.answerCancel(queue: request.queue, entryID: request.entryID, consumer: consumer, job: .running)
            } else if let job = buffer.withdraw(queue: request.queue, entryID: request.entryID) {
                try await cancel(job)
            }
        }
    }

    /// Settles `job`, taken out of the buffer, as cancelled; puts it back to run when the request no longer stands or
    /// the settle is known not to have run (it must not be lost: no runner can take it any more).
    private func cancel(_ job: FetchedJob) async throws {
        guard let envelope = try? JobEnvelope.decode(job.bytes) else {
            // Unreadable: no record or answer can be written for it; it goes back, to be buried with its reason when run.
            await putBack(job)
            return
        }
        var kept = envelope
        kept.payload = redaction.stripped(envelope.payload, type: envelope.type)
        let record = keepsHistory
            ? HistoryRecord(
                id: envelope.id, type: envelope.type, queue: job.queue, outcome: .cancelled, attempt: envelope.attempt, worker: consumer,
                finishedAt: Date().timeIntervalSince1970
            ).text(envelopeJSON: HistoryRecord.kept(kept))
            : nil
        let answer = envelope.notify == true
            ? Worker.answer(id: envelope.id, type: envelope.type, queue: job.queue, outcome: "cancelled", attempt: envelope.attempt) : nil
        let settled: Bool
        do {
            do {
                settled = try await store.answerCancel(
                    queue: job.queue, entryID: job.entryID, consumer: consumer,
                    job: .cancel(id: envelope.id, uniqueKey: envelope.uniqueKey, record: record, answer: answer))
            } catch let error as RedisError where error.code == .notReplicated {
                // A request withdrawn meanwhile left the entry this worker's (nothing written): the branch below puts
                // the job back to run.
                if (try? await store.pendingConsumer(queue: job.queue, entryID: job.entryID)) == consumer { throw error }
                throw CancelledUnconfirmed(error: error)
            }
        } catch let unconfirmed as CancelledUnconfirmed {
            let error = unconfirmed.error
            // It ran on the primary and settled the job (the entry is no longer this worker's; the canceller is told
            // `cancelled`); only the replicas' confirmation is missing. Said to have failed, operators looked for a job
            // that was cancelled.
            _ = buffer.withdraw(queue: job.queue, entryID: job.entryID)
            leases.release(queue: job.queue, entryID: job.entryID, held: job.held)
            logger.warning(
                "cancelled job \(envelope.id) on the primary, but too few replicas confirmed it; if the primary fails over now, the job runs after its lease",
                metadata: ["queue": "\(job.queue)", "error": "\(error)"])
            return
        } catch {
            // The script may have run (a reply lost) or not; it acknowledges the entry, so one still pending to this
            // worker says it did not, and the job goes back to run.
            if (try? await store.pendingConsumer(queue: job.queue, entryID: job.entryID)) == consumer {
                await putBack(job)
                throw error
            }
            // Unknown: putting it back could run a cancelled job. Released instead: if the script did not run, the
            // entry's lease lapses and recovery runs the job, as after a lost worker.
            leases.release(queue: job.queue, entryID: job.entryID, held: job.held)
            logger.warning(
                "cancelling job \(envelope.id) failed; it was not started here, and runs after its lease unless the cancel landed",
                metadata: ["queue": "\(job.queue)", "error": "\(error)"])
            return
        }
        guard settled else {
            logger.info("a cancel of job \(envelope.id) was withdrawn before this worker answered; it stays to run", metadata: ["queue": "\(job.queue)"])
            await putBack(job)
            return
        }
        // A copy recovery put back meanwhile would run the cancelled job: it goes too.
        _ = buffer.withdraw(queue: job.queue, entryID: job.entryID)
        leases.release(queue: job.queue, entryID: job.entryID, held: job.held)
        logger.info("cancelled job \(envelope.id) before it started, as asked", metadata: ["queue": "\(job.queue)", "type": "\(envelope.type)"])
    }

    /// A cancel the primary settled that too few replicas confirmed.
    private struct CancelledUnconfirmed: Error { let error: RedisError }

    /// Returns `job` to the buffer to run; handed back to its queue when the buffer refuses it (closed, or its queue
    /// paused meanwhile).
    private func putBack(_ job: FetchedJob) async {
        let refused = buffer.put([job])
        if !refused.isEmpty { await handBack(refused) }
    }
}
