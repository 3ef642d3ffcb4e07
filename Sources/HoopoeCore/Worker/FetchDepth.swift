/// How many fetched jobs one fetch loop keeps waiting for a runner, as the last fetches went: the worker's `prefetch`,
/// or its `maxPrefetch` while the runners outpace the fetches on a queue with more waiting (decision 0069).
///
/// The buffer is refilled once it is half empty, up to the depth. A fetch takes a round trip, and jobs are taken from
/// the buffer meanwhile. When jobs are short, the runners empty a buffer of `prefetch` before the fetch's reply comes.
/// They then wait for it, so fewer jobs share each round trip of the worker's shared connection. On the peers' job,
/// at the peers' concurrency of 20, one take in six waited for a fetch this way.
///
/// Going deeper only when that happens keeps the shallow depth for slow jobs. For slow jobs a deep buffer would only
/// hold jobs back from other workers: their runners never empty the buffer of `prefetch`.
///
/// The rule, after each fetch (a fetch of several queues counted by its largest share: `XREADGROUP`'s `COUNT` applies
/// to each stream, so only a queue that gave all that was asked had more waiting):
/// - it brought fewer jobs than it asked for (the queue has run short, or the blocking read timed out): back to
///   `prefetch`;
/// - it and the fetch before it both brought all they asked for, and the buffer was empty when it came back: to
///   `maxPrefetch`. The first fetch of a backlog finds the buffer empty too, which is why two full fetches are asked
///   for: a loop on slow jobs fetches again while its buffer still holds half its jobs.
struct FetchDepth {
    /// The depth the loop keeps normally: the worker's `prefetch`.
    let shallow: Int
    /// The depth while the runners outpace the fetches: the worker's `maxPrefetch` (never below `shallow`).
    let deep: Int
    /// The depth now.
    private(set) var current: Int
    /// Whether the runners are working through a backlog: the loop fetches at `deep`, or, when its depth is fixed
    /// (`deep` is `shallow`), its last two fetches brought all they asked for. The worker's runners run on the shared
    /// connections' threads while it is true (``RunnerPlacement``, decision 0076).
    private(set) var backlog = false
    private var lastWasFull = false

    init(prefetch: Int, maxPrefetch: Int) {
        shallow = max(1, prefetch)
        deep = max(shallow, maxPrefetch)
        current = shallow
    }

    /// A fetch starts once the buffer holds fewer jobs than this: once it is half empty.
    var refillBelow: Int { current / 2 + 1 }

    /// How many jobs to fetch into a buffer holding `held`.
    func wanted(holding held: Int) -> Int { max(1, current - held) }

    /// Records a fetch that asked each queue for `wanted` jobs and brought `jobs` (grouped by queue, as a read returns
    /// them), into a buffer that was empty (or not) when its reply came.
    mutating func record(_ jobs: [FetchedJob], wanted: Int, bufferWasEmpty: Bool) {
        var largest = 0
        var run = 0
        var queue: String?
        for job in jobs {
            if job.queue == queue {
                run += 1
            } else {
                queue = job.queue
                run = 1
            }
            largest = max(largest, run)
        }
        record(fetched: largest, wanted: wanted, bufferWasEmpty: bufferWasEmpty)
    }

    /// Records a fetch whose largest share of one queue was `fetched` jobs, of `wanted` asked of each.
    mutating func record(fetched: Int, wanted: Int, bufferWasEmpty: Bool) {
        let full = fetched >= wanted
        if !full {
            current = shallow
        } else if lastWasFull && bufferWasEmpty {
            current = deep
        }
        backlog = current > shallow || (deep == shallow && full && lastWasFull)
        lastWasFull = full
    }
}
