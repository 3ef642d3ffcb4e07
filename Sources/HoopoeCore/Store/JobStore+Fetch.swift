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
