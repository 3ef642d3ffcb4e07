import Foundation
import HoopoeCore
import HoopoeJSON
import Logging
import Redis

/// `reminders.expiration` (periodic, daily 09:00 Tehran): releases the expiration reminders that are due as
/// `sms.send` jobs (template `expiration_reminder`), each exactly once per (user, expiry, offset).
///
/// Exactly once: a reminder is moved from `{reminders}:due` to `{reminders}:claimed` atomically (two sweeps never
/// take the same one), its `sms.send` is enqueued with the once-key of its message id (a retry or a sweep that
/// takes over a dead sweep's claim cannot enqueue it again), and only the enqueue that created the job emits
/// `reminder.queued`. No reminder is released while the sweep runs in quiet hours (`SMS_QUIET_HOURS`): they stay
/// due for the next sweep. When several offsets of one expiry are due at once (a late upsert, downtime), only the
/// nearest is sent; the others are skipped as superseded.
public struct ExpirationReminderJob: JobHandler {
    public typealias Payload = ReminderTick
    public static let type = "reminders.expiration"
    /// Reminders taken per claim call.
    static let batch = 200
    /// A claim older than this (real seconds) belongs to a sweep that died: the next sweep takes it.
    static let lease = 300

    let services: DomainServices

    public init(services: DomainServices) { self.services = services }

    public var timeout: Duration { .seconds(Int64(Self.lease - 30)) }

    public func run(_ payload: ReminderTick, context: JobContext) async throws {
        let settings = services.settings.reminders
        guard let receiptBase = settings.receiptBaseURL else {
            throw JobFailure.retry("RECEIPT_BASE_URL is not set: expiration reminders need the receipt link prefix (e.g. https://kamva.ir/email/receipt); reminders stay due until it is set")
        }
        let now = try await services.clock.now()
        // The quiet hours `sms.send` keeps (SMS_QUIET_HOURS): a reminder released in them would only wait there.
        if services.settings.sms.quietHours.contains(now, in: services.calendar) {
            context.logger.debug("quiet hours: no expiration reminder released by this sweep")
            return
        }
        let keys = ReminderKeys(services: services)
        let redis = services.jobs.redis
        while true {
            let reply = try await redis.run(
                ReminderScripts.claim, keys: [keys.due, keys.claimed],
                arguments: [String(Int(now.timeIntervalSince1970)), String(Self.batch), String(Self.lease)])
            let members = (reply.array ?? []).compactMap(\.string)
            if members.isEmpty { return }
            var groups: [String: [DueReminder]] = [:]
            for member in members {
                guard let reminder = DueReminder(member: member) else {
                    try await redis.send("ZREM", keys.claimed, member)
                    continue
                }
                groups["\(reminder.expiresAt)|\(reminder.user)", default: []].append(reminder)
            }
            for group in groups.values {
                try await release(group, now: now, receiptBase: receiptBase, keys: keys, context: context)
            }
        }
    }

    /// Sends the nearest reminder of one (user, expiry), skips the rest, and finishes their claims.
    func release(_ group: [DueReminder], now: Date, receiptBase: String, keys: ReminderKeys, context: JobContext) async throws {
        let redis = services.jobs.redis
        let sorted = group.sorted { $0.offset < $1.offset }
        let first = sorted[0]
        let sub = try await subscription(first.user, keys: keys)
        let expiry = Date(timeIntervalSince1970: Double(first.expiresAt))
        let daysLeft = services.calendar.daysBetween(now, expiry)
        var skipped: [(DueReminder, String)] = []
        if let sub, sub["expires_at"] == String(first.expiresAt), daysLeft >= 0 {
            skipped = sorted.dropFirst().map { ($0, "superseded") }
            let message = "reminder.expiration:\(first.user):\(first.expiresAt):\(first.offset)"
            let sms = SMSSendPayload(
                messageID: message, phone: sub["phone"] ?? "", template: "expiration_reminder",
                tokens: [
                    "token10": sub["first_name"] ?? "", "token": String(daysLeft),
                    "token2": services.calendar.persianDate(expiry), "token3": "\(receiptBase)/\(sub["receipt_id"] ?? "")",
                ],
                userID: first.user, purpose: "reminder.expiration")
            let queue = services.settings.reminders.smsQueue
            let result = try await sms.enqueue(on: services.jobs, queue: queue)
            if let id = result.createdID {
                let released = keys.released(first.user)
                _ = try await redis.pipeline([
                    .init("HSET", released, "\(first.expiresAt)|\(first.offset)", "\(queue)|\(id)"),
                    .init("EXPIRE", released, String(ExpirationSchedule.retention + max(0, Int(expiry.timeIntervalSince(now))))),
                ])
                try await services.events.emit("reminder.queued", [
                    "user_id": .string(first.user), "kind": "expiration", "expires_at": .integer(first.expiresAt),
                    "offset": .integer(Int64(first.offset)), "days_left": .integer(Int64(daysLeft)),
                    "message_id": .string(message), "job_id": .string(id),
                ], at: now)
                // A renewal that ran between the check above and the record: it could not see this job, so cancel it here.
                if try await redis.send("HGET", keys.subscription(first.user), "expires_at").string != String(first.expiresAt) {
                    _ = try await ReleasedReminders.cancel(["\(queue)|\(id)"], jobs: services.jobs)
                }
            }
        } else {
            let reason = sub == nil ? "deleted" : daysLeft < 0 ? "expired" : "renewed"
            skipped = sorted.map { ($0, reason) }
        }
        for (reminder, reason) in skipped {
            try await services.events.emit("reminder.skipped", [
                "user_id": .string(reminder.user), "kind": "expiration", "expires_at": .integer(reminder.expiresAt),
                "offset": .integer(Int64(reminder.offset)), "reason": .string(reason),
            ], at: now)
        }
        try await redis.send(RedisCommand("ZREM", [keys.claimed] + group.map(\.member)))
    }

    func subscription(_ user: String, keys: ReminderKeys) async throws -> [String: String]? {
        let reply = try await services.jobs.redis.send("HGETALL", keys.subscription(user))
        let items = reply.array ?? []
        guard !items.isEmpty else { return nil }
        var fields: [String: String] = [:]
        for index in stride(from: 0, to: items.count - 1, by: 2) {
            if let key = items[index].string { fields[key] = items[index + 1].string }
        }
        return fields
    }
}

/// One claimed member of the due set: `<offset>|<expires_at>|<user>`.
struct DueReminder: Sendable {
    let member: String
    let offset: Int
    let expiresAt: Int64
    let user: String

    init?(member: String) {
        let parts = member.split(separator: "|", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let offset = Int(parts[0]), let expires = Int64(parts[1]), !parts[2].isEmpty else { return nil }
        self.member = member
        self.offset = offset
        self.expiresAt = expires
        self.user = String(parts[2])
    }
}
