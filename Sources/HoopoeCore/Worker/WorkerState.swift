/// Where a worker is in its life. It only moves forward, one event at a time (``Worker/quiet()``,
/// ``Worker/shutdown()``, ``Worker/shutdownNow()``, the shutdown timeout, the last runner ending), and each part of
/// the worker waits for the state it cares about instead of polling flags.
public enum WorkerState: Int, Comparable, Sendable, CaseIterable, CustomStringConvertible {
    /// Fetching and running jobs.
    case running
    /// Fetching nothing new; running and prefetched jobs go on (Sidekiq's "quiet", on SIGTSTP).
    case quiet
    /// Shutting down (the first SIGTERM/SIGINT): nothing new starts, prefetched jobs are handed back, running jobs
    /// get the shutdown timeout to finish.
    case draining
    /// Stopping now (a second signal, or the shutdown timeout ran out): running jobs are interrupted and handed back.
    case stopping
    /// Every runner has ended: no job of this worker is running or waiting.
    case stopped

    public static func < (lhs: WorkerState, rhs: WorkerState) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String {
        switch self {
        case .running: "running"
        case .quiet: "quiet"
        case .draining: "draining"
        case .stopping: "stopping"
        case .stopped: "stopped"
        }
    }

    /// The state a heartbeat's `state` field names (its ``description``; ``ProcessRecord/workerState``), or nil for
    /// a name this release does not know.
    public init?(named name: String) {
        guard let state = Self.allCases.first(where: { $0.description == name }) else { return nil }
        self = state
    }
}
