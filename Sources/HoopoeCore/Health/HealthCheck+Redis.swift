import Foundation
import Redis

extension HealthCheck {
    /// The oldest Redis Hoopoe runs on: the worker recovers lost jobs with `XAUTOCLAIM` (6.2).
    static let minimumRedisVersion = [6, 2, 0]

    /// `redis`: PING on the pooled client, with its round-trip time.
    func pingPooled() async throws -> HealthFinding {
        let clock = ContinuousClock()
        let start = clock.now
        let reply = try await jobs.redis.send("PING")
        let elapsed = (clock.now - start).milliseconds
        let endpoint = jobs.redis.configuration.redactedURL
        guard reply.string == "PONG" else {
            return HealthFinding(name: "redis", status: .fail, message: "PING to \(endpoint) answered \(reply)")
        }
        return HealthFinding(name: "redis", status: .ok, message: "PONG from \(endpoint) in \(rounded2(elapsed)) ms", numbers: ["round_trip_ms": rounded2(elapsed)])
    }

    /// `redis_second_connection`: PING on a connection of its own. Workers block on dedicated
    /// connections, so a server at its `maxclients` limit fails here while the pool still works.
    func pingDedicated() async -> HealthFinding {
        let connection = jobs.redis.makeDedicatedConnection(name: "hoopoe-health")
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
    /// `CONFIG` is disabled, as on many managed services).
    ///
    /// An ACL without `INFO` is common for application users: then both checks warn that they could not look,
    /// naming the command, instead of reading an empty answer as "too old".
    func serverSettings() async throws -> [HealthFinding] {
        let replies = try await jobs.redis.pipeline([RedisCommand("INFO", "server"), RedisCommand("INFO", "memory")])
        if let refusal = replies.compactMap(\.errorMessage).first {
            let error = RedisError.reply(refusal, endpoint: jobs.redis.configuration.endpoint.description, command: "INFO")
            guard error.code == .permissionDenied else { throw error }
            let message = "cannot check: \(error.operatorLine); grant +info, or ignore this warning"
            return [
                HealthFinding(name: "redis_version", status: .warn, message: message),
                HealthFinding(name: "maxmemory_policy", status: .warn, message: message),
            ]
        }
        let server = Self.infoFields(replies[0].string ?? "")
        let memory = Self.infoFields(replies[1].string ?? "")
        var findings: [HealthFinding] = []

        let version = server["redis_version"] ?? "?"
        let parts = version.split(separator: ".").map { Int($0) ?? 0 }
        var numbers: [String: Double] = [:]
        if let uptime = server["uptime_in_seconds"].flatMap(Double.init) { numbers["uptime_seconds"] = uptime }
        if parts.lexicographicallyPrecedes(Self.minimumRedisVersion) {
            findings.append(HealthFinding(
                name: "redis_version", status: .fail, message: "Redis \(version) is too old: Hoopoe needs 6.2 or later (XAUTOCLAIM)", numbers: numbers))
        } else {
            findings.append(HealthFinding(name: "redis_version", status: .ok, message: "Redis \(version)", numbers: numbers))
        }

        let policy = memory["maxmemory_policy"] ?? "?"
        var memoryNumbers: [String: Double] = [:]
        if let limit = memory["maxmemory"].flatMap(Double.init) { memoryNumbers["maxmemory_bytes"] = limit }
        if let used = memory["used_memory"].flatMap(Double.init) { memoryNumbers["used_memory_bytes"] = used }
        if policy == "noeviction" {
            findings.append(HealthFinding(name: "maxmemory_policy", status: .ok, message: "noeviction", numbers: memoryNumbers))
        } else {
            findings.append(HealthFinding(
                name: "maxmemory_policy", status: .warn,
                message: "maxmemory-policy is \(policy): under memory pressure Redis silently deletes keys, jobs included; set noeviction",
                numbers: memoryNumbers))
        }
        return findings
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
