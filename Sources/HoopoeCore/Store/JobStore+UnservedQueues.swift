import Foundation
import Redis

extension JobStore {
    /// How long a queue must have had no live worker before another queue's worker trims it: an hour, so a rolling
    /// deploy or a restart, during which a queue's workers are all down for minutes, never has its history and dead set
    /// trimmed by another worker's caps.
    static let unservedGraceSeconds: Double = 3600
    /// The longest gap between two looks for unserved queues (by any worker; one a round, a minute by default, while
    /// workers live) that still counts as watching all along: ten minutes, or three rounds of a longer
    /// ``WorkerOptions/retentionUpkeepInterval``. After a longer one, every worker was down: the hour starts again for
    /// every queue, so a fleet down for hours and its first worker back do not take its other queues, not back yet, for
    /// retired.
    static func unservedWatchGapSeconds(round: Duration) -> Int {
        max(600, 3 * Int(round.components.seconds))
    }

    /// The queues workers have served (``GlobalKeys/queues``) that no live worker's heartbeat lists now: a queue
    /// retired or renamed, or whose workers all stopped. A worker of an older release, whose heartbeat names no queues,
    /// may serve any, so while one lives no queue is counted here. A quiet worker's queues are not counted either
    /// (``ProcessRecord/lists(_:)``): it still settles jobs there, and a quiet spell is no queue retired. Sorted.
    func queuesNoWorkerServes() async throws -> [String] {
        let known = (try await redis.send("SMEMBERS", global.queues).array ?? []).compactMap(\.string)
        if known.isEmpty { return [] }
        let live = try await liveProcesses()
        return known.filter { queue in !live.contains { $0.lists(queue) } }.sorted()
    }

    /// The queues no live worker has served for at least ``unservedGraceSeconds``, as far as the workers' rounds have
    /// seen: each call notes the queues it finds unserved for the first time (``GlobalKeys/unservedQueues``) and forgets
    /// those served again. `servedHere`, the caller's own queues, count as served (its heartbeat may not be written yet,
    /// or at all: a `Worker` embedded without one). Sorted.
    ///
    /// The hour counts only time the rounds watched: when no round looked for ``unservedWatchGapSeconds(round:)`` (every worker
    /// down), the noted times are dropped and every unserved queue is noted afresh (``GlobalKeys/unservedWatch``). `round`
    /// is the callers' interval between looks.
    func queuesUnservedPastGrace(now: Double, servedHere: Set<String>, round: Duration) async throws -> [String] {
        let unserved = try await queuesNoWorkerServes().filter { !servedHere.contains($0) }
        // `SET … GET` (Redis 6.2): the mark's old value, nil when it expired, in the same command that renews it.
        let watched = try await redis.send("SET", global.unservedWatch, "1", "EX", String(Self.unservedWatchGapSeconds(round: round)), "GET")
        let items = try await redis.send("HGETALL", global.unservedQueues).array ?? []
        var since: [String: Double] = [:]
        for i in stride(from: 0, to: items.count - 1, by: 2) {
            if let queue = items[i].string { since[queue] = items[i + 1].double ?? now }
        }
        var commands: [RedisCommand] = []
        if watched.isNull && !since.isEmpty {
            commands.append(RedisCommand("DEL", global.unservedQueues))
            since = [:]
        }
        let current = Set(unserved)
        let servedAgain = since.keys.filter { !current.contains($0) }
        let new = unserved.filter { since[$0] == nil }
        if !servedAgain.isEmpty { commands.append(RedisCommand("HDEL", [global.unservedQueues] + servedAgain.sorted())) }
        if !new.isEmpty { commands.append(RedisCommand("HSET", [global.unservedQueues] + new.flatMap { [$0, String(now)] })) }
        if !commands.isEmpty { _ = try await redis.pipeline(commands) }
        return unserved.filter { (since[$0] ?? now) <= now - Self.unservedGraceSeconds }
    }

    /// Takes this round's turn at trimming the queues no worker serves, for `hold` (a little less than a round), when no
    /// other worker has it: one `SET NX PX`. True when `owner` has it now.
    func takeUnservedTrimTurn(owner: String, hold: Duration) async throws -> Bool {
        let milliseconds = max(1, Int(hold.seconds * 1000))
        return try await redis.send("SET", global.unservedTrimTurn, owner, "NX", "PX", String(milliseconds)).string == "OK"
    }
}
