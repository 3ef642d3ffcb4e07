import Foundation
import Logging

/// Trims each of this worker's queues' dead set (``WorkerOptions/deadMaxJobs``, ``WorkerOptions/deadMaxAge``) and job
/// history (``WorkerOptions/historyMaxJobs``, ``WorkerOptions/historyMaxAge``) to their caps about once a minute
/// (decision 0088).
///
/// A burial trims its queue's dead set and a minute's first settle its history, but only those: a queue whose jobs
/// stopped dying, or stopped running, kept its dead jobs and its finished jobs' records, payloads with whatever personal
/// data they hold, past the ages the docs promise (180 days, 24 h). Each round is one short script a queue for each
/// (``JobStore/trimDeadSet(queue:limits:now:)``, ``JobStore/keepHistory(_:)``): a look at the oldest when nothing is due.
struct RetentionUpkeep: BackgroundStep {
    let store: JobStore
    let options: WorkerOptions
    /// The history's caps, nil when this worker keeps none (then it leaves the history alone: another worker's).
    let historyLimits: JobStore.HistoryLimits?
    let logger: Logger

    var interval: Duration { options.retentionUpkeepInterval }
    var jitter: Double { 0.2 }

    /// Each trim on its own: one that fails (a key of another type, Redis briefly away) is logged with its queue and
    /// tried again next round, and does not keep the others from theirs.
    func round() async throws {
        for queue in options.queues.names {
            let now = Date().timeIntervalSince1970
            do {
                _ = try await store.trimDeadSet(queue: queue, limits: options.deadSetLimits, now: now)
            } catch {
                logger.warning("could not trim the dead set to its caps; trying again next round", metadata: ["queue": "\(queue)", "error": "\(error)"])
            }
            guard let historyLimits else { continue }
            do {
                try await store.keepHistory(.init(queue: queue, limits: historyLimits, now: now, byAge: true, refinished: 0, jobIDs: []))
            } catch {
                logger.warning("could not trim the job history to its caps; trying again next round", metadata: ["queue": "\(queue)", "error": "\(error)"])
            }
        }
    }
}
