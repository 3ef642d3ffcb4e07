import Foundation
import Redis

/// The per-hour and per-minute counters the settle scripts keep (``QueueKeys/stats(hour:)``), for the dashboard's
/// charts: one hash an hour a queue, with each minute's counts (the hour's totals are their sums).
extension JobStore {
    /// The counters of the UTC hours `dates` fall in, one dictionary an hour in the order given (empty for an hour
    /// with none): per minute `m07:processed`, and the hour's totals `processed`, `failed`, `dead`, … (their sums,
    /// ``CounterTotals``). One pipeline.
    package func hourCounters(queue: String, hours dates: [Date]) async throws -> [[String: Int]] {
        let k = keys(queue)
        let replies = try await redis.pipeline(dates.map { RedisCommand("HGETALL", k.stats(hour: QueueKeys.hour($0).hour)) })
        return replies.map(CounterTotals.summed)
    }
}

extension JobStore {
    /// The hour totals `fields` (e.g. `processed`, `failed`, `dead`) of the UTC hours `dates` fall in, one array
    /// an hour in the order given, 0 where none was counted: each the sum of the hour's minutes (one pipeline of
    /// `HGETALL`s, at most 60 fields a counter an hour, so a day's chart costs the same whatever the load).
    package func hourTotals(queue: String, hours dates: [Date], fields: [String]) async throws -> [[Int]] {
        try await hourCounters(queue: queue, hours: dates).map { hour in fields.map { hour[$0] ?? 0 } }
    }

    /// The per-minute counts of `fields` for the `minutes` minutes ending with the one `now` falls in, oldest first:
    /// two `HGETALL`s (this hour's hash and the last one's).
    package func minuteCounts(queue: String, fields: [String], minutes: Int, now: Date) async throws -> [[Int]] {
        let previous = now.addingTimeInterval(-3600)
        let hashes = try await hourCounters(queue: queue, hours: [previous, now])
        let current = QueueKeys.hour(now).hour
        return (0..<minutes).map { index in
            let date = now.addingTimeInterval(-Double(minutes - 1 - index) * 60)
            let slot = QueueKeys.hour(date)
            let hash = slot.hour == current ? hashes[1] : hashes[0]
            return fields.map { hash["\(slot.minute):\($0)"] ?? 0 }
        }
    }
}
