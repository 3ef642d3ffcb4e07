import Logging
import Redis
import Synchronization

/// Renews the lease of every job this worker holds (prefetched, running, awaiting acknowledgement) every fifth of a
/// lease (2 s of the default 10 s), so a live worker keeps its jobs through four missed or late rounds — 8 s without
/// one renewal landing — and a dead one loses them one lease after its last renewal (decision 0032).
///
/// It runs on its own thread (``LeaseThread``) and, but on a cluster, sends on its own connection
/// (``JobStore/makeLeaseConnection()``), so handlers that block every cooperative thread or the shared connections'
/// threads (the runners run there: decision 0072) do not stop it, and
/// from the worker's start until it stopped and its last acknowledgements landed: while draining, running jobs may take
/// the whole shutdown timeout, longer than a lease, and must stay this worker's; after, a flight waiting for a failed
/// cluster primary holds the other queues' acknowledgements, whose jobs must not be recovered and run again meanwhile.
///
/// A renewal renews only deliveries still this worker's consumer's. One another worker took (this worker was
/// unreachable for longer than the lease) is not claimed back: it is released here and named in a warning, as the job
/// may now run twice — unless it had not started: a copy still waiting in the buffer is withdrawn, so it does not run
/// here at all (it ran here anyway, the whole prefetch after a pause). So is one no longer pending (the recovering
/// worker settled it: buried a one-attempt job, say).
struct LeaseRenewal: Sendable {
    let store: JobStore
    let leases: Leases
    let buffer: JobBuffer
    let consumer: String
    let lease: Duration
    let logger: Logger

    /// A fifth of the lease: four rounds may fail or come late before the lease lapses.
    var interval: Duration { lease / 5 }

    /// Renews every ``interval`` until cancelled (when the worker stopped).
    ///
    /// Each queue is renewed on its own: a round starts one renewal a queue and does not wait for them. On a cluster
    /// the queues live on different primaries, and a renewal to one that stopped answering hangs until the cluster's
    /// failover window gives up (20 s, longer than the lease); waited for, it held back the other queues' renewals
    /// too, so their jobs were recovered by other workers and ran twice. A queue whose last renewal has not answered
    /// is skipped until it does.
    func run() async {
        let thread = LeaseThread(name: "hoopoe-lease")
        let connection = store.makeLeaseConnection()
        await withTaskExecutorPreference(thread) {
            let state = RenewalState()
            await withDiscardingTaskGroup { group in
                while !Task.isCancelled {
                    for (queue, ids) in leases.snapshot() where !ids.isEmpty {
                        guard state.pending.withLock({ $0.insert(queue).inserted }) else { continue }
                        group.addTask {
                            defer { state.pending.withLock { _ = $0.remove(queue) } }
                            do {
                                try await renew(queue: queue, ids: ids, on: connection)
                                state.problems.withLock { $0[queue] = nil }
                            } catch {
                                let problem = (error as? RedisError)?.operatorLine ?? "\(error)"
                                let known = state.problems.withLock { $0.updateValue(problem, forKey: queue) == problem }
                                if !known {
                                    logger.warning(
                                        "lease renewal failed; retrying every \(interval) (jobs held here run again elsewhere if it fails for \(lease))",
                                        metadata: ["queue": "\(queue)", "error": "\(problem)"])
                                }
                            }
                        }
                    }
                    await thread.sleep(for: interval)
                }
            }
        }
        connection?.close()
        thread.stop()
    }

    /// Renews one queue's held entries; releases, with a warning, those another worker took, and withdraws those of
    /// them, and of the ones settled elsewhere, still waiting in the buffer.
    private func renew(queue: String, ids: [String], on connection: RedisConnection?) async throws {
        let (taken, gone) = try await store.renewLeases(queue: queue, ids: ids, consumer: consumer, on: connection)
        if !taken.isEmpty {
            let withdrawn = buffer.withdraw(queue: queue, entryIDs: Set(taken))
            let unstarted = taken.filter(withdrawn.contains).count
            leases.release(queue: queue, entryIDs: taken)
            logger.warning(
                "\(taken.count) jobs held here were taken by another worker after their lease lapsed (renewal was late by more than the lease); \(unstarted) of them had not started and will not run here, the others may run twice",
                metadata: ["queue": "\(queue)"])
        }
        // Settled by this worker a moment ago (its lease goes with the settle), or by another that recovered it: a copy
        // still waiting here is the other's case, and must not run.
        // One call for them all (``JobBuffer/withdraw(queue:entryIDs:)``): about one id a job run since the last round.
        if gone.isEmpty { return }
        let withdrawn = buffer.withdraw(queue: queue, entryIDs: Set(gone))
        let settledElsewhere = withdrawn.isEmpty ? [] : gone.filter(withdrawn.contains)
        if !settledElsewhere.isEmpty {
            leases.release(queue: queue, entryIDs: settledElsewhere)
            logger.warning(
                "\(settledElsewhere.count) jobs waiting here were settled by another worker after their lease lapsed; they will not run here",
                metadata: ["queue": "\(queue)"])
        }
    }
}

/// What the renewals of one worker share: the queues whose renewal is awaiting its answer, and the last problem each
/// queue's renewal logged (a problem is logged once, not every round).
private final class RenewalState: Sendable {
    let pending = Mutex<Set<String>>([])
    let problems = Mutex<[String: String]>([:])
}
