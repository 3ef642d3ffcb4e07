import Redis

/// Something the worker does on its own schedule beside fetching: recovery (``JobRecovery``), promotion
/// (``JobPromotion``), lease renewal (``LeaseRenewal``). ``Worker/run()`` repeats each from start until shutdown
/// begins; a round that fails is logged and tried again next time.
protocol BackgroundStep: Sendable {
    /// What the log calls it ("recovery", "promotion"): a failing round is logged by name.
    var name: String { get }
    /// The time between two rounds.
    var interval: Duration { get }
    /// How much each wait varies, as a fraction of ``interval`` (0.2: ± 20 %), so that many workers' rounds spread
    /// out instead of arriving at Redis together.
    var jitter: Double { get }
    /// One round.
    func round() async throws
}

extension BackgroundStep {
    /// Runs `body` for each queue in turn. A queue that fails (its cluster primary down, one of its keys holding
    /// another type, its group gone while it is paused) does not keep the queues after it waiting round after round:
    /// the others have their turn, and the round throws the first failure at its end, naming its queue.
    func forEachQueue(_ queues: [String], _ body: (String) async throws -> Void) async throws {
        var failure: QueueRoundFailure?
        for queue in queues {
            do {
                try await body(queue)
            } catch {
                if failure == nil { failure = QueueRoundFailure(queue: queue, error: error) }
            }
        }
        if let failure { throw failure }
    }
}

/// One queue's failure in a round of a ``BackgroundStep``, named for the log.
struct QueueRoundFailure: Error, CustomStringConvertible {
    let queue: String
    let error: any Error

    var description: String { "queue \(queue): \((error as? RedisError)?.operatorLine ?? "\(error)")" }
}
