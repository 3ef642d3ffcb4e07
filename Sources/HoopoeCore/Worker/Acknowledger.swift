import Foundation
import Logging
import Redis
import Synchronization

/// Acknowledges finished jobs in batches: whoever finishes a job while no batch is in flight sends one
/// (group commit), and jobs finishing meanwhile ride in the next. Under load a batch carries many jobs
/// for one Lua call; when idle, a lone job is acknowledged at once. No timer, no added latency: holding a batch
/// back for more jobs (a linger of 0.5 ms) was measured and not adopted (decision 0037).
///
/// A flight carries one queue's acknowledgements only, those of the queue whose acknowledgement has waited longest;
/// the other queues' wait for the next flights, and each of their script calls then carries the jobs that finished
/// meanwhile. A script call has a fixed cost (its keys and fixed arguments entering Lua, ~1,500 instructions each:
/// decision 0064) that a call of a quarter of the jobs pays four times: on a Redis Cluster (decision 0048), where each
/// queue lives on one node, each node is also woken for its acknowledgements once in every few flights; on one Redis
/// (decision 0094), a worker of four queues spent a fifth less CPU a job on each side, and ran 1.18× the jobs a second.
/// Still no timer: a flight leaves as soon as the one before it is back, and a lone job leaves at once.
final class Acknowledger: Sendable {
    /// A finished job to acknowledge.
    typealias Ack = Acknowledgement

    private struct State {
        var pending: [Ack] = []
        var flushing = false
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
        /// Until when calls that could not be sent are tried again: set by the first such failure of an outage, for
        /// every call and flight of it (``WorkerOptions/unsentAcknowledgementRetry`` in all), cleared by a call that lands.
        /// A deadline already passed belongs to an earlier outage once no try began within ``outageGap`` of the last
        /// failure: with no call landing in between (a quiet queue), it stayed, and every later outage's calls gave up
        /// at once.
        var retryUntil: ContinuousClock.Instant?
        /// When a call last failed without running: for a while after (twice the retry time), every call first checks
        /// which of its entries are still this worker's, those queued behind the failed flight included.
        var lastNotRun: ContinuousClock.Instant?
    }

    private let jobs: JobQueue
    private let logger: Logger
    private let state = Mutex(State())
    /// Called with each batch once sent, acknowledged or not, so the worker stops renewing their leases:
    /// a batch whose acknowledgement failed must be left to expire and run again, not be held forever.
    private let onSettled: @Sendable ([Ack]) -> Void
    /// How long calls that could not be sent are tried again in one outage (``WorkerOptions/unsentAcknowledgementRetry``).
    private let unsentRetry: Duration
    /// This worker's consumer name: a call sent again acknowledges only the entries still pending to it.
    private let consumer: String
    /// Set by "stop now": a call Redis did not take is not tried again.
    private let cutoff: RetryCutoff
    /// Told of a call refused for want of writes and of one landing after, each of its queue: that queue's fetch pauses
    /// meanwhile (``WriteRefusals``).
    private let writeRefusals: WriteRefusals?
    /// The time a queue's acknowledgements are counted at (the day's, the hour's and the minute's counters): Redis's
    /// clock as near as the worker knows it (``ClockLead``), as its burials and retries are counted. On the host's, a
    /// worker minutes ahead counted its successes in minutes (and near midnight a day) its deaths were not.
    private let clock: @Sendable (_ queue: String) -> Date

    init(
        jobs: JobQueue, logger: Logger, consumer: String = "", unsentRetry: Duration = .seconds(30), cutoff: RetryCutoff = RetryCutoff(),
        writeRefusals: WriteRefusals? = nil, clock: @escaping @Sendable (_ queue: String) -> Date = { _ in Date() },
        onSettled: @escaping @Sendable ([Ack]) -> Void
    ) {
        self.jobs = jobs
        self.cutoff = cutoff
        self.writeRefusals = writeRefusals
        self.clock = clock
        self.logger = logger
        self.consumer = consumer
        self.unsentRetry = unsentRetry
        self.onSettled = onSettled
    }

    /// Acks not yet taken into a batch (for tests).
    var pendingCount: Int { state.withLock { $0.pending.count } }

    /// Queues an acknowledgement; sends a batch now unless one is already on its way.
    func add(_ ack: Ack) {
        let start = state.withLock { state -> Bool in
            state.pending.append(ack)
            if state.flushing { return false }
            state.flushing = true
            return true
        }
        // Started on this thread: the batch is built here at once and only the wait for Redis leaves it, instead
        // of the whole loop waiting for a turn in the thread pool.
        if start { Task.immediate { await self.flushLoop() } }
    }

    /// Returns when nothing is pending or in flight.
    func drain() async {
        await withCheckedContinuation { continuation in
            let idle = state.withLock { state -> Bool in
                if !state.flushing && state.pending.isEmpty { return true }
                state.idleWaiters.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
    }

    private func flushLoop() async {
        while true {
            let (batch, waiters) = state.withLock { state -> ([Ack], [CheckedContinuation<Void, Never>]) in
                if let queue = state.pending.first?.queue {
                    return (Self.take(queue, from: &state.pending), [])
                }
                // Nothing left: stop, under the lock, so the next add() starts a new loop.
                state.flushing = false
                let waiters = state.idleWaiters
                state.idleWaiters = []
                return ([], waiters)
            }
            if batch.isEmpty {
                for waiter in waiters { waiter.resume() }
                return
            }
            await send(batch)
            onSettled(batch)
        }
    }

    /// The acknowledgements of `queue`, removed from `pending` (the others keep their order).
    private static func take(_ queue: String, from pending: inout [Ack]) -> [Ack] {
        // One queue waiting (one queue served, or a lone job): taken whole, nothing split.
        if pending.allSatisfy({ $0.queue == queue }) {
            let taken = pending
            pending = []
            return taken
        }
        // Several queues waiting (the usual case under load): one pass splits them.
        var taken: [Ack] = []
        var rest: [Ack] = []
        rest.reserveCapacity(pending.count)
        for ack in pending {
            if ack.queue == queue { taken.append(ack) } else { rest.append(ack) }
        }
        pending = rest
        return taken
    }

    /// Sends a batch, all of one queue (``flushLoop()`` takes one queue a flight).
    private func send(_ batch: [Ack]) async {
        guard let queue = batch.first?.queue else { return }
        await send(batch, queue: queue, at: clock(queue))
    }

    /// One queue's acknowledgements, one script call per counter (`processed`, `discarded`, `deferred`).
    private func send(_ acks: [Ack], queue: String, at now: Date) async {
        let first = acks[0].counter
        // The usual batch has one counter: sent as it is, without a dictionary built for it.
        if acks.allSatisfy({ $0.counter == first }) {
            await send(acks, queue: queue, counter: first, at: now)
            return
        }
        for (counter, selected) in Dictionary(grouping: acks, by: \.counter) {
            await send(selected, queue: queue, counter: counter, at: now)
        }
    }

    /// `selected`, all of `queue` and `counter`, in script calls of at most ``JobStore/acknowledgementsACall`` jobs
    /// (one, under load).
    private func send(_ selected: [Ack], queue: String, counter: String, at now: Date) async {
        let most = JobStore.acknowledgementsACall
        if selected.count <= most {
            await sendCall(selected, queue: queue, counter: counter, at: now)
            return
        }
        for start in stride(from: 0, to: selected.count, by: most) {
            await sendCall(Array(selected[start..<min(selected.count, start + most)]), queue: queue, counter: counter, at: now)
        }
    }

    /// One script call, its history records sent before it (decision 0062); then the history's upkeep when it calls
    /// for one.
    ///
    /// A call that was not run (Redis unreachable: `connectionFailed`, nothing written; or `LOADING`, a restarting
    /// server) is tried again, backing off from a quarter of a second to two, until ``State/retryUntil`` (decision 0098),
    /// while the jobs' leases stay held (they are released after the flight): when Redis is back, renewal lands within a
    /// fifth of the lease and recovery's stall allowance (decision 0032) keeps other workers off the entries meanwhile.
    /// Each try after the first, and every call for a while after such a failure (the flights queued behind it), first
    /// keeps only the entries still pending to this worker: cut off from Redis while other workers were not, its leases
    /// lapsed for them, and an entry another worker took is that worker's to settle.
    /// A call whose outcome is unknown (the connection lost after it was sent, a timeout) is not tried again: the script
    /// counts and records what it acknowledges, and a second run would do it twice.
    private func sendCall(_ selected: [Ack], queue: String, counter: String, at now: Date) async {
        let clock = ContinuousClock()
        var acks = selected
        var pause = Duration.milliseconds(250)
        var again = false
        // The longest failed try: another is made only if it could take as long and end by the deadline (UnsentRetry).
        var longestTry = Duration.zero
        let afterOutage = state.withLock { state in state.lastNotRun.map { clock.now - $0 < unsentRetry * 2 } ?? false }
        while true {
            // When this try began: a try can take long to fail (a connect waiting out its timeout, a cluster slot its
            // failover window), and the gap that ends an outage is counted from the last failure to the next try.
            let tryStarted = clock.now
            do {
                if again || afterOutage {
                    let pending = try await jobs.store.entriesPending(to: consumer, queue: queue, among: acks.map(\.entryID))
                    let taken = acks.count - pending.count
                    acks = acks.filter { pending.contains($0.entryID) }
                    if taken > 0 {
                        logger.warning(
                            "\(taken) finished jobs were taken by another worker while Redis was unreachable from here; they run again there",
                            metadata: ["queue": "\(queue)"])
                    }
                    if acks.isEmpty { return }
                }
                try await sendCallOnce(acks, queue: queue, counter: counter, at: now)
                let retried = state.withLock { state -> Bool in
                    defer { state.retryUntil = nil }
                    return state.retryUntil != nil
                }
                if again { writeRefusals?.landed(queue: queue) }
                if again || retried { logger.notice("acknowledged \(acks.count) jobs once Redis answered again", metadata: ["queue": "\(queue)"]) }
                return
            } catch let error as RedisError where Self.notRun(error) {
                longestTry = max(longestTry, clock.now - tryStarted)
                if error.refusesWrites { writeRefusals?.refused(error, queue: queue) }
                let deadline = state.withLock { state -> ContinuousClock.Instant in
                    let now = clock.now
                    if let until = state.retryUntil, until <= now, let last = state.lastNotRun, tryStarted - last > Self.outageGap {
                        state.retryUntil = nil
                    }
                    state.lastNotRun = now
                    if state.retryUntil == nil { state.retryUntil = now + unsentRetry }
                    return state.retryUntil!
                }
                guard UnsentRetry.leavesTime(now: clock.now, pause: pause, longestTry: longestTry, deadline: deadline), !cutoff.isCut else {
                    report(error, count: acks.count, queue: queue)
                    return
                }
                if !again {
                    logger.warning(
                        "\(Self.whyNotRun(error)): acknowledging \(acks.count) finished jobs did not run; trying again for up to \(unsentRetry)",
                        metadata: ["queue": "\(queue)", "error": "\(error.operatorLine)"])
                    again = true
                }
                try? await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(2))
            } catch {
                report(error, count: acks.count, queue: queue)
                return
            }
        }
    }

    /// How long with no call failing unsent ends an outage, for ``State/retryUntil``, counted from the last failure to
    /// the start of the next try: longer than the longest pause between two tries of one call (2 s), so the flights of
    /// one outage share its deadline however long each try takes to fail.
    static let outageGap: Duration = .seconds(3)

    /// Whether a failed call is known not to have run: no connection (nothing was written), a server still loading
    /// its data after a restart (it runs nothing until then), or a cluster's refusal left in place once the router's
    /// window for it ran out: `TRYAGAIN` (the queue's slot migrating, and a key the script declares not there yet: a
    /// history list, a notified job's answer), `CLUSTERDOWN` (an election), `MOVED`/`ASK` past the redirect limit.
    /// A migration longer than the router's 3 s gave the acknowledgement up, and every job finished meanwhile ran
    /// again after its lease.
    ///
    /// And a refused write (``RedisError/refusesWrites``: `OOM` at `maxmemory`, `NOREPLICAS`, `MISCONF`, `READONLY`):
    /// Redis raises these before a script's first write (``refusedBeforeAnyWrite(_:)``), so nothing ran. Given up at
    /// once, a retry or burial left its job to the lease, which brought it back as a lost worker's delivery: run again
    /// without its backoff, and buried as a poison pill after two such windows; an acknowledgement ran a finished job
    /// again (decision 0098, amended in session 61).
    static func notRun(_ error: RedisError) -> Bool {
        guard error.code == .server || error.code == .connectionFailed else { return false }
        if error.code == .connectionFailed { return true }
        return error.isMomentaryRefusal || error.refusesWrites || ["MOVED ", "ASK "].contains { error.message.hasPrefix($0) }
    }

    /// Why a call ``notRun(_:)`` did not run, in the log's words: a slot migrating (`TRYAGAIN`) was logged as "Redis is
    /// unreachable", and sent operators looking for an outage.
    static func whyNotRun(_ error: RedisError) -> String {
        if error.code == .connectionFailed { return "Redis is unreachable" }
        let word = error.message.prefix { $0 != " " }
        switch word {
        case "LOADING": return "Redis is loading its data after a restart (LOADING)"
        case "TRYAGAIN": return "the queue's cluster slot is migrating (TRYAGAIN)"
        case "CLUSTERDOWN": return "the cluster is down, most likely while it elects a primary (CLUSTERDOWN)"
        case "MASTERDOWN": return "the node is a replica that lost its primary (MASTERDOWN)"
        case "MOVED", "ASK": return "the queue's cluster slot kept moving (\(word))"
        case "NOREPLICAS": return "Redis refuses writes: too few replicas connected (NOREPLICAS, min-replicas-to-write)"
        case "OOM": return "Redis refuses writes: it is at maxmemory (OOM)"
        case "MISCONF": return "Redis refuses writes: its last save failed (MISCONF)"
        case "READONLY": return "the node is a replica now (READONLY)"
        default: return "Redis refused it for now (\(word))"
        }
    }

    /// One try of ``sendCall(_:queue:counter:at:)``.
    private func sendCallOnce(_ selected: [Ack], queue: String, counter: String, at now: Date) async throws {
        if let upkeep = try await jobs.store.acknowledge(selected, queue: queue, counter: counter, at: now, consumer: consumer) {
            await keepHistory(upkeep)
        }
    }

    /// The log line for an acknowledgement that failed, by what is known of its outcome.
    private func report(_ error: any Error, count: Int, queue: String) {
        let redisError = error as? RedisError
        if error is JobStore.HistoryRecordsNotWritten {
            logger.error(
                "acknowledged \(count) jobs, but their job history records were refused; they are missing from history",
                metadata: ["queue": "\(queue)", "error": "\(error)"])
        } else if let redisError, redisError.code == .notReplicated {
            // The acknowledgement ran on the primary: the jobs are done there. Only the replicas'
            // confirmation (REDIS_WAIT_REPLICAS) is missing; a failover before they have it brings
            // the deliveries back and the jobs run again after their lease (at least once).
            logger.warning(
                "acknowledged \(count) jobs on the primary, but too few replicas confirmed it; if the primary fails over now they run again after their lease",
                metadata: ["queue": "\(queue)", "error": "\(error)"])
        } else if let redisError, redisError.message.contains("@user_script") && !Self.refusedBeforeAnyWrite(redisError.message) {
            // Redis refused a command inside the script (a key of another type, an ACL; such errors name the script's
            // line): a script stops there without undoing what ran, and the acknowledgement runs first. Saying they
            // run again would send operators looking for runs that never come.
            logger.error(
                "Redis refused part of acknowledging \(count) jobs: they are most likely acknowledged, but what follows in the same script (unique keys, answers, history, counters) may be missing",
                metadata: ["queue": "\(queue)", "error": "\(error)"])
        } else {
            // The jobs stay delivered-but-unacknowledged: after their lease another worker
            // runs them again. At-least-once is kept; the error is worth a log line.
            logger.error("acknowledging \(count) jobs failed; they will run again after their lease", metadata: ["queue": "\(queue)", "error": "\(error)"])
        }
    }

    /// Whether a script error is one Redis raises only before the script's first write (`NOREPLICAS` under
    /// `min-replicas-to-write`, `READONLY` on a replica, `MISCONF` after a failed save, `OOM` at `maxmemory`, `MASTERDOWN`):
    /// for a script without flags it checks these at its first write command and lets the later ones through. Such an
    /// error names the script's line too, but nothing was acknowledged: the jobs run again after their lease.
    static func refusedBeforeAnyWrite(_ message: String) -> Bool {
        RedisError.refusesWrites(message) || message.hasPrefix("MASTERDOWN ")
    }

    /// The history's upkeep after an acknowledgement (``JobStore/keepHistory(_:)``): the jobs are acknowledged
    /// whatever becomes of it.
    private func keepHistory(_ upkeep: JobStore.HistoryUpkeep) async {
        do {
            try await jobs.store.keepHistory(upkeep)
        } catch {
            logger.warning(
                "trimming job history by age failed, or checking for jobs that finished again; the next minute's first settle trims it, and such a job may be listed twice until its older entry is trimmed",
                metadata: ["queue": "\(upkeep.queue)", "error": "\(error)"])
        }
    }
}
