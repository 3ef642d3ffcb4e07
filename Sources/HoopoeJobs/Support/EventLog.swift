import Foundation
import HoopoeCore
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

    /// Appends one event: fields `type` (its name), `data` (its fields as JSON), `at` (Unix seconds, from the
    /// domain clock) and, when a job's handler writes it, `job` (that job's id, ``CurrentJob/id``: the dashboard's job
    /// page and `hoopoe job show` list a job's events by it).
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

    /// An event as read back from the stream.
    public struct Recorded: Sendable {
        /// The stream entry id.
        public let id: String
        /// The event's name (`sms.status`).
        public let type: String
        /// Its fields (the `data` JSON); an empty object when it is not JSON.
        public let data: JSONValue
        /// When it happened (domain Unix seconds, the `at` field).
        public let at: Double
        /// The id of the job that wrote it (the `job` field); nil for an event written outside a job's handler, or by
        /// an earlier release.
        public let job: String?

        public init(id: String, type: String, data: JSONValue, at: Double, job: String? = nil) {
            self.id = id
            self.type = type
            self.data = data
            self.at = at
            self.job = job
        }
    }

    /// The newest `count` events, newest first (one `XREVRANGE … COUNT`): for operators' views of recent activity.
    /// With `mentioning` or `writtenBy`, only the events whose `data` text contains one of those strings, or that job
    /// `writtenBy` wrote, are decoded and returned (a cheap test before the JSON decode, for a page looking for one
    /// job's events).
    public func recent(count: Int, mentioning needles: [String]? = nil, writtenBy job: String? = nil) async throws -> [Recorded] {
        let reply = try await redis.send("XREVRANGE", key, "+", "-", "COUNT", String(max(1, count)))
        return (reply.array ?? []).compactMap { entry in
            guard let parts = entry.array, parts.count == 2, let id = parts[0].string else { return nil }
            var fields: [String: String] = [:]
            let items = parts[1].array ?? []
            for index in stride(from: 0, to: items.count - 1, by: 2) {
                if let name = items[index].string { fields[name] = items[index + 1].string ?? "" }
            }
            if needles != nil || job != nil {
                let written = job != nil && fields["job"] == job
                guard written || (needles ?? []).contains(where: { (fields["data"] ?? "").contains($0) }) else { return nil }
            }
            let data = fields["data"].flatMap { JSONValue.parse(Array($0.utf8)) } ?? .object([:])
            return Recorded(id: id, type: fields["type"] ?? "", data: data, at: Double(fields["at"] ?? "") ?? 0, job: fields["job"])
        }
    }

    /// The one encoder of the stream's fields: `data` with sorted keys and unescaped slashes (as every event has
    /// always been written), `at` with three decimals, then `job` when a job's handler writes it.
    func command(_ event: some DomainEvent, at: Date) throws -> RedisCommand {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = Self.maskingFreeText(String(decoding: try encoder.encode(event), as: UTF8.self))
        let seconds = String(format: "%.3f", at.timeIntervalSince1970)
        var arguments = [key, "MAXLEN", "~", String(maxLength), "*", "type", type(of: event).name, "data", json, "at", seconds]
        if let job = CurrentJob.id { arguments += ["job", job] }
        return RedisCommand("XADD", arguments)
    }

    /// The fields of free text an event may carry: a provider's refusal (`sms.failed`'s `reason`, IPPanel's
    /// `meta.errors` in it), an alert's `message`, a read's `error`.
    static let freeTextFields = ["reason", "message", "error"]

    /// `json` (an event's fields) with the phone numbers and email addresses in its free-text fields masked, as
    /// `job.dead`'s `reason` is (decision 0101): a provider's refusal may quote the number or address it refused, and
    /// other services read the stream. Ids are left as they are: a reader matches them.
    static func maskingFreeText(_ json: String) -> String {
        guard freeTextFields.contains(where: { json.contains("\"\($0)\"") }), case .object(var fields)? = JSONValue.parse(Array(json.utf8)) else {
            return json
        }
        var changed = false
        for name in freeTextFields {
            guard case .string(let text)? = fields[name] else { continue }
            let masked = PersonalDataMask.mask(text)
            if masked != text {
                fields[name] = .string(masked)
                changed = true
            }
        }
        return changed ? String(decoding: JSONValue.object(fields).encoded(), as: UTF8.self) : json
    }
}

/// An event could not be appended.
struct EventLogError: Error, CustomStringConvertible {
    let message: String
    var description: String { "events stream: \(message)" }
}
