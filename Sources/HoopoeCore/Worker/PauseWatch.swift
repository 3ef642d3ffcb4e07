import Logging

/// Follows which of this worker's queues are paused (``JobStore/pausedQueues()``, one `HGETALL` a round, about twice
/// a second) and tells the buffer, so a pause or resume from anywhere reaches every worker within a second
/// (decision 0029).
///
/// On a change it wakes the blocked fetches (`CLIENT UNBLOCK`): a pause must not wait out a read that could still
/// take the paused queue's jobs, and a resume must not wait out a read that leaves the queue out. Jobs of a newly
/// paused queue that were fetched but not started are handed back, so they wait as ready jobs in Redis. A failed
/// read keeps the last known state (logged, tried again next round).
struct PauseWatch: BackgroundStep {
    var name: String { "pause watch" }
    let store: JobStore
    let queues: Set<String>
    let buffer: JobBuffer
    let handBack: HandBack
    let interval: Duration
    /// Wakes the blocked fetches.
    let wakeFetchers: @Sendable () async -> Void
    let logger: Logger

    var jitter: Double { 0.2 }

    func round() async throws {
        let paused = Set(try await store.pausedQueues().keys).intersection(queues)
        let change = buffer.setPaused(paused)
        if change.paused.isEmpty && change.resumed.isEmpty { return }
        await wakeFetchers()
        for queue in change.paused.sorted() {
            logger.info("queue \(queue) paused: no new jobs are fetched from it; running jobs finish")
        }
        for queue in change.resumed.sorted() {
            logger.info("queue \(queue) resumed: fetching from it again")
        }
        if !change.withdrawn.isEmpty {
            logger.info("handing back \(change.withdrawn.count) fetched jobs of paused queues; they stay ready")
            await handBack(change.withdrawn)
        }
    }
}
