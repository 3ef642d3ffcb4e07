import Synchronization

/// The stream entries this worker holds — fetched or recovered, not yet settled — per queue.
///
/// Holding is what keeps a job this worker's: ``LeaseRenewal`` renews every held entry's lease, and an entry whose
/// lease lapses is any worker's to recover. Settling a job releases it (``UnitOfWork`` for one job, ``HandBack``
/// for many, ``Acknowledger`` for a batch once sent), whether the settling command landed or not: a job whose
/// acknowledgement or retry failed must be left to expire and run again, not be held forever.
final class Leases: Sendable {
    private let state = Mutex([String: Set<String>]())

    /// Starts holding `jobs` (one lock for a whole fetch).
    func hold(_ jobs: [FetchedJob]) {
        state.withLock { held in
            // A fetch's jobs come grouped by queue: its set is looked up when the queue changes, not per job.
            var last: (queue: String, index: Dictionary<String, Set<String>>.Index)?
            for job in jobs {
                let index: Dictionary<String, Set<String>>.Index
                if let last, last.queue == job.queue {
                    index = last.index
                } else {
                    if held[job.queue] == nil { held[job.queue] = [] }
                    index = held.index(forKey: job.queue)!
                }
                held.values[index].insert(job.entryID)
                last = (job.queue, index)
            }
        }
    }

    /// Stops holding one entry.
    func release(queue: String, entryID: String) {
        _ = state.withLock { $0[queue]?.remove(entryID) }
    }

    /// Stops holding entries of `queue`.
    func release(queue: String, entryIDs: some Sequence<String>) {
        state.withLock { held in
            for id in entryIDs { held[queue]?.remove(id) }
        }
    }

    /// Stops holding entries of any queues (one lock for a whole acknowledged batch).
    func release(_ entries: some Sequence<(queue: String, entryID: String)>) {
        state.withLock { held in
            // A batch is nearly always of one queue: its set is looked up when the queue changes, not per entry.
            var last: (queue: String, index: Dictionary<String, Set<String>>.Index?)?
            for (queue, id) in entries {
                let index: Dictionary<String, Set<String>>.Index?
                if let last, last.queue == queue {
                    index = last.index
                } else {
                    index = held.index(forKey: queue)
                    last = (queue, index)
                }
                if let index { held.values[index].remove(id) }
            }
        }
    }

    /// The entries held now, per queue.
    func snapshot() -> [(queue: String, entryIDs: [String])] {
        state.withLock { $0.map { ($0.key, Array($0.value)) } }
    }
}
