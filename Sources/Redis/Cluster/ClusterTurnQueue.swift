import Synchronization

/// One cluster node's requests made in the same scheduling turn, handed to its connection as one request.
///
/// Why: a worker's runners each send their own small request (a job's `INCR`, a queue's acknowledgements), one after
/// another as their tasks run. On one Redis they meet in one connection's queue and ride in few writes; spread over
/// three primaries, each node's connection is woken by the first request of a burst and writes it nearly alone, then
/// the rest, so each node reads more often for less (decision 0040: the cluster's extra Redis CPU a job is those
/// wake-ups). Here the first request for a node queues a flush *task* instead of sending: the task runs behind the
/// tasks already waiting for a thread, so the requests they make for this node meanwhile join the same write.
/// Nothing waits on a clock: the flush runs as soon as the tasks ahead of it have had their turn (decision 0045).
///
/// Each caller's commands stay together and in order in the write, so a `MULTI` block or an `ASKING` pair is never
/// split; a transport failure fails every request of the write, as it would fail every request in flight on the
/// connection. One server never gets here: ``RedisClient`` without a cluster sends to its connection directly.
final class ClusterTurnQueue: Sendable {
    /// A caller's place in the next write: how many commands it added, and who to give their replies.
    private struct Waiter {
        let count: Int
        let continuation: UnsafeContinuation<[RedisReply], any Error>
    }

    private struct Pending {
        var commands: [RedisCommand] = []
        var waiters: [Waiter] = []
        /// A flush task is queued: requests join its write.
        var scheduled = false
    }

    /// The node's shared, pipelining connection.
    let connection: RedisConnection
    private let pending = Mutex(Pending())
    private let sent = Atomic<Int>(0)

    init(connection: RedisConnection) {
        self.connection = connection
    }

    /// Requests handed to the connection so far (each flush is one), against the callers' sends.
    var writes: Int { sent.load(ordering: .relaxed) }

    /// Sends `commands` in the node's next write and returns their replies in order.
    /// - Throws: the connection's ``RedisError`` for the whole write.
    func send(_ commands: [RedisCommand]) async throws -> [RedisReply] {
        if commands.isEmpty { return [] }
        return try await withUnsafeThrowingContinuation { continuation in
            let leads = pending.withLock { pending in
                pending.commands.append(contentsOf: commands)
                pending.waiters.append(Waiter(count: commands.count, continuation: continuation))
                defer { pending.scheduled = true }
                return !pending.scheduled
            }
            if leads { Task { await self.flush() } }
        }
    }

    /// Sends everything gathered since the flush was queued as one request, then hands each caller its replies.
    private func flush() async {
        let (commands, waiters) = pending.withLock { pending in
            defer { pending = Pending() }
            return (pending.commands, pending.waiters)
        }
        sent.add(1, ordering: .relaxed)
        do {
            let replies = try await connection.send(commands)
            if waiters.count == 1 { return waiters[0].continuation.resume(returning: replies) }
            var start = 0
            for waiter in waiters {
                waiter.continuation.resume(returning: Array(replies[start..<start + waiter.count]))
                start += waiter.count
            }
        } catch {
            for waiter in waiters { waiter.continuation.resume(throwing: error) }
        }
    }
}
