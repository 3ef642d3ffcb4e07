import Redis

extension JobStore {
    static let resurrectScript = RedisScript(name: "resurrect", embedded: PackageResources.resurrect_lua)

    /// Dead jobs, newest first, from the `offset`-th newest; an entry that does not decode is left out.
    func deadJobs(queue: String, offset: Int, limit: Int) async throws -> [JobEnvelope] {
        let k = keys(queue)
        let ids = (try await redis.send("ZREVRANGE", k.dead, String(offset), String(offset + limit - 1)).array ?? []).compactMap(\.string)
        if ids.isEmpty { return [] }
        let bodies = try await redis.send(RedisCommand("HMGET", [k.deadJobs] + ids)).array ?? []
        return bodies.compactMap { $0.bytes.flatMap { try? JobEnvelope.decode($0) } }
    }

    /// The ids of dead jobs, oldest first, from the `offset`-th oldest.
    func deadIDs(queue: String, offset: Int, limit: Int) async throws -> [String] {
        (try await redis.send("ZRANGE", keys(queue).dead, String(offset), String(offset + limit - 1)).array ?? []).compactMap(\.string)
    }

    /// The stored text of dead job `id` (one `HGET`, no stream scan), nil when it is not in the dead set.
    func deadJobBytes(id: String, queue: String) async throws -> [UInt8]? {
        try await redis.send("HGET", keys(queue).deadJobs, id).bytes
    }

    /// Moves dead job `id` back to the stream with a fresh envelope (attempts reset), in one script:
    ///
    /// KEYS[1] dead · KEYS[2] dead:jobs · KEYS[3] stream · ARGV[1] job id · ARGV[2] new envelope JSON
    /// Returns 1 moved · 0 not in the dead set (then this returns false)
    func resurrect(id: String, queue: String, envelope: [UInt8]) async throws -> Bool {
        let k = keys(queue)
        let moved = try await redis.run(
            Self.resurrectScript, keys: [k.dead, k.deadJobs, k.stream], arguments: [id, String(decoding: envelope, as: UTF8.self)])
        return moved.int == 1
    }

    /// Deletes a dead job. Returns false if it was not there.
    func deleteDead(id: String, queue: String) async throws -> Bool {
        let k = keys(queue)
        let replies = try await redis.transaction([RedisCommand("ZREM", k.dead, id), RedisCommand("HDEL", k.deadJobs, id)])
        return replies.first?.int == 1
    }
}
