import Logging
import Redis

/// Renews the lease of every job this worker holds (prefetched, running, awaiting acknowledgement) every fifth of a
/// lease (2 s of the default 10 s), so a live worker keeps its jobs through four missed or late rounds — 8 s without
/// one renewal landing — and a dead one loses them one lease after its last renewal (decision 0032).
///
/// It runs on its own thread (``LeaseThread``) and, but on a cluster, sends on its own connection
/// (``JobStore/makeLeaseConnection()``), so handlers that block every cooperative thread or the shared connections'
/// threads (the runners run there: decision 0072) do not stop it, and
/// from the worker's start until it stopped: while draining, running jobs may take the whole shutdown timeout, longer
/// than a lease, and must stay this worker's.
///
/// A renewal renews only deliveries still this worker's consumer's. One another worker took (this worker was
/// unreachable for longer than the lease) is not claimed back: it is released here and named in a warning, as the job
/// may now run twice.
struct LeaseRenewal: Sendable {
    let store: JobStore
    let leases: Leases
    let consumer: String
    let lease: Duration
    let logger: Logger

    /// A fifth of the lease: four rounds may fail or come late before the lease lapses.
    var interval: Duration { lease / 5 }

    /// Renews every ``interval`` until cancelled (when the worker stopped).
    func run() async {
        let thread = LeaseThread(name: "hoopoe-lease")
        let connection = store.makeLeaseConnection()
        await withTaskExecutorPreference(thread) {
            var lastProblem: String?
            while !Task.isCancelled {
                do {
                    try await round(on: connection)
                    lastProblem = nil
                } catch {
                    let problem = (error as? RedisError)?.operatorLine ?? "\(error)"
                    if problem != lastProblem {
                        logger.warning("lease renewal failed; retrying every \(interval) (jobs held here run again elsewhere if it fails for \(lease))", metadata: ["error": "\(problem)"])
                    }
                    lastProblem = problem
                }
                await thread.sleep(for: interval)
            }
        }
        connection?.close()
        thread.stop()
    }

    /// One round: every held entry of every queue, one call per queue, on `connection` (nil: the pool).
    func round(on connection: RedisConnection? = nil) async throws {
        for (queue, ids) in leases.snapshot() where !ids.isEmpty {
            let taken = try await store.renewLeases(queue: queue, ids: ids, consumer: consumer, on: connection)
            if taken.isEmpty { continue }
            leases.release(queue: queue, entryIDs: taken)
            logger.warning(
                "\(taken.count) jobs held here were taken by another worker after their lease lapsed (renewal was late by more than the lease); they may run twice",
                metadata: ["queue": "\(queue)"])
        }
    }
}
