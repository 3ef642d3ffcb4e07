import Foundation
import Redis

extension HealthCheck {
    /// The oldest Redis Hoopoe runs on: the worker recovers lost jobs with `XAUTOCLAIM` (6.2).
    static let minimumRedisVersion = [6, 2, 0]

    /// `redis`: PING on the pooled client, with its round-trip time; with `writes` (the deployment check), also a
    /// one-second `SET` of ``HealthKeys/writeProbe(_:)``, and a failure when Redis refuses it.
    ///
    /// A Redis that answers but refuses writes (``RedisError/refusesWrites``: `OOM` at `maxmemory` under
    /// `noeviction`, `NOREPLICAS` under `min-replicas-to-write`) answers `PING`: this check said ok, and the first
    /// write of the run, `dead_jobs`' baseline, failed that check instead with the bare refusal, while every enqueue,
    /// settle and heartbeat was refused. (`MISCONF` refuses the `PING` itself.) On a cluster the probe reaches the one
    /// primary of its key's slot. Any other failure of the probe (an ACL without `+set` on the key, that primary down)
    /// is not a finding: the probe then cannot tell, and the jobs' own writes may well be allowed.
    func pingPooled(writes: Bool = false) async throws -> HealthFinding {
        let clock = ContinuousClock()
        let start = clock.now
        let reply = try await jobs.redis.send("PING")
        let elapsed = (clock.now - start).milliseconds
        let endpoint = jobs.redis.configuration.redactedURL
        guard reply.string == "PONG" else {
            return HealthFinding(name: "redis", status: .fail, message: "PING to \(endpoint) answered \(reply)")
        }
        var numbers = ["round_trip_ms": rounded2(elapsed)]
        if writes {
            numbers["refuses_writes"] = 0
            do {
                try await jobs.redis.send("SET", keys.writeProbe(options.host), "1", "PX", "1000")
            } catch let error as RedisError where error.refusesWrites {
                numbers["refuses_writes"] = 1
                let refusal = error.message.hasSuffix(".") ? String(error.message.dropLast()) : error.message  // `… > 'maxmemory'.`
                return HealthFinding(
                    name: "redis", status: .fail,
                    message: "Redis refuses writes: \(refusal): every enqueue is refused, and workers can neither settle jobs nor beat "
                        + "(PONG from \(endpoint) in \(rounded2(elapsed)) ms)",
                    numbers: numbers)
            } catch {
                // Not a write refusal: the probe cannot tell. An ACL without `+set` on its key; or, on a cluster, the
                // primary of its key's slot down, which the `topology` check names (ending the run here, as the first
                // unreachable answer does, left that check out). One server that stopped answering since the `PING`
                // ends the run at the next check.
            }
        }
        return HealthFinding(name: "redis", status: .ok, message: "PONG from \(endpoint) in \(rounded2(elapsed)) ms", numbers: numbers)
    }

    /// `redis_second_connection`: PING on a connection of its own. Workers block on dedicated
    /// connections, so a server at its `maxclients` limit fails here while the pool still works. On a cluster, to the
    /// primary of the namespace's queue registry (by the map): to the URL's first seed, a seed gone for good (a node
    /// replaced) failed this check on every run although every slot was served.
    func pingDedicated() async -> HealthFinding {
        let connection: RedisConnection
        do {
            connection = try await jobs.redis.makeDedicatedConnection(forKey: jobs.store.global.queues, name: "hoopoe-health")
        } catch {
            return HealthFinding(name: "redis_second_connection", status: .fail, message: "a second connection failed: \(error)")
        }
        defer { connection.close() }
        let clock = ContinuousClock()
        let start = clock.now
        do {
            let reply = try await connection.send([RedisCommand("PING")])[0]
            let elapsed = (clock.now - start).milliseconds
            guard reply.string == "PONG" else {
                return HealthFinding(name: "redis_second_connection", status: .fail, message: "PING on a second connection answered \(reply)")
            }
            return HealthFinding(
                name: "redis_second_connection", status: .ok, message: "PONG on a second connection in \(rounded2(elapsed)) ms",
                numbers: ["round_trip_ms": rounded2(elapsed)])
        } catch {
            return HealthFinding(name: "redis_second_connection", status: .fail, message: "a second connection failed: \(error)")
        }
    }

    /// `redis_version` and `maxmemory_policy`, from `INFO server` and `INFO memory` (works where
    /// `CONFIG` is disabled, as on many managed services), of the one server or of every cluster primary: the
    /// oldest version counts, and every primary that may evict is named.
    ///
    /// An ACL without `INFO` is common for application users: then both checks warn that they could not look,
    /// naming the command, instead of reading an empty answer as "too old". A cluster primary that does not answer
    /// is left to the `topology` check, which names it.
    func serverSettings() async throws -> [HealthFinding] {
        let nodes = try await serverInfos()
        if let refusal = nodes.lazy.flatMap(\.replies).compactMap(\.errorMessage).first {
            let error = RedisError.reply(refusal, endpoint: jobs.redis.configuration.endpoint.description, command: "INFO")
            guard error.code == .permissionDenied else { throw error }
            let message = "cannot check: \(error.operatorLine); grant +info, or ignore this warning"
            return [
                HealthFinding(name: "redis_version", status: .warn, message: message),
                HealthFinding(name: "maxmemory_policy", status: .warn, message: message),
            ]
        }
        let servers = nodes.map { (node: $0.node, fields: Self.infoFields($0.replies[0].string ?? "")) }
        let memories = nodes.map { (node: $0.node, fields: Self.infoFields($0.replies[1].string ?? "")) }
        let several = nodes.count > 1
        var findings: [HealthFinding] = []

        // The oldest version among the primaries is the one Hoopoe can count on.
        let versions = servers.map { (node: $0.node, version: $0.fields["redis_version"] ?? "?", uptime: $0.fields["uptime_in_seconds"].flatMap(Double.init)) }
        let oldest = versions.min { $0.version.split(separator: ".").map { Int($0) ?? 0 }.lexicographicallyPrecedes($1.version.split(separator: ".").map { Int($0) ?? 0 }) }
        let version = oldest?.version ?? "?"
        let parts = version.split(separator: ".").map { Int($0) ?? 0 }
        var numbers: [String: Double] = [:]
        if let uptime = versions.compactMap(\.uptime).min() { numbers["uptime_seconds"] = uptime }
        let on = several ? " (the oldest of \(nodes.count) primaries\(oldest.map { ": \($0.node)" } ?? ""))" : ""
        if parts.lexicographicallyPrecedes(Self.minimumRedisVersion) {
            findings.append(HealthFinding(
                name: "redis_version", status: .fail, message: "Redis \(version)\(on) is too old: Hoopoe needs 6.2 or later (XAUTOCLAIM)", numbers: numbers))
        } else {
            findings.append(HealthFinding(name: "redis_version", status: .ok, message: "Redis \(version)\(several ? " on \(nodes.count) primaries" : "")", numbers: numbers))
        }

        var memoryNumbers: [String: Double] = [:]
        if let limit = memories.compactMap({ $0.fields["maxmemory"].flatMap(Double.init) }).min() { memoryNumbers["maxmemory_bytes"] = limit }
        if let used = memories.compactMap({ $0.fields["used_memory"].flatMap(Double.init) }).max() { memoryNumbers["used_memory_bytes"] = used }
        let evicting = memories.filter { ($0.fields["maxmemory_policy"] ?? "?") != "noeviction" }
        if evicting.isEmpty {
            findings.append(HealthFinding(name: "maxmemory_policy", status: .ok, message: "noeviction", numbers: memoryNumbers))
        } else {
            let policies = evicting.map { "\($0.fields["maxmemory_policy"] ?? "?")\(several ? " on \($0.node)" : "")" }.joined(separator: ", ")
            findings.append(HealthFinding(
                name: "maxmemory_policy", status: .warn,
                message: "maxmemory-policy is \(policies): under memory pressure Redis silently deletes keys, jobs included; set noeviction",
                numbers: memoryNumbers))
        }
        return findings
    }

    /// `INFO server` and `INFO memory` of the one server, or of every cluster primary that answers (at once).
    /// - Throws: the first node's error when none answered.
    private func serverInfos() async throws -> [(node: String, replies: [RedisReply])] {
        let commands = [RedisCommand("INFO", "server"), RedisCommand("INFO", "memory")]
        guard jobs.redis.isCluster else {
            return [(jobs.redis.configuration.endpoint.description, try await jobs.redis.pipeline(commands))]
        }
        let redis = jobs.redis
        let primaries = try await redis.primaries()
        let answers = await withTaskGroup(of: NodeInfo.self) { group in
            for (index, node) in primaries.enumerated() {
                group.addTask {
                    do {
                        return NodeInfo(index: index, replies: try await redis.send(commands, to: node), error: nil)
                    } catch {
                        return NodeInfo(index: index, replies: [], error: error)
                    }
                }
            }
            return await group.reduce(into: [NodeInfo]()) { $0.append($1) }.sorted { $0.index < $1.index }
        }
        let answered = answers.filter { $0.error == nil }.map { (primaries[$0.index].description, $0.replies) }
        if answered.isEmpty, let error = answers.first?.error { throw error }
        return answered
    }

    /// One primary's answer. A struct, not an `(Int, Result<_, any Error>)` tuple: a task-group child returning that
    /// tuple crashed release builds in `RedisCluster.dispatch` (see its `ShareOutcome`).
    private struct NodeInfo: Sendable {
        let index: Int
        let replies: [RedisReply]
        let error: (any Error)?
    }

    /// `INFO` text as a dictionary (`key:value` lines; `#` headers skipped).
    static func infoFields(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
        }
        return fields
    }
}
