import Foundation
import Redis

/// Process records (``Heartbeat``): a hash a process (``GlobalKeys/process(_:)``) renewed with a TTL, and its
/// score in ``GlobalKeys/processes``. A worker's hash carries the jobs it runs, each with its run's start, in one field
/// (``ProcessRun/field``), written with the others: no command more for them.
extension JobStore {
    /// Writes one beat of process `id`: its fields (sorted, so equal beats are equal commands), a TTL of `ttl`
    /// seconds on them, its score `now` in the processes set. One round trip, on `connection` (the heartbeat's own:
    /// ``makeBeatConnection()``) or, if nil, the pool.
    ///
    /// The TTL is written too (`ttl`): a reader takes a beat's age from the TTL left (`PTTL`), by Redis's clock, not
    /// from `beat_at`, which is the beating host's (``liveProcesses()``).
    func beat(id: String, fields: [String: String], ttl: Int, now: Double, on connection: RedisConnection? = nil) async throws {
        var hset = RedisCommand("HSET", global.process(id))
        var fields = fields
        fields["ttl"] = String(ttl)
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
            hset.append(key)
            hset.append(value)
        }
        let commands = [hset, RedisCommand("EXPIRE", global.process(id), String(ttl)), RedisCommand("ZADD", global.processes, String(now), id)]
        // A pipeline returns error replies in place: one that failed (a key on another cluster node, an ACL) is thrown,
        // naming its command, so the heartbeat logs it instead of losing the beat without a word.
        let replies = if let connection { try await connection.send(commands) } else { try await redis.pipeline(commands) }
        for (reply, command) in zip(replies, commands) {
            if let message = reply.errorMessage { throw RedisError.reply(message, endpoint: endpoint, command: command.name) }
        }
    }

    /// The heartbeat's own connection, so no beat waits for a shared connection whose thread a handler holds (the
    /// runners run there: decision 0072); nil on a cluster, where the beat goes by its keys' node and the runners stay
    /// on the global pool (decision 0073).
    func makeBeatConnection() -> RedisConnection? {
        redis.isCluster ? nil : redis.makeDedicatedConnection(name: "hoopoe-beat")
    }

    /// Removes process `id`'s record (an orderly exit); errors are ignored, the record expires anyway.
    func removeProcess(id: String) async {
        _ = try? await redis.pipeline([RedisCommand("DEL", global.process(id)), RedisCommand("ZREM", global.processes, id)])
    }

    /// Processes whose heartbeat hash still exists; stale entries of the sorted set are pruned.
    ///
    /// A beat's age is its TTL less the TTL left (`PTTL`), both by Redis's clock: `beat_at` is the beating host's
    /// clock, and compared with this host's, a scheduler or worker on a host 30 s behind read as 30 s silent, and
    /// `health-check` called it dead (decisions 0081 and 0083: Redis's clock decides). A record without `ttl` (a
    /// process of an earlier release) is aged by `beat_at`, as before.
    func liveProcesses() async throws -> [ProcessRecord] {
        let ids = (try await redis.send("ZRANGE", global.processes, "0", "-1").array ?? []).compactMap(\.string)
        if ids.isEmpty { return [] }
        let replies = try await redis.pipeline(ids.flatMap { [RedisCommand("HGETALL", global.process($0)), RedisCommand("PTTL", global.process($0))] })
        let now = Date().timeIntervalSince1970
        var live: [ProcessRecord] = []
        var gone: [String] = []
        for (index, id) in ids.enumerated() {
            // An error reply is no answer: read as an empty hash, it pruned a live process from the index (an ACL
            // without HGETALL, a loading replica), and the process vanished from every list until its next beat. Only
            // a key of another type is pruned as gone (it is no process record, and must not hide the others).
            if let message = replies[2 * index].errorMessage {
                if message.hasPrefix("WRONGTYPE") {
                    gone.append(id)
                    continue
                }
                throw RedisError.reply(message, endpoint: endpoint, command: "HGETALL")
            }
            let items = replies[2 * index].array ?? []
            if items.isEmpty {
                gone.append(id)
                continue
            }
            var fields: [String: String] = [:]
            for i in stride(from: 0, to: items.count - 1, by: 2) { fields[items[i].string ?? ""] = items[i + 1].string }
            let age: Double
            if let ttl = fields["ttl"].flatMap(Double.init), let left = replies[2 * index + 1].int, left >= 0 {
                age = max(0, ttl - Double(left) / 1000)
            } else {
                age = now - (Double(fields["beat_at"] ?? "") ?? 0)
            }
            live.append(ProcessRecord(id: id, fields: fields, age: age))
        }
        if !gone.isEmpty { try await redis.send(RedisCommand("ZREM", [global.processes] + gone)) }
        return live
    }
}
