import HoopoeCore
import Redis

/// What a page read of each queue, in the queues' order: each queue's value, or why Redis refused to read it.
///
/// Why: a page reads every queue in turn, and one queue whose key holds another type (an operator's `SET` on its
/// stream key, another application's key: `WRONGTYPE`) failed the whole page with "Redis did not answer", whatever
/// the other queues held. As `hoopoe queues` and the health check do, that queue is now named in its row with the
/// reason (``RedisError/operatorLine``, which names its queue and key), and the others are shown. Nothing is asked of
/// Redis to find it: the refusal is the read's own answer.
struct QueueReads<Value> {
    /// The queues read, with what was read, in order.
    var values: [(queue: String, value: Value)] = []
    /// The queues refused, in order.
    var unreadable: [UnreadableQueue] = []

    /// The names of the queues read.
    var readable: [String] { values.map(\.queue) }

    /// Whether `error` is a refusal of one queue's keys a page shows in that queue's row: an error reply about them
    /// (``RedisError/refusesQueueRead``: a key of another type), not a Redis away or not serving yet, and not an ACL's
    /// refusal of a command, which refuses it for every queue alike and is said once for the page (``Dashboard``'s
    /// page, docs/operating.md).
    static func refusesOneQueue(_ error: any Error) -> RedisError? {
        guard let error = error as? RedisError, error.refusesQueueRead, error.code != .permissionDenied else { return nil }
        return error
    }

    /// Reads `read` of each of `queues` in turn; a queue whose keys Redis refuses (``refusesOneQueue(_:)``) is set
    /// aside with the reason, any other failure thrown.
    static func reading(_ queues: [String], _ read: (String) async throws -> Value) async throws -> QueueReads {
        var reads = QueueReads()
        for queue in queues {
            do {
                reads.values.append((queue, try await read(queue)))
            } catch {
                guard let refused = refusesOneQueue(error) else { throw error }
                reads.unreadable.append(UnreadableQueue(queue: queue, problem: refused.operatorLine))
            }
        }
        return reads
    }
}

/// A queue whose keys Redis refused to read for a page, and why, in the words of `hoopoe queues`.
struct UnreadableQueue: Sendable {
    let queue: String
    /// ``RedisError/operatorLine``: the command, the reply, and for a `WRONGTYPE` the queue and its key.
    let problem: String

    /// "cannot be read: …", as `hoopoe queues` and the health check say it.
    var said: String { "cannot be read: \(problem)" }
}

extension Dashboard {
    /// A table row for a queue Redis refused to read: its name cell (``queueNameCell(_:)``) and the reason across the
    /// other `columns` cells.
    static func unreadableRow(_ unreadable: UnreadableQueue, columns: Int) -> HTML {
        """
        <tr class="unreadable-queue" data-queue="\(shownQueueName(unreadable.queue))">\(queueNameCell(unreadable.queue))\
        <td colspan="\(columns)" class="error">\(unreadable.said)</td></tr>
        """
    }

    /// Rows `read` (each with its queue's name) and the unreadable queues' rows, in the queues' name order.
    static func rowsInOrder(_ read: [(queue: String, row: HTML)], _ unreadable: [UnreadableQueue], columns: Int) -> [HTML] {
        let refused = unreadable.map { ($0.queue, unreadableRow($0, columns: columns)) }
        return (read.map { ($0.queue, $0.row) } + refused).sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// A paragraph a queue for the queues Redis refused to read, where a page's rows are jobs, not queues (busy,
    /// search, job): "queue q cannot be read: …".
    static func unreadableNotes(_ unreadable: [UnreadableQueue]) -> HTML {
        HTML.joined(unreadable.map { "<p class=\"error unreadable-queue\">queue \($0.queue) \($0.said)</p>" as HTML })
    }
}
