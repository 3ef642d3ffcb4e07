extension ProcessRecord {
    /// The heartbeat field that says where a worker is in its life: ``WorkerState``'s description (`running`,
    /// `quiet`, `draining`, `stopping`), written with every beat (``Worker/heartbeatFields``).
    public static let stateField = "state"

    /// Where this worker is in its life, as its last beat said; nil for a record without ``stateField`` (a worker of an
    /// older release, a scheduler) or with a state this release does not know.
    public var workerState: WorkerState? { fields[Self.stateField].flatMap(WorkerState.init(named:)) }

    /// Whether this worker fetches new jobs: false once it is quiet (SIGTSTP) or stopping. A record without the field
    /// (an older release) or with a state this release does not know fetches, as every worker did before the field.
    public var fetches: Bool { (workerState ?? .running) == .running }

    /// Whether this is a worker whose heartbeat lists `queue`, fetching or not. A worker heartbeat without `queues`
    /// (an older version) may serve any queue, so it counts. The rule for what must not be taken from under a worker,
    /// which a quiet one still has: its running jobs settle into the queue and their leases are renewed there, so
    /// `hoopoe queue forget` refuses while one lists it, and the retention round does not count the queue unserved.
    public func lists(_ queue: String) -> Bool {
        guard kind == "worker" else { return false }
        guard let queues = fields["queues"] else { return true }
        return queues.split(separator: ",").contains { $0 == queue }
    }

    /// Whether this is a worker serving `queue`: its heartbeat lists it (``lists(_:)``) and it fetches (``fetches``):
    /// a quiet worker (SIGTSTP) takes no new job of any queue, so a job enqueued then waits for another worker. The one
    /// rule for every reader that asks whether a job will be run: the deployment check's "no worker serves" warning,
    /// `hoopoe enqueue`'s, and the dashboard's "Served by", so all of them mean the same thing. A quiet worker counted
    /// as serving once, and every one of them said all was well while the job waited.
    public func serves(_ queue: String) -> Bool {
        lists(queue) && fetches
    }

    /// The workers among `processes` that list `queue` but fetch nothing new (quiet, or stopping): named beside a
    /// "no worker serves" warning, so it says why. Sorted by id.
    public static func notFetching(_ queue: String, among processes: [ProcessRecord]) -> [ProcessRecord] {
        processes.filter { $0.lists(queue) && !$0.fetches }.sorted { $0.id < $1.id }
    }

    /// `w1 (quiet)`, `w1 (quiet), w2 (draining)`: workers with their state, for the warnings.
    public static func namedWithState(_ workers: [ProcessRecord]) -> String {
        workers.map { "\($0.id) (\($0.workerState?.description ?? "?"))" }.joined(separator: ", ")
    }

    /// Why a queue has no worker though some list it: `worker w1 (quiet) lists it but fetches nothing new` (``notFetching(_:among:)``'s
    /// workers); nil for none. Said by `hoopoe enqueue`'s and the health check's "no worker serves" warnings alike.
    public static func notFetchingNote(_ workers: [ProcessRecord]) -> String? {
        guard !workers.isEmpty else { return nil }
        let shown = workers.prefix(3)
        let names = namedWithState(Array(shown)) + (workers.count > shown.count ? " and \(workers.count - shown.count) more" : "")
        return workers.count == 1 ? "worker \(names) lists it but fetches nothing new" : "workers \(names) list it but fetch nothing new"
    }
}
