import Foundation
import HoopoeCore
import HoopoeJSON

/// Turns the claimed reminders of one (user, expiry) into messages: the nearest offset is sent, the others are
/// skipped as superseded. Shared by the daily sweep (`reminders.expiration`) and by `subscription.upsert`, which
/// releases a reminder it arrived too late for (``ExpirationSchedule/Plan/missed``).
///
/// Exactly once per (user, expiry, offset): each message is enqueued with the once-key of its message id. Its job is
/// recorded (for a renewal or delete to cancel) and announced (`reminder.queued`) by the enqueue that created it and
/// again by a release run after one that failed on the way (then the once-key names the job): one that failed after
/// its enqueue left it unrecorded, so a renewal did not cancel it, and unannounced for good.
struct ExpirationRelease: Sendable {
    let services: DomainServices
    /// `RECEIPT_BASE_URL`: the receipt link is `<base>/<receipt_id>`.
    let receiptBase: String
    /// The id of the job that claimed the reminders (a sweep, or an upsert): its claims are finished here.
    let claimant: String

    /// Sends the nearest reminder of one (user, expiry), skips the rest, and finishes their claims.
    func release(_ group: [DueReminder], now: Date) async throws {
        let store = SubscriptionStore(services: services)
        let sorted = group.sorted { $0.offset < $1.offset }
        let first = sorted[0]
        let sub = try await store.subscription(first.user)
        let expiry = Date(timeIntervalSince1970: Double(first.expiresAt))
        let daysLeft = services.calendar.daysBetween(now, expiry)
        var skipped: [(DueReminder, String)] = []
        if let sub, sub.expiresAt == first.expiresAt, expiry > now {
            skipped = sorted.dropFirst().map { ($0, "superseded") }
            let message = ReminderMessage(
                user: first.user, expiresAt: first.expiresAt, offset: first.offset, daysLeft: daysLeft, expiry: expiry,
                firstName: sub.firstName, receiptLink: "\(receiptBase)/\(sub.receiptID)",
                // "N days left" holds on the release's day only, and nothing is said after the expiry: a send held up
                // past both (an outage, quiet hours, the daily cap) ends `outdated` rather than go out wrong.
                notAfter: min(expiry, services.calendar.adding(days: 1, to: services.calendar.startOfDay(now)).addingTimeInterval(-1)))
            let sms = SMSSendPayload(
                messageID: message.smsMessageID, phone: sub.phone, template: "expiration_reminder",
                tokens: [
                    "token10": message.firstName, "token": String(daysLeft),
                    "token2": services.calendar.persianDate(expiry), "token3": message.receiptLink,
                ],
                userID: first.user, purpose: "reminder.expiration", notAfter: message.notAfter.timeIntervalSince1970)
            let queue = services.settings.reminders.smsQueue
            let result = try await sms.enqueue(on: services.jobs, queue: queue)
            // Released before and done since — cancelled (a delete or a renewal, then the same expiry upserted again within
            // the once-key's 30 days), sent or given up: its once-key names that job, which will not send again. Recorded
            // and announced, it made a `reminder.queued` for nothing.
            if result.createdID == nil, try await SMSLedger(services: services).record(message.smsMessageID)?.isSettled == true {
                for (reminder, reason) in skipped {
                    try await services.events.emit(
                        ReminderSkipped(userID: reminder.user, expiresAt: reminder.expiresAt, offset: reminder.offset, reason: reason), at: now)
                }
                try await store.finishClaims(group.map(\.member), claimant: claimant)
                return
            }
            let smsJob = result.jobID
            var created: [(field: String, job: String)] = [
                ("\(first.expiresAt)|\(first.offset)", ReleasedReminders.entry(queue: queue, job: smsJob, smsMessageID: message.smsMessageID))
            ]
            let email = try await ReminderEmail(services: services).enqueue(message, to: sub.email, plan: sub.plan)
            if let email { created.append(("\(first.expiresAt)|\(first.offset)|email", email.job)) }
            let ttl = ExpirationSchedule.retention + max(0, Int(min(expiry.timeIntervalSince(now), 1e10)))
            try await store.recordReleased(first.user, created, ttl: ttl)
            try await services.events.emit(ExpirationReminderQueued(
                userID: first.user, channel: "sms", expiresAt: first.expiresAt, offset: first.offset, daysLeft: daysLeft,
                messageID: message.smsMessageID, jobID: smsJob), at: now)
            if let email {
                try await services.events.emit(ExpirationReminderQueued(
                    userID: first.user, channel: "email", expiresAt: first.expiresAt, offset: first.offset, daysLeft: daysLeft,
                    messageID: message.emailMessageID, jobID: email.id), at: now)
            }
            // A renewal that ran between the check above and the record: it could not see these jobs, so cancel here.
            if try await store.expiresAt(first.user) != first.expiresAt {
                _ = try await ReleasedReminders.cancel(created.map(\.job), services: services)
            }
        } else {
            let reason = sub == nil ? "deleted" : sub?.expiresAt != first.expiresAt ? "renewed" : "expired"
            skipped = sorted.map { ($0, reason) }
        }
        for (reminder, reason) in skipped {
            try await services.events.emit(
                ReminderSkipped(userID: reminder.user, expiresAt: reminder.expiresAt, offset: reminder.offset, reason: reason), at: now)
        }
        try await store.finishClaims(group.map(\.member), claimant: claimant)
    }
}

/// One expiration reminder's content, shared by its SMS and its email.
struct ReminderMessage: Sendable {
    let user: String
    let expiresAt: Int64
    let offset: Int
    let daysLeft: Int
    let expiry: Date
    let firstName: String
    let receiptLink: String
    /// The last moment its SMS and its email may go out (domain time): the end of the release's day, or the expiry
    /// when sooner. The email's «فردا» ("tomorrow") is as wrong the day after as the SMS's "1 day left".
    let notAfter: Date

    /// The `sms.send` message id (and once-key): `reminder.expiration:<user>:<expires_at>:<offset>`.
    var smsMessageID: String { "reminder.expiration:\(user):\(expiresAt):\(offset)" }
    /// The `email.send` message id: `reminder.expiration.email:<user>:<expires_at>:<offset>`.
    var emailMessageID: String { "reminder.expiration.email:\(user):\(expiresAt):\(offset)" }
}
