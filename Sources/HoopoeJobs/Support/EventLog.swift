import Foundation
import Redis

/// The capped stream of outcomes other services read: `<namespace>:events` (jobs/EVENTS.md).
///
/// Every domain job reports what it did here (`sendinblue.registered`, `sms.status`, `gift.expired`, …) rather than
/// calling back into the service that asked: Hoopoe cannot reach the other services' databases, and a stream lets
/// any number of readers (`XREAD`, or `XREADGROUP` with their own group) catch up after downtime. Capped with
/// `MAXLEN ~`, so a reader that stays away longer than the cap allows loses the oldest events, never Redis memory.
public struct EventLog: Sendable {
    /// The stream key.
    public let key: String
    /// Approximate number of entries kept.
    public let maxLength: Int
    let redis: RedisClient

    /// - Parameters:
    ///   - redis: the client.
    ///   - namespace: the key prefix (`hoopoe`).
    ///   - maxLength: entries kept (approximately; default 100,000).
    public init(redis: RedisClient, namespace: String, maxLength: Int = 100_000) {
        self.redis = redis
        self.key = "\(namespace):events"
        self.maxLength = maxLength
    }

    /// Appends one event: fields `type` (its name), `data` (its fields as JSON) and `at` (Unix seconds, from the
    /// domain clock).
    /// - Returns: the stream entry id.
    @discardableResult
    public func emit(_ event: some DomainEvent, at: Date) async throws -> String {
        let reply = try await redis.send(try command(event, at: at))
        return reply.string ?? ""
    }

    /// Appends several events in one round trip (a poll's status changes), in order.
    public func emit(_ events: [some DomainEvent], at: Date) async throws {
        guard !events.isEmpty else { return }
        let replies = try await redis.pipeline(try events.map { try command($0, at: at) })
        if let error = replies.compactMap(\.errorMessage).first { throw EventLogError(message: error) }
    }

    /// The one encoder of the stream's fields: `data` with sorted keys and unescaped slashes (as every event has
    /// always been written), `at` with three decimals.
    func command(_ event: some DomainEvent, at: Date) throws -> RedisCommand {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = String(decoding: try encoder.encode(event), as: UTF8.self)
        let seconds = String(format: "%.3f", at.timeIntervalSince1970)
        return RedisCommand("XADD", [key, "MAXLEN", "~", String(maxLength), "*", "type", type(of: event).name, "data", json, "at", seconds])
    }
}

/// An event could not be appended.
struct EventLogError: Error, CustomStringConvertible {
    let message: String
    var description: String { "events stream: \(message)" }
}
