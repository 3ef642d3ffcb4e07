import Foundation
import Logging

/// Trims each of this worker's queues' dead set (``WorkerOptions/deadMaxJobs``, ``WorkerOptions/deadMaxAge``) and job
/// history (``WorkerOptions/historyMaxJobs``, ``WorkerOptions/historyMaxAge``) to their caps about once a minute, and
/// those of the queues no live worker serves (decision 0088).
///
/// A burial trims its queue's dead set and a minute's first settle its history, but only those: a queue whose jobs
/// stopped dying, or stopped running, kept its dead jobs and its finished jobs' records, payloads with whatever personal
/// data they hold, past the ages the docs promise (180 days, 24 h). Each round is one short script a queue for each
/// (``JobStore/trimDeadSet(queue:limits:now:)``, ``JobStore/keepHistory(_:)``): a look at the oldest when nothing is due.
struct RetentionUpkeep: BackgroundStep {
    var name: String { "retention upkeep" }
    let store: JobStore
    let options: WorkerOptions
    /// The history's caps, nil when this worker keeps none: then it trims by age alone, with its
    /// ``WorkerOptions/historyMaxAge`` (a queue's history, personal data and all, stayed for good once its workers were
    /// set to keep none), and leaves the count to the workers that keep history.
    let historyLimits: JobStore.HistoryLimits?
    let logger: Logger

    var interval: Duration { options.retentionUpkeepInterval }
    var jitter: Double { 0.2 }

    /// Each trim on its own: one that fails (a key of another type, Redis briefly away) is logged with its queue and
    /// tried again next round, and does not keep the others from theirs. Then the queues no live worker serves, by one
    /// worker a round.
    func round() async throws {
        for queue in options.queues.names { await trim(queue, deadSet: options.deadSetLimits, history: history) }
        await trimUnservedQueues()
    }

    /// The history caps this worker trims to: its own, or by age alone when it keeps none.
    private var history: JobStore.HistoryLimits {
        historyLimits ?? JobStore.HistoryLimits(maxJobs: Int(Int32.max), maxAgeSeconds: Int(options.historyMaxAge.seconds.rounded(.up)))
    }

    /// The most age trims a queue gets in one round: one removes at most ``JobStore/historyAgeTrimBatch`` records, and a
    /// queue finishing more than that a minute (or an age cap just lowered) fell further behind each round.
    static let ageTrimsPerRound = 50

    /// A queue no live worker has served for an hour (retired, renamed, or its workers all stopped) is trimmed by age,
    /// with this worker's age caps, by whichever worker takes the round's turn: otherwise its dead jobs and its finished
    /// jobs' records, payloads and all, stayed for good (decision 0088, amended in session 46). By age only: the count
    /// caps bound a queue that grows, and one nobody serves does not; an hour, so a deploy's gap is not taken for a
    /// retired queue. The turn is held for most of a round, so one worker a round reads the heartbeats for it.
    private func trimUnservedQueues() async {
        do {
            guard try await store.takeUnservedTrimTurn(owner: options.consumer, hold: interval * 0.75) else { return }
            let byAge = Int(Int32.max)
            let deadSet = JobStore.DeadSetLimits(maxJobs: byAge, maxAge: options.deadSetLimits.maxAge, eventsMaxLength: options.deadSetLimits.eventsMaxLength)
            let history = JobStore.HistoryLimits(maxJobs: byAge, maxAgeSeconds: self.history.maxAgeSeconds)
            for queue in try await store.queuesUnservedPastGrace(now: Date().timeIntervalSince1970, servedHere: Set(options.queues.names), round: interval) {
                await trim(queue, deadSet: deadSet, history: history)
            }
        } catch {
            logger.warning("could not look for queues no worker serves, to trim them; trying again next round", metadata: ["error": "\(error)"])
        }
    }

    /// Trims `queue`'s dead set to `deadSet` and its history to `history`, by age until nothing more is past it (at
    /// most ``ageTrimsPerRound`` calls).
    private func trim(_ queue: String, deadSet: JobStore.DeadSetLimits, history: JobStore.HistoryLimits) async {
        let now = Date().timeIntervalSince1970
        do {
            _ = try await store.trimDeadSet(queue: queue, limits: deadSet, now: now)
        } catch {
            logger.warning("could not trim the dead set to its caps; trying again next round", metadata: ["queue": "\(queue)", "error": "\(error)"])
        }
        do {
            for _ in 0..<Self.ageTrimsPerRound {
                let removed = try await store.keepHistory(.init(queue: queue, limits: history, now: now, byAge: true, refinished: 0, jobIDs: []))
                if removed < JobStore.historyAgeTrimBatch { break }
            }
        } catch {
            logger.warning("could not trim the job history to its caps; trying again next round", metadata: ["queue": "\(queue)", "error": "\(error)"])
        }
    }
}
