import Synchronization

/// The stream entries this worker holds — fetched or recovered, not yet settled — per queue.
///
/// Holding is what keeps a job this worker's: ``LeaseRenewal`` renews every held entry's lease, and an entry whose
/// lease lapses is any worker's to recover. Settling a job releases it (``UnitOfWork`` for one job, ``HandBack``
/// for many, ``Acknowledger`` for a batch once sent), whether the settling command landed or not: a job whose
/// acknowledgement or retry failed must be left to expire and run again, not be held forever.
///
/// Every job is held once and released once, so this is on every job's path: an id is kept as its two numbers
/// in a sorted array (``HeldEntries``), not as text in a `Set<String>`, which hashed each id's bytes on insert, on
/// remove and again for the neighbours a removal moved. Renewal, every few seconds, turns the numbers back into text.
final class Leases: Sendable {
    private let state = Mutex([String: HeldEntries]())

    /// Starts holding `jobs` (one lock for a whole fetch).
    func hold(_ jobs: [FetchedJob]) {
        state.withLock { held in
            // A fetch's jobs come grouped by queue: its set is looked up when the queue changes, not per job.
            var last: (queue: String, index: Dictionary<String, HeldEntries>.Index)?
            for job in jobs {
                let index: Dictionary<String, HeldEntries>.Index
                if let last, last.queue == job.queue {
                    index = last.index
                } else {
                    if held[job.queue] == nil { held[job.queue] = HeldEntries() }
                    index = held.index(forKey: job.queue)!
                }
                held.values[index].insert(job.entryID, held: job.held)
                last = (job.queue, index)
            }
        }
    }

    /// Starts holding those of `jobs` not held yet, and returns them: recovery can claim an entry this worker holds
    /// already (its renewal failing while other calls land), and a second copy of it in the buffer would run the job
    /// again after the first settled.
    func holdNew(_ jobs: [FetchedJob]) -> [FetchedJob] {
        state.withLock { held in
            jobs.filter { job in
                if held[job.queue]?.contains(job.entryID, held: job.held) == true { return false }
                held[job.queue, default: HeldEntries()].insert(job.entryID, held: job.held)
                return true
            }
        }
    }

    /// Stops holding one entry, `held` its id's numbers (``FetchedJob/held``: nil for an id not in Redis's form).
    func release(queue: String, entryID: String, held: HeldEntryID?) {
        state.withLock { $0[queue]?.remove(entryID, held: held) }
    }

    /// Stops holding entries of `queue`.
    func release(queue: String, entryIDs: some Sequence<String>) {
        state.withLock { held in
            for id in entryIDs { held[queue]?.remove(id, held: HeldEntryID(id)) }
        }
    }

    /// Stops holding entries of any queues (one lock for a whole acknowledged batch), their ids' numbers read already.
    func release(_ entries: some Sequence<(queue: String, entryID: String, held: HeldEntryID?)>) {
        state.withLock { held in
            // A batch is nearly always of one queue: its set is looked up when the queue changes, not per entry.
            var last: (queue: String, index: Dictionary<String, HeldEntries>.Index?)?
            for (queue, id, key) in entries {
                let index: Dictionary<String, HeldEntries>.Index?
                if let last, last.queue == queue {
                    index = last.index
                } else {
                    index = held.index(forKey: queue)
                    last = (queue, index)
                }
                if let index { held.values[index].remove(id, held: key) }
            }
        }
    }

    /// Whether `entryID` of `queue` is held (a cancel's holder check, decision 0089).
    func holds(queue: String, entryID: String) -> Bool {
        state.withLock { $0[queue]?.contains(entryID, held: HeldEntryID(entryID)) ?? false }
    }

    /// The entries held now, per queue, as their ids' text.
    func snapshot() -> [(queue: String, entryIDs: [String])] {
        state.withLock { $0.map { ($0.key, $0.value.ids) } }
    }
}

/// One queue's held entries: ids in Redis's own form (``HeldEntryID``) as numbers in ascending order, anything else as
/// text.
///
/// A sorted array, not a hash set: a worker holds at most about `maxPrefetch` plus `concurrency` entries of a queue
/// (100 by default); a fetch's come in ascending order (each is appended), and a release finds its entry in ~7
/// comparisons and closes the gap with one `memmove` of at most a few hundred bytes. Holding and releasing cost ~1,460
/// instructions a job against the `Set<String>`'s ~1,750, of which reading each id's numbers was ~210 twice
/// (callgrind, session 26; since session 27 they are read once, with the fetched job: ``FetchedJob/held``). A
/// `Set<HeldEntryID>` hashed as one word cost more (~2,050): `Set`'s own insert and remove stayed at ~450 each.
struct HeldEntries {
    /// The held numbered ids, ascending, from `head` on: the slots before it are free (see ``remove(_:held:)``).
    private var numbered: [HeldEntryID] = []
    private var head = 0
    /// Ids that are not a canonical `<ms>-<seq>` (never one Redis made; a test's or a hand-written entry's), kept as
    /// given so renewal sends back exactly the text it was handed.
    private var other = Set<String>()

    /// Holds `id`, whose numbers are `held` (``HeldEntryID/init(_:)`` of it: nil for an id not in Redis's form);
    /// holding it again changes nothing.
    mutating func insert(_ id: String, held: HeldEntryID?) {
        guard let key = held else { other.insert(id); return }
        if let last = numbered.last, !(last < key) {
            let index = position(of: key)
            if index == numbered.count || numbered[index] != key { numbered.insert(key, at: index) }
        } else {
            numbered.append(key)
        }
    }

    /// Stops holding `id`, whose numbers are `held`.
    ///
    /// Jobs settle about in the order they were fetched, so the entry released is most often near the front, while the
    /// newer ones (running, and fetched ahead) are behind it: the gap is closed by moving the side before it one slot
    /// on and advancing `head` (a few entries), not the ~100 after it (one `memmove` of ~1.5 KB, ~200 instructions a
    /// job: callgrind, session 64). The free slots go when the set empties, or once they are the larger part.
    mutating func remove(_ id: String, held: HeldEntryID?) {
        guard let key = held else { other.remove(id); return }
        let index = position(of: key)
        guard index < numbered.count, numbered[index] == key else { return }
        if index - head < numbered.count - index {
            var from = index
            while from > head {
                numbered[from] = numbered[from - 1]
                from -= 1
            }
            head += 1
            if head == numbered.count {
                numbered.removeAll(keepingCapacity: true)
                head = 0
            } else if head >= 32, head * 2 >= numbered.count {
                numbered.removeFirst(head)
                head = 0
            }
        } else {
            numbered.remove(at: index)
        }
    }

    /// Whether `id`, whose numbers are `held`, is held.
    func contains(_ id: String, held: HeldEntryID?) -> Bool {
        guard let key = held else { return other.contains(id) }
        let index = position(of: key)
        return index < numbered.count && numbered[index] == key
    }

    /// Every held id as text, as it was inserted.
    var ids: [String] {
        var ids = numbered[head...].map(\.text)
        ids.append(contentsOf: other)
        return ids
    }

    /// The first index at or after `head` whose id is not below `key` (binary search).
    private func position(of key: HeldEntryID) -> Int {
        var low = head
        var high = numbered.count
        while low < high {
            let middle = (low + high) / 2
            if numbered[middle] < key { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

/// A held stream entry id in the form Redis writes, as its two numbers (``StreamEntryID/canonical(_:)``), ordered as
/// Redis orders them. Only that form is read, so ``text`` gives back the very text it came from.
struct HeldEntryID: Comparable {
    let ms: UInt64
    let seq: UInt64

    init?(_ id: String) {
        guard let (ms, seq) = StreamEntryID.canonical(id) else { return nil }
        (self.ms, self.seq) = (ms, seq)
    }

    var text: String { "\(ms)-\(seq)" }

    static func < (a: Self, b: Self) -> Bool { a.ms < b.ms || (a.ms == b.ms && a.seq < b.seq) }
}
