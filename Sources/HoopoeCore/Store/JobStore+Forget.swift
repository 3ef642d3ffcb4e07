import Redis

/// Forgetting a retired queue (``JobQueue/forget(queue:force:)``): every key of it removed, then its name from the keys
/// shared by all queues.
extension JobStore {
    static let forgetScript = RedisScript(name: "forget", embedded: PackageResources.forget_lua)

    /// How many of the keys a scan found go into the script beside the queue's fixed ones; the rest are unlinked after
    /// it, in commands of this many keys. A queue rarely has more (its counters, a few locks); one with a hundred
    /// thousand unique locks would make one script's command of megabytes, run while Redis waits.
    static let forgetPage = 1000

    /// What ``forget(queue:force:)`` found and did.
    package struct Forgetting: Sendable, Equatable {
        /// False when the queue held jobs and `force` was not given: nothing was removed.
        package var forgotten: Bool
        /// The jobs the queue held when the script counted them (removed with it when ``forgotten``).
        package var holdings: QueueHoldings
        /// Keys of the queue removed.
        package var keys: Int
        /// Entries of the queue's name removed from the shared keys (known queues, the last scan's, paused, unserved).
        package var names: Int
    }

    /// Removes every key of `queue` (`<ns>:{<queue>}:…`) when it holds no job — none ready, in flight, scheduled or
    /// dead — or with `force` whatever it holds; then its name from ``GlobalKeys/queues``,
    /// ``GlobalKeys/scannedQueues``, ``GlobalKeys/paused`` and ``GlobalKeys/unservedQueues``.
    ///
    /// The keys are found by a `SCAN` of `<ns>:{<queue>}:*` (the name's glob characters escaped) on every primary: a
    /// queue's keys carry dynamic parts (each day's counters, unique locks, answers, the scheduler's last ticks of the
    /// tasks sending to it), so no list of names holds them all. Those that make a queue show — its stream (and with it
    /// the workers' group), scheduled set, dead set and job history — are always in the one script that counts what the
    /// queue holds and removes them, so a queue is either whole or gone from `hoopoe queues`, the dashboard and the
    /// health check, and a job enqueued or buried meanwhile is counted, never dropped unsaid. Beyond ``forgetPage``
    /// further keys, the rest go after the script (none of them makes a queue show; a forget run again finds any left).
    ///
    /// The shared keys are in other Redis Cluster slots than the queue's, so they are changed after its script, each
    /// command on its own: a forget refused leaves them (the pause stays), and one cut short between the two is finished
    /// by running it again.
    func forget(queue: String, force: Bool) async throws -> Forgetting {
        try await forget(queue: queue, force: force, found: try await forgetScan(queue: queue))
    }

    /// The first step of ``forget(queue:force:)``: every key of `queue` a `SCAN` finds now. Apart from the second so a
    /// test can enqueue between the two.
    package func forgetScan(queue: String) async throws -> Set<String> { try await scanKeys(of: queue) }

    /// The second step of ``forget(queue:force:)``: the script over `found` (``forgetScan(queue:)``'s keys), the rest of
    /// them, any lock of a job it removed that the scan did not find, and the queue's name from the shared keys.
    ///
    /// A job enqueued between the scan and the script is counted and removed with the stream (or scheduled set), but
    /// its unique lock and once key are new keys the scan did not list: left, they refused that job enqueued again as a
    /// duplicate of one no longer anywhere, for up to its `unique_for` (a day by default) or `once_for`. A lock cannot be
    /// found from its job in the script (the once key is not in the envelope, and reading every envelope of a forced
    /// backlog would hold Redis for seconds), so when the script removed jobs the queue's keys are scanned again, and
    /// those the first scan did not find go through the script once more, unforced: it removes them while the queue
    /// holds no job (they are then the locks of jobs removed, or keys of nothing), and keeps them when a job arrived
    /// after the first script (the queue stands again, and they may be its lock: a forget run again takes them then).
    package func forget(queue: String, force: Bool, found: Set<String>) async throws -> Forgetting {
        let k = keys(queue)
        let counted = [k.stream, k.scheduled, k.dead, k.scheduledJobs, k.deadJobs]
        let fixed = counted + [k.historyIDs, k.legacyHistory, k.historyJobs]
        let outcome = try await removeKeys(fixed: fixed, others: found.subtracting(fixed).sorted(), force: force)
        guard outcome.forgotten else { return outcome }
        var removed = outcome.keys
        // Only removed jobs can have left a lock: forgotten holding none, no job came between the scan and the script.
        if outcome.holdings.total > 0 {
            let arrived = try await scanKeys(of: queue).subtracting(found).subtracting(fixed).sorted()
            if !arrived.isEmpty { removed += try await removeKeys(fixed: counted, others: arrived, force: false).keys }
        }
        let g = global
        let commands = [
            RedisCommand("SREM", g.queues, queue), RedisCommand("SREM", g.scannedQueues, queue), RedisCommand("HDEL", g.paused, queue),
            RedisCommand("HDEL", g.unservedQueues, queue),
        ]
        let replies = try await redis.pipeline(commands, durable: true)
        for (reply, command) in zip(replies, commands) {
            if let message = reply.errorMessage { throw RedisError.reply(message, endpoint: endpoint, command: command.name) }
        }
        return Forgetting(forgotten: true, holdings: outcome.holdings, keys: removed, names: replies.reduce(0) { $0 + ($1.int ?? 0) })
    }

    /// Runs ``forgetScript`` over `fixed` and the first ``forgetPage`` of `others`, then, when it removed them, unlinks
    /// the rest of `others` a page a command. ``Forgetting/names`` is 0: the shared keys are the caller's.
    ///
    /// The script: KEYS[1] stream · KEYS[2] scheduled · KEYS[3] dead · KEYS[4] scheduled:jobs · KEYS[5] dead:jobs ·
    /// KEYS[6…] the queue's other keys (job history, those the scan found) · ARGV[1] `1` to remove whatever it holds,
    /// else `0` · ARGV[2] the workers' group. Replies {1 removed or 0 refused, ready, in flight, scheduled, dead, keys
    /// removed}; scheduled and dead count the larger of a set and its envelopes' hash (an envelope whose id the set
    /// lacks is a job `hoopoe job show` still finds).
    private func removeKeys(fixed: [String], others: [String], force: Bool) async throws -> Forgetting {
        let reply = try await redis.run(
            Self.forgetScript, keys: fixed + others.prefix(Self.forgetPage), arguments: [force ? "1" : "0", QueueKeys.group], durable: true)
        let numbers = (reply.array ?? []).map { $0.int ?? 0 }
        guard numbers.count == 6 else {
            throw RedisError(.server, endpoint: endpoint, command: "EVALSHA forget", message: "unexpected reply \(reply)")
        }
        let holdings = QueueHoldings(ready: numbers[1], inFlight: numbers[2], scheduled: numbers[3], dead: numbers[4])
        guard numbers[0] == 1 else { return Forgetting(forgotten: false, holdings: holdings, keys: 0, names: 0) }
        var removed = numbers[5]
        var rest = others.dropFirst(Self.forgetPage)
        while !rest.isEmpty {
            let page = rest.prefix(Self.forgetPage)
            rest = rest.dropFirst(page.count)
            removed += try await redis.send(RedisCommand("UNLINK", Array(page)), durable: true).int ?? 0
        }
        return Forgetting(forgotten: true, holdings: holdings, keys: removed, names: 0)
    }

    /// Every key named `<ns>:{<queue>}:…`, by `SCAN … MATCH` on every primary (on a cluster one holds them all: the
    /// queue's slot; the others answer none). The namespace and the name are matched as text: a queue `a*b` or `q[1]`
    /// unescaped would match `a1b`'s keys, or not its own.
    private func scanKeys(of queue: String) async throws -> Set<String> {
        let pattern = GlobPattern.literal(namespace) + ":{" + GlobPattern.literal(queue) + "}:*"
        var found = Set<String>()
        for node in try await redis.primaries() {
            var cursor = "0"
            repeat {
                let reply = try await redis.send([RedisCommand("SCAN", cursor, "MATCH", pattern, "COUNT", "1000")], to: node)[0]
                if let message = reply.errorMessage { throw RedisError.reply(message, endpoint: node.description, command: "SCAN") }
                cursor = reply.array?.first?.string ?? "0"
                for key in reply.array?.last?.array ?? [] {
                    if let key = key.string { found.insert(key) }
                }
            } while cursor != "0"
        }
        return found
    }
}
