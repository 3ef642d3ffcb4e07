/// Durable calls (``RedisConfiguration/waitReplicas`` above 0): the `WAIT` sent in the same round trip as the writes,
/// and its verdict, judged only after the commands' own replies were read.
///
/// Why after: an error reply ran nothing, and is that error. Judged first, the verdict hid it: a primary just promoted
/// has no copy of the scripts (Redis does not replicate `SCRIPT LOAD`), and on it every durable `EVALSHA` answered
/// `NOSCRIPT` beside a `WAIT` that counted too few replicas; the call threw `notReplicated` ("the write reached the
/// primary") before the script was loaded and sent again, so acknowledgements that never ran were reported done on the
/// primary and their jobs ran twice. A write the server refused (`NOREPLICAS`) read the same way: "on the primary",
/// though nothing was written. So a call reads each command's reply first: an error is thrown as itself (or, for
/// `NOSCRIPT`, the script is loaded and sent again with its own `WAIT`), and a `WAIT`'s shortfall is thrown only for
/// commands that may have written.
extension RedisClient {
    /// A round trip's replies, the node that answered its last command on a cluster (nil for one server or Sentinel,
    /// whose errors name ``endpointName``), and its `WAIT`s' answers, not yet judged (``judge(_:wrote:)``).
    struct Exchange {
        var replies: [RedisReply]
        var node: RedisConfiguration.Endpoint?
        var replication = Replication()
    }

    /// The `WAIT` answers of one durable round trip, each with the server that gave it and the commands (their
    /// positions in the round trip) whose writes it counts: one for one server; on a cluster one a node; with
    /// Sentinel, after commands a demoted primary refused were sent again, one for those and one for the rest.
    struct Replication {
        struct Answer {
            /// The `WAIT`'s reply; nil when none came for a cluster node that was sent commands.
            let reply: RedisReply?
            /// The server, for the error.
            let endpoint: String
            /// The first command's name, for the error.
            let command: String?
            /// Positions of the commands it counts.
            let covers: [Int]
        }

        private(set) var answers: [Answer] = []

        mutating func add(_ reply: RedisReply?, endpoint: String, command: String?, covers: [Int]) {
            answers.append(Answer(reply: reply, endpoint: endpoint, command: command, covers: covers))
        }

        /// Adds `other`'s answers, its positions moved by `offset` (the round trip's commands before its own).
        mutating func append(_ other: Replication, shiftedBy offset: Int) {
            for answer in other.answers {
                add(answer.reply, endpoint: answer.endpoint, command: answer.command, covers: answer.covers.map { $0 + offset })
            }
        }
    }

    /// The verdict on a durable round trip, once its caller has read the commands' replies: `notReplicated` for the
    /// first `WAIT` that counted too few replicas (or failed, or never came) and counts a command `wrote` says may have
    /// written. A `WAIT` counting only commands that ran nothing (error replies) is not judged: nothing of theirs can
    /// be lost.
    /// - Parameter wrote: whether the command at a position may have written (usually: its reply is no error).
    func judge(_ replication: Replication, wrote: (Int) -> Bool) throws {
        for answer in replication.answers where answer.covers.contains(where: wrote) {
            guard let reply = answer.reply else {
                throw RedisError(
                    .notReplicated, endpoint: answer.endpoint, command: answer.command,
                    message: "the write reached the primary, but no WAIT answered for it: whether replicas have it is not known (REDIS_WAIT_REPLICAS)")
            }
            try checkReplicated(reply, endpoint: answer.endpoint, after: answer.command)
        }
    }

    /// `WAIT n timeout`, blocking up to the timeout (so the read timeout grows by as much).
    var waitCommand: RedisCommand {
        var wait = RedisCommand("WAIT", String(configuration.waitReplicas), String(Int(configuration.waitTimeout.seconds * 1000)))
        wait.blockingSeconds = configuration.waitTimeout.seconds
        return wait
    }

    /// The verdict on a durable write from its `WAIT` reply: `notReplicated` when it counted fewer replicas than asked,
    /// or when it failed (a user without `+wait`, a node just demoted to a replica). The write ran before the `WAIT`
    /// either way, so an error here must never read as "nothing ran" (`outcomeUnknown` false): a caller that retries
    /// such an error would write twice.
    func checkReplicated(_ reply: RedisReply, endpoint: String, after name: String?) throws {
        if let message = reply.errorMessage {
            throw RedisError(
                .notReplicated, endpoint: endpoint, command: name,
                message: "the write reached the primary, but its WAIT failed (\(message)): whether replicas have it is not known (REDIS_WAIT_REPLICAS)")
        }
        let acknowledged = reply.int ?? 0
        guard acknowledged < configuration.waitReplicas else { return }
        throw RedisError(
            .notReplicated, endpoint: endpoint, command: name,
            message: "the write reached the primary, but \(acknowledged) of \(configuration.waitReplicas) replicas acknowledged it within "
                + "\(Int(configuration.waitTimeout.seconds * 1000)) ms (REDIS_WAIT_REPLICAS): a failover now could lose it")
    }
}
