import Logging
import Redis

/// Puts jobs this worker holds back on their queues at once, as new entries; their current deliveries are removed.
/// For jobs that are not going to run here: prefetched when shutdown began, fetched into a closed buffer, or
/// interrupted by "stop now". Lost runs (deliveries beyond the first) are written into the envelope's attempt count,
/// and so is a run this worker started that shutdown interrupted (`started`): the next worker counts the next run from
/// there, and buries, unrun, a job with no attempt left (a `max_attempts: 1` job cut off by a deploy ran again in full
/// elsewhere: decision 0079's "not twice where its owner asked for one attempt"). A promoted job stays marked as promoted.
///
/// A call that fails on the way (Redis unreachable, restarting, refusing writes, or its reply lost) is made again, backing off from a
/// quarter of a second to two, for up to `unsentRetry` (``WorkerOptions/unsentAcknowledgementRetry``), the leases still
/// held: the script hands back only entries still pending to this worker, so a second run does nothing twice. Given
/// up, the jobs return after their lease, as their next delivery, which counted an attempt none of them used.
///
/// Releases the jobs' leases either way: handed back, or (when Redis refused) left for their lease to expire.
///
/// A class, made once a worker: every ``UnitOfWork`` holds it (its consumer and retry settings settle the job), and
/// as a struct its seven fields were copied into each one, a job, and destroyed with it; now that is one retain (with
/// the unit of work's own copies of the store and the leases dropped: ~530 instructions a job fewer, callgrind,
/// session 63). Its fields never change, so it is `Sendable` as it is.
final class HandBack: Sendable {
    let store: JobStore
    let leases: Leases
    let logger: Logger
    /// The worker's consumer: only entries still pending to it are handed back.
    let consumer: String
    let unsentRetry: Duration
    /// Set by "stop now": a failed call is not tried again.
    let cutoff: RetryCutoff
    /// Told of calls Redis refused for want of writes, each of its queue: that queue's fetch pauses meanwhile
    /// (``WriteRefusals``).
    let writeRefusals: WriteRefusals?

    init(
        store: JobStore, leases: Leases, logger: Logger, consumer: String, unsentRetry: Duration = .seconds(30), cutoff: RetryCutoff = RetryCutoff(),
        writeRefusals: WriteRefusals? = nil
    ) {
        self.store = store
        self.leases = leases
        self.logger = logger
        self.consumer = consumer
        self.unsentRetry = unsentRetry
        self.cutoff = cutoff
        self.writeRefusals = writeRefusals
    }

    /// - Parameter started: whether the jobs' runs started here (one interrupted by shutdown), to be counted.
    /// - Returns: whether every job is back on its queue (false: some were left for their lease to bring back).
    @discardableResult
    func callAsFunction(_ fetched: [FetchedJob], started: Bool = false) async -> Bool {
        var all = true
        // One deadline for every queue's call: taken in turn with one each, a stop with Redis away took 30 s a queue,
        // past the stop grace periods the deploy files give (the drain and one retry).
        let retry = UnsentRetry(for: unsentRetry, cutoff: cutoff, refusals: writeRefusals)
        var byQueue: [String: [FetchedJob]] = [:]
        for job in fetched { byQueue[job.queue, default: []].append(job) }
        for (queue, list) in byQueue {
            let returned = list.map { job -> (entryID: String, promoted: Bool, envelope: [UInt8]?) in
                let uncounted = min(job.deliveries - 1, 1_000_000) + (started ? 1 : 0)
                if uncounted > 0, var envelope = try? JobEnvelope.decode(job.bytes) {
                    envelope.attempt = min(envelope.attempt, 1_000_000) + uncounted
                    return (entryID: job.entryID, promoted: job.promoted, envelope: envelope.encoded())
                }
                return (entryID: job.entryID, promoted: job.promoted, envelope: nil)
            }
            if await !handBack(returned, count: list.count, queue: queue, until: retry) { all = false }
            leases.release(queue: queue, entryIDs: list.lazy.map(\.entryID))
        }
        return all
    }

    private func handBack(
        _ returned: [(entryID: String, promoted: Bool, envelope: [UInt8]?)], count: Int, queue: String, until retry: UnsentRetry
    ) async -> Bool {
        var warned = false
        do {
            try await retry.run({ try await store.handBack(queue: queue, consumer: consumer, returned) }, queue: queue, mayTryAgain: Self.mayTryAgain) { error in
                logger.warning(
                    "handing back \(count) jobs failed on the way; trying again until Redis answers (for up to \(unsentRetry))",
                    metadata: ["queue": "\(queue)", "error": "\(error.operatorLine)"])
                warned = true
            }
            if warned { logger.notice("handed back \(count) jobs once Redis answered again", metadata: ["queue": "\(queue)"]) }
            return true
        } catch let error as RedisError where error.code == .notReplicated {
            // The hand-back ran on the primary: the jobs are on their queue again. Only the replicas' confirmation
            // (REDIS_WAIT_REPLICAS) is missing; a failover before they have it would bring back the old deliveries,
            // which return after their lease. Saying "failed" here sent operators looking for jobs that were queued.
            logger.warning(
                "handed back \(count) jobs on the primary, but too few replicas confirmed it; if the primary fails over now they return after their lease instead",
                metadata: ["queue": "\(queue)", "error": "\(error)"])
            return true
        } catch {
            logger.error("handing back \(count) jobs failed; they return after their lease", metadata: ["queue": "\(queue)", "error": "\(error)"])
            return false
        }
    }

    /// A failure of the transport, a server still loading its data, or a refused write (`OOM`, `NOREPLICAS`, ...,
    /// raised before the script's first write: ``Acknowledger/notRun(_:)``): the call may be made again (the script
    /// hands back only what is still this worker's). Given up at once on `OOM`, a shutdown handed nothing back, and two
    /// prefetched `max_attempts: 1` jobs that never started were buried as lost (a review reproduced it).
    static func mayTryAgain(_ error: RedisError) -> Bool {
        Acknowledger.notRun(error) || error.code == .connectionLost || error.code == .timeout
    }
}
