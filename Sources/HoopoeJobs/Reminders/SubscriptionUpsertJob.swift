import Foundation
import HoopoeCore
import HoopoeJSON
import Redis

/// `subscription.upsert`: records (or renews) a user's subscription and schedules its expiration reminders, one per
/// configured offset (`REMINDER_OFFSETS_DAYS`), in the `{reminders}:due` set that `reminders.expiration` sweeps.
///
/// A new `expires_at` (a renewal) drops the old expiry's pending reminders and cancels its `sms.send` jobs that are
/// still waiting (deferred by quiet hours, say). Offsets whose day is already past are skipped; one whose day is
/// today is released by the next sweep. The same `expires_at` again only updates phone, name, plan and receipt.
public struct SubscriptionUpsertJob: JobHandler {
    public struct Payload: Decodable, Sendable {
        public var userID: FlexibleID
        public var phone: String
        public var firstName: String
        public var plan: FlexibleID?
        public var expiresAt: ExpiryDate
        public var receiptID: FlexibleID

        enum CodingKeys: String, CodingKey {
            case userID = "user_id", phone, firstName = "first_name", plan, expiresAt = "expires_at", receiptID = "receipt_id"
        }
    }

    public static let type = "subscription.upsert"
    let services: DomainServices

    public init(services: DomainServices) { self.services = services }

    public func run(_ payload: Payload, context: JobContext) async throws {
        let user: String, phone: String, name: String, receipt: String
        do {
            user = try ReminderValidation.userID(payload.userID)
            phone = try ReminderValidation.phone(payload.phone)
            name = try ReminderValidation.firstName(payload.firstName)
            receipt = try ReminderValidation.token(payload.receiptID.value, field: "receipt_id")
        } catch {
            throw JobFailure.permanent(error.message)
        }
        let calendar = services.calendar
        let expiry: Date
        switch payload.expiresAt.resolve(in: calendar) {
        case .success(let date): expiry = date
        case .failure(let error): throw JobFailure.permanent(error.message)
        }
        let now = try await services.clock.now()
        let schedule = ExpirationSchedule(calendar: calendar, offsets: services.settings.reminders.offsetsDays)
        let plan = schedule.plan(expiry: expiry, now: now)
        let expires = String(Int(expiry.timeIntervalSince1970))
        let keys = ReminderKeys(services: services)
        let ttl = max(0, Int(expiry.timeIntervalSince(now))) + ExpirationSchedule.retention
        var arguments = [user, expires, phone, name, payload.plan?.value ?? "", receipt, String(format: "%.0f", now.timeIntervalSince1970), String(ttl)]
        for (offset, due) in plan.scheduled { arguments += [String(offset), String(Int(due.timeIntervalSince1970))] }
        let reply = try await services.jobs.redis.run(
            ReminderScripts.upsert, keys: [keys.subscription(user), keys.due, keys.released(user)], arguments: arguments)
        let parts = reply.array ?? []
        let outcome = parts.first?.string ?? "new"
        let toCancel = parts.dropFirst(3).compactMap(\.string)
        let cancelled = try await ReleasedReminders.cancel(toCancel, jobs: services.jobs)
        var data: [String: JSONValue] = [
            "user_id": .string(user), "expires_at": .integer(Int64(expires)!), "outcome": .string(outcome),
            "cancelled_jobs": .integer(Int64(cancelled)),
        ]
        if outcome != "same" {
            data["scheduled_offsets"] = .array(plan.scheduled.map { .integer(Int64($0.offset)) })
            data["skipped_offsets"] = .array(plan.skipped.map { .integer(Int64($0)) })
        }
        if outcome == "renewed", let old = parts.count > 1 ? parts[1].string.flatMap({ Int64($0) }) : nil {
            data["previous_expires_at"] = .integer(old)
            data["dropped_reminders"] = .integer(Int64(parts[2].int ?? 0))
        }
        try await services.events.emit("subscription.upserted", data, at: now)
    }
}

/// `sms.send` jobs released for a subscription, cancelled when it is renewed or deleted.
enum ReleasedReminders {
    /// Cancels each `<queue>|<job id>` that is still waiting; returns how many were cancelled. A job already sent,
    /// or running now, is left alone.
    static func cancel(_ entries: [String], jobs: JobQueue) async throws -> Int {
        var cancelled = 0
        for entry in entries {
            guard let bar = entry.firstIndex(of: "|") else { continue }
            let queue = String(entry[..<bar]), id = String(entry[entry.index(after: bar)...])
            if try await jobs.cancel(id: id, queue: queue) == .cancelled { cancelled += 1 }
        }
        return cancelled
    }
}
