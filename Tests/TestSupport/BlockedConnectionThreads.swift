import Foundation
import Redis
import Synchronization

/// Holds every pooled connection's thread of a client with a synchronous sleep, as a handler's blocking call would
/// (decision 0072 runs handlers on those threads). Tests use it to show what must not wait for them: a dedicated
/// connection's script, the worker's heartbeat (decision 0073).
public final class BlockedConnectionThreads: Sendable {
    private let counts = Counts()
    private let blockers: [Task<Void, Never>]

    /// Starts one blocker on each of `client`'s connection executors, each sleeping `seconds`, and returns once all
    /// of them hold their thread.
    public static func block(
        _ client: RedisClient, forSeconds seconds: Double
    ) async throws -> BlockedConnectionThreads {
        let blocked = BlockedConnectionThreads(client.connectionExecutors, microseconds: UInt32(seconds * 1_000_000))
        while blocked.counts.started.load(ordering: .sequentiallyConsistent) < blocked.blockers.count {
            try await Task.sleep(for: .milliseconds(5))
        }
        return blocked
    }

    private init(_ executors: [RedisConnectionExecutor], microseconds: UInt32) {
        let counts = counts
        blockers = executors.map { executor in
            Task(executorPreference: executor) {
                counts.started.add(1, ordering: .sequentiallyConsistent)
                usleep(microseconds)
                counts.ended.add(1, ordering: .sequentiallyConsistent)
            }
        }
    }

    /// Whether any thread has been let go: a call that finished while this is false did not wait for them.
    public var anyFree: Bool { counts.ended.load(ordering: .sequentiallyConsistent) > 0 }

    /// Waits until every blocker has ended.
    public func untilFree() async {
        for blocker in blockers { await blocker.value }
    }
}

/// How many blockers have started and ended.
private final class Counts: Sendable {
    let started = Atomic<Int>(0)
    let ended = Atomic<Int>(0)
}
