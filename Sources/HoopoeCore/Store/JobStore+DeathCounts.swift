import Foundation
import Redis

extension JobStore {
    /// The jobs of `queue` put in its dead set on each of the UTC `days` (`YYYY-MM-DD`), in the order given, 0 for a
    /// day with none: the day counters' `dead:<type>` fields, which the kill script (`Lua/kill.lua`) adds one to with
    /// every burial, summed (``CounterTotals``). One pipeline.
    ///
    /// For the health check's `dead_jobs`: unlike the dead set's size these only grow. The same script trims the set to
    /// its cap with each burial, so a full set stayed the same size however many jobs died; and a `dead retry` or
    /// `delete` in the same interval as a death cancelled it out.
    package func deathCounts(queue: String, days: [String]) async throws -> [Int] {
        guard !days.isEmpty else { return [] }
        let k = keys(queue)
        let replies = try await redis.pipeline(days.map { RedisCommand("HGETALL", k.stats(day: $0)) })
        return replies.map { CounterTotals.summed($0)["dead"] ?? 0 }
    }
}
