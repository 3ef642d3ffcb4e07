import Foundation
import Logging
import Redis
import Synchronization

/// Tells Redis this process is alive: a hash with what it is doing, renewed every few seconds with a
/// TTL, plus its score in the `processes` sorted set. A process that dies simply stops beating; its
/// hash expires and the health check sees it gone. A worker's hash lists the jobs it runs and since when
/// (``ProcessRun``): the dashboard's Busy page shows each run's start from it.
public struct Heartbeat: Sendable {
    /// What kind of process (`worker`, `scheduler`).
    public let kind: String
    /// The process's id (the worker's consumer name).
    public let id: String
    /// Beat interval (5 s); the hash lives for three intervals.
    public let interval: Duration
    private let jobs: JobQueue
    private let started = Date().timeIntervalSince1970
    private let details: @Sendable () -> [String: String]
    /// Where a failed beat is reported (once until the failure changes); nil says nothing.
    private let logger: Logger?
    /// Whether ``run()`` beats on a connection of its own (``JobStore/makeBeatConnection()``) instead of the pool.
    private let ownConnection: Bool
    /// Ends the wait between two beats of ``run()`` early (``beatSoon()``).
    private let wake = BeatWake()

    /// - Parameters:
    ///   - kind: `worker` or `scheduler`.
    ///   - id: the process id.
    ///   - jobs: the engine (Redis and namespace).
    ///   - interval: beat interval.
    ///   - details: extra fields written with each beat: a worker's are ``Worker/heartbeatFields`` (busy count, queues,
    ///     the jobs running and when each run started). Called on the beat's thread every beat, so it must be cheap;
    ///     its fields go in the beat's one `HSET`, so a field it stops writing would stay: write every field each time.
    ///   - logger: where a failed beat is reported (a beat refused by Redis would otherwise be lost without a word).
    ///   - ownConnection: beat on a connection of its own, but on a cluster. A worker's heartbeat does: its handlers
    ///     run on the shared connections' threads (decision 0072), and one that blocks its thread for longer than the
    ///     beat's TTL must not make the worker look gone to `hoopoe health-check` (decision 0073).
    public init(
        kind: String, id: String, jobs: JobQueue, interval: Duration = .seconds(5), logger: Logger? = nil,
        ownConnection: Bool = false, details: @escaping @Sendable () -> [String: String] = { [:] }
    ) {
        self.kind = kind
        self.logger = logger
        self.ownConnection = ownConnection
        self.id = id
        self.jobs = jobs
        self.interval = interval
        self.details = details
    }

    /// Writes one beat, through the pool.
    public func beat() async throws { try await beat(on: nil) }

    /// Has ``run()`` beat now instead of at the end of its interval (or, when it is not running, as soon as it runs
    /// beyond its first beat): what the beat says changed, as a worker's state does on SIGTSTP, and readers must see
    /// it within a moment, not up to an interval later. The beat is the loop's own, on its connection and in its
    /// order: a beat sent beside it could land after the record's removal at exit and bring the process back for a TTL.
    public func beatSoon() { wake.wake() }

    /// Writes one beat on `connection` (nil: the pool).
    private func beat(on connection: RedisConnection?) async throws {
        let now = Date().timeIntervalSince1970
        var fields: [String: String] = [
            "kind": kind, "pid": String(ProcessInfo.processInfo.processIdentifier), "host": ProcessInfo.processInfo.hostName,
            "started_at": String(started), "beat_at": String(now),
        ]
        fields.merge(details()) { $1 }
        try await jobs.store.beat(id: id, fields: fields, ttl: Int((interval * 3).seconds.rounded(.up)), now: now, on: connection)
    }

    /// Removes this process's record (orderly exit).
    public func remove() async {
        await jobs.store.removeProcess(id: id)
    }

    /// Removes this process's record, waiting for it at most `limit`: with Redis unreachable the removal waits out
    /// the reconnect window, which a stopping process must not spend inside its supervisor's stop timeout. The record
    /// expires on its own (three beat intervals) anyway.
    public func remove(within limit: Duration) async {
        let (first, signal) = AsyncStream<Void>.makeStream()
        Task {
            await remove()
            signal.yield()
            signal.finish()
        }
        Task {
            try? await Task.sleep(for: limit)
            signal.finish()
        }
        for await _ in first { break }
    }

    /// Beats until cancelled; with `ownConnection`, on a connection (closed when cancelled) and a thread of its own.
    ///
    /// The thread (``LeaseThread``, as lease renewal has): the loop's wake-ups and its replies' continuations ran on
    /// Swift's cooperative pool, and handlers run there too when no backlog puts them on the connections' threads
    /// (always on a cluster, decision 0076): as many blocking handlers as cores held the heartbeat past its TTL, the
    /// health check counted the live worker gone, and its liveness probe restarted it, its running jobs run again.
    public func run() async {
        let connection = ownConnection ? jobs.store.makeBeatConnection() : nil
        defer { connection?.close() }
        guard ownConnection else {
            await beatUntilCancelled(on: connection) { @Sendable in try? await Task.sleep(for: $0) }
            return
        }
        let thread = LeaseThread(name: "hoopoe-pulse")
        await withTaskExecutorPreference(thread) {
            await beatUntilCancelled(on: connection) { @Sendable in await thread.sleep(for: $0) }
        }
        thread.stop()
    }

    private func beatUntilCancelled(on connection: RedisConnection?, sleep: @escaping @Sendable (Duration) async -> Void) async {
        var lastProblem: String?
        while !Task.isCancelled {
            do {
                try await beat(on: connection)
                lastProblem = nil
            } catch {
                let problem = (error as? RedisError)?.operatorLine ?? "\(error)"
                if problem != lastProblem {
                    logger?.warning("heartbeat not written (health checks may count this \(kind) as gone); retrying every \(interval): \(problem)")
                }
                lastProblem = problem
            }
            await pause(sleep)
        }
    }

    /// Waits out the interval with `sleep`, or less when ``beatSoon()`` is called meanwhile (or was since the last
    /// beat). The child tasks keep the loop's executor preference: on a thread of its own, they wait on it.
    private func pause(_ sleep: @escaping @Sendable (Duration) async -> Void) async {
        let interval = interval
        await withTaskGroup(of: Void.self) { [wake] group in
            group.addTask { await sleep(interval) }
            group.addTask { await wake.wait() }
            await group.next()
            group.cancelAll()
        }
    }
}

/// A wake-up for one waiter (a heartbeat's loop): a wake while nobody waits is kept for the next wait, so a beat asked
/// for while one is being written is not lost.
private final class BeatWake: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    /// Ends the current wait, or the next one at once.
    func wake() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns when woken (at once for a wake since the last wait), or when the task is cancelled; a cancelled wait
    /// leaves a wake it did not take for the next.
    func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    if state.pending {
                        state.pending = false
                        return true
                    }
                    // Checked under the lock the cancellation handler takes: cancelled before this, it found no waiter.
                    if Task.isCancelled { return true }
                    state.waiter = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }
}

/// A live process as its heartbeat describes it.
public struct ProcessRecord: Sendable, Equatable {
    public let id: String
    public let fields: [String: String]
    public var kind: String { fields["kind"] ?? "?" }
    /// Seconds since its last beat, by Redis's clock.
    public let age: Double
    /// Seconds it has run, by its own host's clock (its last beat less its start, both that host's) plus ``age``:
    /// no other host's clock enters it. Nil without both times.
    public var up: Double? {
        guard let started = fields["started_at"].flatMap(Double.init), let beat = fields["beat_at"].flatMap(Double.init) else { return nil }
        return max(0, beat - started) + age
    }

    public init(id: String, fields: [String: String], age: Double) {
        self.id = id
        self.fields = fields
        self.age = age
    }
}

extension JobQueue {
    /// Processes whose heartbeat hash still exists; stale entries of the sorted set are pruned.
    public func liveProcesses() async throws -> [ProcessRecord] { try await store.liveProcesses() }
}
