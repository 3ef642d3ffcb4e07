import Foundation
import HoopoeCore
import HoopoeJSON
import Redis

/// `subscription.delete`: forgets a user's subscription, drops its pending expiration reminders and cancels its
/// released `sms.send` jobs that are still waiting. Deleting an unknown user is not an error (emits `existed: false`).
public struct SubscriptionDeleteJob: JobHandler {
    public struct Payload: Decodable, Sendable {
        public var userID: FlexibleID
        enum CodingKeys: String, CodingKey { case userID = "user_id" }
    }

    public static let type = "subscription.delete"
    let services: DomainServices

    public init(services: DomainServices) { self.services = services }

    public func run(_ payload: Payload, context: JobContext) async throws {
        let user: String
        do { user = try ReminderValidation.userID(payload.userID) } catch { throw JobFailure.permanent(error.message) }
        let keys = ReminderKeys(services: services)
        let reply = try await services.jobs.redis.run(
            ReminderScripts.delete, keys: [keys.subscription(user), keys.due, keys.released(user)], arguments: [user])
        let parts = reply.array ?? []
        let cancelled = try await ReleasedReminders.cancel(parts.dropFirst(2).compactMap(\.string), jobs: services.jobs)
        try await services.events.emit("subscription.deleted", [
            "user_id": .string(user), "existed": .bool(parts.first?.int == 1),
            "dropped_reminders": .integer(Int64(parts.count > 1 ? parts[1].int ?? 0 : 0)), "cancelled_jobs": .integer(Int64(cancelled)),
        ], at: try await services.clock.now())
    }
}
