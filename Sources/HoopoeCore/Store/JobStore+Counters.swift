import Foundation
import Redis

/// The per-hour and per-minute counters the settle scripts keep (``QueueKeys/stats(hour:)``), for the dashboard's
/// charts: one hash an hour a queue, with the hour's totals and each minute's.
extension JobStore {
    /// The counters of the UTC hours `dates` fall in, one dictionary an hour in the order given (empty for an hour
    /// with none): `processed`, `failed`, `dead`, … and per minute `m07:processed`. One pipeline.
    package func hourCounters(queue: String, hours dates: [Date]) async throws -> [[String: Int]] {
        let k = keys(queue)
        let replies = try await redis.pipeline(dates.map { RedisCommand("HGETALL", k.stats(hour: QueueKeys.hour($0).hour)) })
        return replies.map { reply in
            var result: [String: Int] = [:]
            let items = reply.array ?? []
            for index in stride(from: 0, to: items.count - 1, by: 2) {
                if let key = items[index].string, let value = items[index + 1].int { result[key] = value }
            }
            return result
        }
    }
}

extension JobStore {
    /// The hour totals `fields` (e.g. `processed`, `failed`, `dead`) of the UTC hours `dates` fall in, one array
    /// an hour in the order given, 0 where none was counted. One pipeline of `HMGET`s, so a day's chart costs the
    /// same whatever the load.
    package func hourTotals(queue: String, hours dates: [Date], fields: [String]) async throws -> [[Int]] {
        let k = keys(queue)
        let replies = try await redis.pipeline(dates.map { RedisCommand("HMGET", [k.stats(hour: QueueKeys.hour($0).hour)] + fields) })
        return replies.map { reply in
            let values = reply.array ?? []
            return fields.indices.map { index in index < values.count ? values[index].int ?? 0 : 0 }
        }
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
