import Foundation
import HoopoeCore
import HoopoeJSON

/// `subscription.delete`: forgets a user's subscription, drops its pending expiration reminders and cancels its
/// released `sms.send` jobs that are still waiting. Deleting an unknown user is not an error (emits `existed: false`).
public struct SubscriptionDeleteJob: JobHandler {
    public struct Payload: JobPayload {
        public static let jobType = "subscription.delete"
        public var userID: DomainID<AnyText>
        enum CodingKeys: String, CodingKey { case userID = "user_id" }
    }

    let services: DomainServices

    public init(services: DomainServices) { self.services = services }

    public func run(_ payload: Payload, context: JobContext) async throws {
        let user: String
        do { user = try ReminderValidation.userID(payload.userID) } catch { throw JobFailure.permanent(error.message) }
        let store = SubscriptionStore(services: services)
        let deleted = try await store.delete(user, jobID: context.id)
        // Counted on the delete mark before the entries are forgotten: a run again (its event write failed) reads it there.
        let cancelled = try await store.countCancelled(
            try await ReleasedReminders.cancel(deleted.toCancel.map(\.job), services: services), by: context.id, user: user, deleting: true)
        try await store.forgetReleased(user, deleted.toCancel)
        try await services.events.emit(SubscriptionDeleted(
            userID: user, existed: deleted.existed, droppedReminders: deleted.dropped, cancelledJobs: cancelled), at: try await services.clock.now())
    }
}
