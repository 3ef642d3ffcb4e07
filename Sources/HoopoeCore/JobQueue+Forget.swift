/// The jobs a queue holds that a user could lose: what ``JobQueue/forget(queue:force:)`` refuses for, or removed with
/// `force`.
public struct QueueHoldings: Sendable, Equatable {
    /// Waiting in the stream for a worker.
    public var ready: Int
    /// Fetched by a worker and not acknowledged (pending in the workers' group): a forget refused while a live worker
    /// serves the queue, so these were fetched by workers no longer running, and only a worker serving the queue recovers
    /// them.
    public var inFlight: Int
    /// Delayed jobs and retries.
    public var scheduled: Int
    /// Dead jobs.
    public var dead: Int

    /// - Parameters:
    ///   - ready: jobs waiting in the stream.
    ///   - inFlight: jobs fetched and not acknowledged.
    ///   - scheduled: delayed jobs and retries.
    ///   - dead: dead jobs.
    public init(ready: Int = 0, inFlight: Int = 0, scheduled: Int = 0, dead: Int = 0) {
        self.ready = ready
        self.inFlight = inFlight
        self.scheduled = scheduled
        self.dead = dead
    }

    /// Every job counted.
    public var total: Int { ready + inFlight + scheduled + dead }
}

/// What ``JobQueue/forget(queue:force:)`` did.
public enum ForgetResult: Sendable, Equatable {
    /// Every key of the queue removed (`keys` of them) and its name from the shared sets and hashes; `dropped` the jobs
    /// removed with it (none unless forced).
    case forgotten(keys: Int, dropped: QueueHoldings)
    /// Refused, nothing removed: it holds these jobs.
    case holdsJobs(QueueHoldings)
    /// Refused, nothing removed: these live workers serve it (their heartbeats list it, or list no queues: a worker of
    /// an older release may serve any; a quiet one too: its running jobs still settle into the queue).
    case served(by: [ProcessRecord])
    /// Redis holds nothing of a queue of this name.
    case notFound
}

extension JobQueue {
    /// Forgets a retired or renamed queue: removes every key Hoopoe keeps for it — its stream (empty) and the workers'
    /// group, its counters, its job history, its unique and once keys, answers, the scheduler's last ticks of tasks that
    /// sent to it — and its name from the known queues, the last scan's list, the paused queues and the unserved queues,
    /// so `hoopoe queues`, the dashboard and the health check no longer show it. Without it they show a queue once
    /// served for ever, as an empty row with a warning that no worker serves it.
    ///
    /// Refused (``ForgetResult/served(by:)``) while a live worker serves it: that worker would make it again at once
    /// (its group, its name), and its jobs' acknowledgements would count into a queue just forgotten; `force` does not
    /// change that. Refused (``ForgetResult/holdsJobs(_:)``) while it holds a job — ready, in flight, scheduled or dead —
    /// unless `force`: then they are removed with it, and counted in ``ForgetResult/forgotten(keys:dropped:)``.
    ///
    /// One script counts what the queue holds and removes its keys (``JobStore/forget(queue:force:)``), so a job that
    /// arrives meanwhile is counted, never dropped unsaid; removed with `force`, its unique lock and once key go too (a
    /// second scan finds them), so the same job enqueued again is taken, not refused as a duplicate. A worker that starts serving the queue between the look at
    /// the heartbeats and the script makes its group again after it (its fetch finds none); nothing of a job is lost.
    /// A periodic task still sending to the queue starts it again with its next tick, and from now: its last tick went
    /// with the queue.
    ///
    /// A name that cannot be a queue (``forgetNameProblem(_:)``) is ``ForgetResult/notFound``, nothing looked at.
    public func forget(queue: String, force: Bool = false) async throws -> ForgetResult {
        guard Self.forgetNameProblem(queue) == nil else { return .notFound }
        let serving = try await store.liveProcesses().filter { $0.lists(queue) }
        guard serving.isEmpty else { return .served(by: serving) }
        let outcome = try await store.forget(queue: queue, force: force)
        guard outcome.forgotten else { return .holdsJobs(outcome.holdings) }
        if outcome.keys == 0 && outcome.names == 0 { return .notFound }
        return .forgotten(keys: outcome.keys, dropped: outcome.holdings)
    }

    /// Why no queue can be named `name`, or nil. Looser than ``EnvelopeRules/queueProblem(_:)``: a service's plain
    /// `XADD` to `<ns>:{a*b}:stream` makes a queue `a*b` that `hoopoe queues` lists, and forgetting such a stray is what
    /// a forget is for. What it refuses is a name no queue's keys can have: empty, with a control character, or with a
    /// `}` (a queue's name ends at the first one; forgetting `x}:unique:k` would scan, and remove, keys of queue `x`).
    public static func forgetNameProblem(_ name: String) -> String? {
        if name.isEmpty { return "must not be empty" }
        if name.contains("}") { return "must not contain '}'" }
        if name.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }) { return "must not contain control characters" }
        return nil
    }
}
