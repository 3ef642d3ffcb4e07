import Foundation
import HoopoeCore
import HoopoeJSON

/// `subscription.upsert`: records (or renews) a user's subscription and schedules its expiration reminders, one per
/// configured offset (`REMINDER_OFFSETS_DAYS`), in the `{reminders}:due` set that `reminders.expiration` sweeps.
///
/// Arriving late is not losing a reminder: when the expiry is ahead but an offset's day has already begun (the upsert
/// came after that day's sweep, or days into the offset's window), the nearest such offset is released at once —
/// outside quiet hours; inside them it stays due for the next sweep — and older ones are skipped
/// (``ExpirationSchedule``). A new `expires_at` (a renewal) drops the old expiry's pending reminders and cancels its
/// `sms.send`/`email.send` jobs still waiting. The same `expires_at` again only updates phone, name, plan, receipt and
/// email.
///
/// The receipt link `RECEIPT_BASE_URL/<receipt_id>` becomes the SMS's Kavenegar `token3`, so a `receipt_id` that
/// would make Kavenegar refuse every reminder (431: underscore, space, separator, over 100 characters) is refused
/// here, with the reason, not weeks later at send time.
public struct SubscriptionUpsertJob: JobHandler {
    public struct Payload: JobPayload {
        public static let jobType = "subscription.upsert"
        public var userID: DomainID<AnyText>
        public var phone: String
        public var firstName: String
        public var plan: DomainID<AnyText>?
        public var expiresAt: ExpiryDate
        public var receiptID: DomainID<AnyText>
        /// Where reminder emails go (only used with `REMINDER_EMAIL_TEMPLATE_ID`).
        public var email: String?

        enum CodingKeys: String, CodingKey {
            case userID = "user_id", phone, firstName = "first_name", plan, expiresAt = "expires_at", receiptID = "receipt_id", email
        }
    }

    let services: DomainServices

    public init(services: DomainServices) { self.services = services }

    public func run(_ payload: Payload, context: JobContext) async throws {
        let user: String, phone: String, name: String, receipt: String
        do {
            user = try ReminderValidation.userID(payload.userID)
            phone = try ReminderValidation.phone(payload.phone)
            name = try ReminderValidation.firstName(payload.firstName)
            receipt = try ReminderValidation.receiptID(payload.receiptID.value)
        } catch {
            throw JobFailure.permanent(error.message)
        }
        let settings = services.settings.reminders
        if let base = settings.receiptBaseURL, let problem = ReminderSettings.receiptLinkProblem(base: base, receiptID: receipt) {
            throw JobFailure.permanent("receipt_id \(receipt): \(problem)")
        }
        let email = payload.email?.trimmingCharacters(in: .whitespaces) ?? ""
        if !email.isEmpty, !EmailSendPayload.isAddress(email) {
            throw JobFailure.permanent("email is not an email address (it receives the reminder emails)")
        }
        let calendar = services.calendar
        let expiry: Date
        switch payload.expiresAt.resolve(in: calendar) {
        case .success(let date): expiry = date
        case .failure(let error): throw JobFailure.permanent(error.message)
        }
        let now = try await services.clock.now()
        let schedule = ExpirationSchedule(calendar: calendar, offsets: settings.offsetsDays)
        let plan = schedule.plan(expiry: expiry, now: now)
        // `resolve` keeps expiries within 1970-2199, so these conversions cannot trap.
        let expires = Int64(expiry.timeIntervalSince1970)
        let store = SubscriptionStore(services: services)
        let ttl = Int(max(0, expiry.timeIntervalSince(now))) + ExpirationSchedule.retention
        let subscription = SubscriptionStore.Subscription(
            user: user, expiresAt: expires, phone: phone, firstName: name, plan: payload.plan?.value ?? "", receiptID: receipt, email: email)
        let recorded = try await store.upsert(
            subscription, now: now, ttl: ttl, reminders: plan.scheduled + (plan.missed.map { [$0] } ?? []), jobID: context.id)
        let outcome = recorded.outcome
        // Counted on the record before the entries are forgotten: a run again (its event write failed) reads it there.
        let cancelled = try await store.countCancelled(
            try await ReleasedReminders.cancel(recorded.toCancel.map(\.job), services: services), by: context.id, user: user, deleting: false)
        try await store.forgetReleased(user, recorded.toCancel)
        var event = SubscriptionUpserted(userID: user, expiresAt: expires, outcome: outcome, cancelledJobs: cancelled)
        if outcome != "same" {
            event.scheduledOffsets = plan.scheduled.map(\.offset)
            event.skippedOffsets = plan.skipped
            event.lateOffset = OrNull(plan.missed?.offset)
        }
        if outcome == "renewed", let old = recorded.previousExpiresAt {
            event.previousExpiresAt = old
            event.droppedReminders = recorded.dropped
        }
        try await services.events.emit(event, at: now)
        if let missed = plan.missed {
            try await releaseLate(offset: missed.offset, expires: expires, user: user, now: now, store: store, claimant: context.id)
        }
    }

    /// Releases the late reminder now, as the sweep would, unless quiet hours hold it (then the next sweep releases
    /// it with the days left on that day); in the 15 minutes before them it is released for their end
    /// (``ExpirationRelease``). Also runs for a repeated upsert (`same`): a retry after a crash between
    /// the record and this release finishes it, and so does one after a failed release (its claim is this job's, taken
    /// back at once); a reminder already released is no longer due and is left alone.
    private func releaseLate(offset: Int, expires: Int64, user: String, now: Date, store: SubscriptionStore, claimant: String) async throws {
        guard let base = services.settings.reminders.receiptBaseURL,
              !services.settings.sms.quietHours.contains(now, in: services.calendar),
              let reminder = DueReminder(member: "\(offset)|\(expires)|\(user)")
        else { return }
        guard try await store.claimOne(reminder.member, claimant: claimant) else { return }
        try await ExpirationRelease(services: services, receiptBase: base, claimant: claimant).release([reminder], now: now)
    }
}

/// `sms.send` and `email.send` jobs released for a subscription, cancelled when it is renewed or deleted.
enum ReleasedReminders {
    /// An entry as recorded: `<queue>|<job id>`, and for an SMS `|<message id>` after it.
    static func entry(queue: String, job: String, smsMessageID: String? = nil) -> String {
        [queue, job, smsMessageID].compactMap { $0 }.joined(separator: "|")
    }

    /// Cancels each recorded job that is still waiting, and marks each SMS message cancelled in the ledger (an SMS
    /// put off by quiet hours or the daily cap waits as another job, under an id not recorded here); returns how many
    /// messages will not go out. A message already sent, or being sent now, is left alone.
    static func cancel(_ entries: [String], services: DomainServices) async throws -> Int {
        var cancelled = 0
        for entry in entries {
            let parts = entry.split(separator: "|", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            guard parts.count >= 2 else { continue }
            var stopped = try await services.jobs.cancel(id: parts[1], queue: parts[0]) == .cancelled
            if parts.count == 3 {
                stopped = try await SMSLedger(services: services).cancel(parts[2], reason: "its subscription was renewed or deleted") || stopped
            }
            if stopped { cancelled += 1 }
        }
        return cancelled
    }
}
