import Redis

extension JobStore {
    /// Creates each queue's consumer group (from the stream's start, so jobs enqueued before any worker existed
    /// are served) and records the queue names in ``GlobalKeys/queues``. One round trip (on a cluster, one per
    /// node at once: each command has one key); a group that exists already is fine. An error names the command
    /// that failed (`XGROUP CREATE` or `SADD`).
    func createGroups(queues: [String]) async throws {
        var commands = queues.map { RedisCommand("XGROUP", "CREATE", keys($0).stream, QueueKeys.group, "0", "MKSTREAM") }
        commands.append(RedisCommand("SADD", [global.queues] + queues))
        for (reply, command) in zip(try await redis.pipeline(commands), commands) {
            if let message = reply.errorMessage, !message.hasPrefix("BUSYGROUP") {
                throw RedisError.reply(message, endpoint: endpoint, command: command.name == "XGROUP" ? "XGROUP CREATE" : command.name)
            }
        }
    }

    /// A connection of its own for the blocking fetch (a blocked read would stall every command queued behind
    /// it on a shared one). The caller closes it.
    func makeFetchConnection() -> RedisConnection { redis.makeDedicatedConnection(name: "hoopoe-fetch") }

    /// On a cluster: a fetch connection to the node that serves `queue`'s stream now (each queue is read on its
    /// own there: one `XREADGROUP` over streams in different slots is refused with `CROSSSLOT`).
    func makeFetchConnection(queue: String) async throws -> RedisConnection {
        try await redis.makeDedicatedConnection(forKey: keys(queue).stream, name: "hoopoe-fetch-\(queue)")
    }

    /// The `CLIENT ID` of `connection`, for ``unblock(clientID:)``; nil when Redis does not answer.
    func clientID(of connection: RedisConnection) async -> String? {
        (try? await connection.send([RedisCommand("CLIENT", "ID")])[0].int).map { String($0) }
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
        let reply = try await connection.send([command])[0]
        if let message = reply.errorMessage {
            if message.hasPrefix("NOGROUP") { try await createGroups(queues: queues) }
            if message.hasPrefix("MOVED") { redis.noteRedirection(message, on: connection) }
            throw RedisError.reply(message, endpoint: endpoint, command: "XREADGROUP")
        }
        return Self.parseStreams(reply, deliveries: 1)
    }

    /// Entries of an `XREADGROUP` reply: `[[stream, [[id, [field, value, ...]], ...]], ...]`.
    static func parseStreams(_ reply: RedisReply, deliveries: Int) -> [FetchedJob] {
        var result: [FetchedJob] = []
        for stream in reply.array ?? [] {
            guard let parts = stream.array, parts.count == 2, let key = parts[0].string,
                let open = key.firstIndex(of: "{"), let close = key.lastIndex(of: "}")
            else { continue }
            let queue = String(key[key.index(after: open)..<close])
            for entry in parts[1].array ?? [] {
                guard let fields = entry.array, fields.count == 2, let id = fields[0].string else { continue }
                result.append(FetchedJob(queue: queue, entryID: id, bytes: jobField(fields[1]), deliveries: deliveries, promoted: isPromoted(fields[1])))
            }
        }
        return result
    }

    /// Whether an entry's field list starts with `promoted` (written by the promote script before `job`).
    static func isPromoted(_ fields: RedisReply) -> Bool {
        guard let items = fields.array, items.count >= 4 else { return false }
        return items[0].string == "promoted"
    }

    /// The `job` field of an entry's field list (the first value if there is no `job` field).
    static func jobField(_ fields: RedisReply) -> [UInt8] {
        let items = fields.array ?? []
        for index in stride(from: 0, to: items.count - 1, by: 2) where items[index].string == "job" {
            return items[index + 1].bytes ?? []
        }
        return items.count >= 2 ? items[1].bytes ?? [] : []
    }
}
