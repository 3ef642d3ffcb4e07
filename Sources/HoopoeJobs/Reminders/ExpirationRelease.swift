import Foundation
import HoopoeCore
import HoopoeJSON

/// Turns the claimed reminders of one (user, expiry) into messages: the nearest offset is sent, the others are
/// skipped as superseded. Shared by the daily sweep (`reminders.expiration`) and by `subscription.upsert`, which
/// releases a reminder it arrived too late for (``ExpirationSchedule/Plan/missed``). One released just before quiet
/// hours goes when they end, with the days left then (``sendTime(now:expiry:)``).
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
        var skipped: [(DueReminder, String)] = []
        if let sub, sub.expiresAt == first.expiresAt, expiry > now {
            let sendAt = sendTime(now: now, expiry: expiry)
            if sendAt > now, let nearer = try await store.earliestDue(
                user: first.user, expiresAt: first.expiresAt, offsets: services.settings.reminders.offsetsDays.filter { $0 < first.offset }),
                nearer <= sendAt, expiry >= Self.endOfDay(sendAt, calendar: services.calendar)
            {
                // By the end of quiet hours a nearer offset's day has begun: its reminder goes that morning, with the
                // days left then, and this one would say the same an hour before it. Only when the expiry outlasts that
                // day: one timed before the morning's sweep (08:30) would see neither, this one skipped and the nearer
                // released after the expiry.
                skipped = sorted.map { ($0, "superseded") }
            } else {
                try await release(sorted, subscription: sub, expiry: expiry, sendAt: sendAt, now: now, store: store)
                return
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

    /// When the reminder released at `now` goes out (domain time): now, unless quiet hours (`SMS_QUIET_HOURS`) hold
    /// now or begin within ``QuietHours/margin`` and last past the end of the day — then the moment they end, with the
    /// days left counted then, if the expiry is still ahead at that moment.
    ///
    /// Why: the SMS's "N days left" holds on its day only (its `not_after`), and `sms.send` puts a message caught by
    /// quiet hours off to their end. Released at 21:59, it ran at 22:00 and would have gone at 08:00 the next day, past
    /// its `not_after`: it ended `outdated`, and the user had no reminder for that offset. Quiet hours that end the
    /// same day (`13-15`) put it off within its day, and it goes then as it is; an expiry before their end leaves
    /// now as the only time it can go.
    private func sendTime(now: Date, expiry: Date) -> Date {
        let calendar = services.calendar
        guard let end = services.settings.sms.quietHours.endIfCaught(at: now, in: calendar) else { return now }
        return end > Self.endOfDay(now, calendar: calendar) && end < expiry ? end : now
    }

    /// The last second of `date`'s local day.
    static func endOfDay(_ date: Date, calendar: LocalCalendar) -> Date {
        calendar.adding(days: 1, to: calendar.startOfDay(date)).addingTimeInterval(-1)
    }

    /// Enqueues the SMS (and the email) of the nearest reminder, `group`'s first, to go at `sendAt`; skips the rest as
    /// superseded, records the jobs for a renewal to cancel, announces them, and finishes the group's claims.
    private func release(
        _ sorted: [DueReminder], subscription sub: SubscriptionStore.Subscription, expiry: Date, sendAt: Date, now: Date, store: SubscriptionStore
    ) async throws {
        let first = sorted[0]
        let calendar = services.calendar
        let daysLeft = calendar.daysBetween(sendAt, expiry)
        let skipped = sorted.dropFirst().map { ($0, "superseded") }
        let message = ReminderMessage(
            user: first.user, expiresAt: first.expiresAt, offset: first.offset, daysLeft: daysLeft, expiry: expiry,
            firstName: sub.firstName, receiptLink: "\(receiptBase)/\(sub.receiptID)",
            // "N days left" holds on the day it goes out only, and nothing is said after the expiry: a send held up past
            // both (an outage, the daily cap) ends `outdated` rather than go out wrong.
            notAfter: min(expiry, Self.endOfDay(sendAt, calendar: calendar)),
            runAt: sendAt > now ? services.clock.realTime(for: sendAt, now: now) : nil)
        let sms = SMSSendPayload(
            messageID: message.smsMessageID, phone: sub.phone, template: "expiration_reminder",
            tokens: [
                "token10": message.firstName, "token": String(daysLeft),
                "token2": calendar.persianDate(expiry), "token3": message.receiptLink,
            ],
            userID: first.user, purpose: "reminder.expiration", notAfter: message.notAfter.timeIntervalSince1970)
        let queue = services.settings.reminders.smsQueue
        let result = try await sms.enqueue(on: services.jobs, queue: queue, runAt: message.runAt)
        // Released before and done since — cancelled (a delete or a renewal, then the same expiry upserted again within
        // the once-key's 30 days), sent or given up: its once-key names that job, which will not send again. Recorded
        // and announced, it made a `reminder.queued` for nothing.
        if result.createdID == nil, try await SMSLedger(services: services).record(message.smsMessageID)?.isSettled == true {
            for (reminder, reason) in skipped {
                try await services.events.emit(
                    ReminderSkipped(userID: reminder.user, expiresAt: reminder.expiresAt, offset: reminder.offset, reason: reason), at: now)
            }
            try await store.finishClaims(sorted.map(\.member), claimant: claimant)
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
        for (reminder, reason) in skipped {
            try await services.events.emit(
                ReminderSkipped(userID: reminder.user, expiresAt: reminder.expiresAt, offset: reminder.offset, reason: reason), at: now)
        }
        try await store.finishClaims(sorted.map(\.member), claimant: claimant)
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
    /// The last moment its SMS and its email may go out (domain time): the end of the day they go out, or the expiry
    /// when sooner. The email's «فردا» ("tomorrow") is as wrong the day after as the SMS's "1 day left".
    let notAfter: Date
    /// When both are to go (real time, for the engine), when not at once: the end of the quiet hours the release came
    /// just before (``ExpirationRelease``). The email goes with the SMS: one reminder, one count of days, one moment.
    let runAt: Date?

    /// The `sms.send` message id (and once-key): `reminder.expiration:<user>:<expires_at>:<offset>`.
    var smsMessageID: String { "reminder.expiration:\(user):\(expiresAt):\(offset)" }
    /// The `email.send` message id: `reminder.expiration.email:<user>:<expires_at>:<offset>`.
    var emailMessageID: String { "reminder.expiration.email:\(user):\(expiresAt):\(offset)" }
}
