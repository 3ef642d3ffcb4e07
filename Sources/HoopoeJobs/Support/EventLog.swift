import Foundation
import HoopoeJSON
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

    /// Appends one event: fields `type`, `data` (JSON) and `at` (Unix seconds, from the domain clock).
    /// - Returns: the stream entry id.
    @discardableResult
    public func emit(_ type: String, _ data: [String: JSONValue], at: Date) async throws -> String {
        let reply = try await redis.send(Self.command(key: key, maxLength: maxLength, type: type, data: data, at: at))
        return reply.string ?? ""
    }

    /// Appends several events in one round trip (a poll's status changes), in order.
    public func emit(_ events: [(type: String, data: [String: JSONValue])], at: Date) async throws {
        guard !events.isEmpty else { return }
        let replies = try await redis.pipeline(events.map { Self.command(key: key, maxLength: maxLength, type: $0.type, data: $0.data, at: at) })
        if let error = replies.compactMap(\.errorMessage).first { throw EventLogError(message: error) }
    }

    static func command(key: String, maxLength: Int, type: String, data: [String: JSONValue], at: Date) -> RedisCommand {
        let json = String(decoding: JSONValue.object(data).encoded(), as: UTF8.self)
        let seconds = String(format: "%.3f", at.timeIntervalSince1970)
        return RedisCommand("XADD", [key, "MAXLEN", "~", String(maxLength), "*", "type", type, "data", json, "at", seconds])
    }
}

/// An event could not be appended.
struct EventLogError: Error, CustomStringConvertible {
    let message: String
    var description: String { "events stream: \(message)" }
}
