import Redis

extension JobStore {
    /// Creates each queue's consumer group (from the stream's start, so jobs enqueued before any worker existed
    /// are served) and records the queue names in ``GlobalKeys/queues``. One round trip (on a cluster, one per
    /// node at once: each command has one key); a group that exists already is fine. An error names the command
    /// that failed (`XGROUP CREATE` or `SADD`), and a `WRONGTYPE` the queue and its key: Redis's reply names neither,
    /// and with several queues an operator could not tell which key to mend. Every other queue's group is created
    /// whatever one queue's fails (the commands go in one pipeline).
    func createGroups(queues: [String]) async throws {
        var commands = queues.map { RedisCommand("XGROUP", "CREATE", keys($0).stream, QueueKeys.group, "0", "MKSTREAM") }
        commands.append(RedisCommand("SADD", [global.queues] + queues))
        for (index, (reply, command)) in zip(try await redis.pipeline(commands), commands).enumerated() {
            if let message = reply.errorMessage, !message.hasPrefix("BUSYGROUP") {
                let named =
                    index < queues.count && message.hasPrefix("WRONGTYPE")
                    ? Self.wrongType(message, queue: queues[index], key: keys(queues[index]).stream) : message
                throw RedisError.reply(named, endpoint: endpoint, command: command.name == "XGROUP" ? "XGROUP CREATE" : command.name)
            }
        }
    }

    /// A `WRONGTYPE` reply with the queue and the key it is about: Redis names neither.
    static func wrongType(_ message: String, queue: String, key: String) -> String {
        "\(message) (queue \(queue): key \(key))"
    }

    /// A queue whose stream key holds another type than a stream (`SET hoopoe:{q}:stream …` by hand or by another
    /// application): `XREADGROUP` over every served queue at once is refused whole (`WRONGTYPE`), naming no key.
    struct WrongTypedStream: Sendable, Equatable {
        let queue: String
        /// The stream's key.
        let key: String
        /// What it holds instead (`TYPE`: `string`, `hash`, ...).
        let type: String
    }

    /// Those of `queues` whose stream key holds neither a stream nor nothing: one `TYPE` a queue, in one round trip
    /// (on a cluster, one per node). Called only after a `WRONGTYPE`, never on a fetch's way.
    func wrongTypedStreams(queues: [String]) async throws -> [WrongTypedStream] {
        let streams = queues.map { keys($0).stream }
        let replies = try await redis.pipeline(streams.map { RedisCommand("TYPE", $0) })
        var found: [WrongTypedStream] = []
        for (index, reply) in replies.enumerated() {
            if let message = reply.errorMessage { throw RedisError.reply(message, endpoint: endpoint, command: "TYPE") }
            let type = reply.string ?? ""
            if type != "stream" && type != "none" { found.append(WrongTypedStream(queue: queues[index], key: streams[index], type: type)) }
        }
        return found
    }

    /// Whether `error` is Redis's `WRONGTYPE` reply.
    static func isWrongType(_ error: any Error) -> Bool {
        guard let error = error as? RedisError else { return false }
        return error.code == .server && error.message.hasPrefix("WRONGTYPE")
    }

    /// A connection of its own for the blocking fetch (a blocked read would stall every command queued behind
    /// it on a shared one). The caller closes it.
    func makeFetchConnection() -> RedisConnection { redis.makeDedicatedConnection(name: "hoopoe-fetch", learnsClientID: true) }

    /// On a cluster: a fetch connection to the node that serves `queue`'s stream now (each queue is read on its
    /// own there: one `XREADGROUP` over streams in different slots is refused with `CROSSSLOT`).
    func makeFetchConnection(queue: String) async throws -> RedisConnection {
        try await redis.makeDedicatedConnection(forKey: keys(queue).stream, name: "hoopoe-fetch-\(queue)", learnsClientID: true)
    }

    /// Wakes a fetch blocked on the connection with this `CLIENT ID` on `node` now, instead of after its block
    /// time. (`node` matters on a cluster only: a client id is one node's.)
    func unblock(clientID: String, on node: RedisConfiguration.Endpoint) async {
        _ = try? await redis.send([RedisCommand("CLIENT", "UNBLOCK", clientID)], to: node)
    }

    /// Takes up to `count` new jobs for `consumer`, from the queues' streams in the order given, waiting up to
    /// `block` for the first: one `XREADGROUP` on the fetch connection. A missing group (the stream was deleted)
    /// is created again before the error is thrown, so the next fetch works.
    func fetch(on connection: RedisConnection, consumer: String, count: Int, block: Duration, queues: [String]) async throws -> [FetchedJob] {
        var command = RedisCommand("XREADGROUP", "GROUP", QueueKeys.group, consumer, "COUNT", String(count))
        command.append("BLOCK")
        command.append(String(Int(block.seconds * 1000)))
        command.append("STREAMS")
        command.append(contentsOf: queues.map { keys($0).stream })
        command.append(contentsOf: queues.map { _ in ">" })
        command.blockingSeconds = block.seconds
        do {
            // The reply becomes jobs on the connection's thread, read in place: no RedisReply copy of each entry
            // (five allocations an entry, freed on another thread) for the two values a job needs.
            return try await connection.send(command) { Self.parseStreams($0, deliveries: 1) }
        } catch let error as RedisError where error.code == .server || error.code == .permissionDenied {
            if error.message.hasPrefix("NOGROUP") { try await createGroups(queues: queues) }
            if error.message.hasPrefix("MOVED") { redis.noteRedirection(error.message, on: connection) }
            // The node that refused (on a cluster, the queue's: the client's first seed named it once, misdirecting).
            throw RedisError.reply(error.message, endpoint: error.endpoint, command: "XREADGROUP")
        }
    }

    /// Entries of an `XREADGROUP` reply: `[[stream, [[id, [field, value, ...]], ...]], ...]`; nil (the block ran out)
    /// has none.
    static func parseStreams(_ reply: some RedisReplyNode, deliveries: Int) -> [FetchedJob] {
        var result: [FetchedJob] = []
        for streamIndex in 0..<(reply.elementCount ?? 0) {
            let stream = reply.element(streamIndex)
            guard stream.elementCount == 2, let key = stream.element(0).string,
                let open = key.firstIndex(of: "{"), let close = key.lastIndex(of: "}")
            else { continue }
            let queue = String(key[key.index(after: open)..<close])
            let entries = stream.element(1)
            let count = entries.elementCount ?? 0
            result.reserveCapacity(result.count + count)
            for entryIndex in 0..<count {
                let entry = entries.element(entryIndex)
                guard entry.elementCount == 2, let id = entry.element(0).string else { continue }
                let fields = entry.element(1)
                result.append(FetchedJob(queue: queue, entryID: id, bytes: jobField(fields), deliveries: deliveries, promoted: isPromoted(fields)))
            }
        }
        return result
    }

    /// Whether an entry's field list starts with `promoted` (written by the promote script before `job`).
    static func isPromoted(_ fields: some RedisReplyNode) -> Bool {
        guard let count = fields.elementCount, count >= 4 else { return false }
        return fields.element(0).isBulk("promoted")
    }

    /// The `job` field of an entry's field list (the first value if there is no `job` field).
    static func jobField(_ fields: some RedisReplyNode) -> [UInt8] {
        let count = fields.elementCount ?? 0
        for index in stride(from: 0, to: count - 1, by: 2) where fields.element(index).isBulk("job") {
            return fields.element(index + 1).bytes ?? []
        }
        return count >= 2 ? fields.element(1).bytes ?? [] : []
    }
}
