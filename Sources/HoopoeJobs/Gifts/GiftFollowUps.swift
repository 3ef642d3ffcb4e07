import Foundation
import HoopoeCore
import HoopoeJSON

/// The delayed jobs one gift schedules: its `gift.expire` at `expires_at` and its reminder `sms.send` before it.
///
/// Both have ids derived from the gift (`gift.expire:<user_gift_id>`, `gift.reminder:<user_gift_id>`) so that
/// `gift.used` can cancel them by id, and once-keys so that a re-delivered `gift.granted` never schedules them
/// twice (not even after they ran or were cancelled).
struct GiftFollowUps: Sendable {
    let services: DomainServices

    static func expireJobID(_ gift: DomainIdentifier) -> String { "gift.expire:\(gift)" }
    static func reminderJobID(_ gift: DomainIdentifier) -> String { "gift.reminder:\(gift)" }
    /// The reminder's `message_id` (the `sms.send` idempotency key) is its job id.
    static func reminderMessageID(_ gift: DomainIdentifier) -> String { reminderJobID(gift) }

    /// Schedules `gift.expire` for the gift at `expiresAt` (domain time) plus `GIFT_EXPIRE_GRACE_SECONDS`.
    func scheduleExpiry(user: DomainIdentifier, gift: DomainIdentifier, expiresAt: Date, now: Date, queue: String) async throws -> EnqueueResult {
        let payload = GiftExpireJob.Payload(userID: user, userGiftID: gift, expiresAt: expiresAt.timeIntervalSince1970)
        let runAt = expiresAt.addingTimeInterval(Double(services.settings.gifts.expireGraceSeconds))
        return try await services.jobs.enqueue(payload, options: EnqueueOptions(
            queue: queue, runAt: services.clock.realTime(for: runAt, now: now), onceKey: Self.expireJobID(gift),
            onceFor: .seconds(Int64(min(max(0, expiresAt.timeIntervalSince(now)), EnvelopeRules.maxKeySeconds - 7 * 86_400)) + 7 * 86_400), id: Self.expireJobID(gift)))
    }

    /// Schedules the reminder SMS `GIFT_REMINDER_BEFORE_HOURS` before `expiresAt` (moved out of quiet hours and the
    /// margin before them, see ``GiftReminderTiming``), unless that time has passed.
    /// - Returns: nil when no reminder was due (too late, or reminders are off).
    func scheduleReminder(user: DomainIdentifier, gift: DomainIdentifier, phone: String, serviceName: String?, expiresAt: Date, now: Date, queue: String) async throws -> EnqueueResult? {
        guard let timing = GiftReminderTiming.plan(
            expiresAt: expiresAt, hoursBefore: services.settings.gifts.reminderBeforeHours, quietHours: services.settings.sms.quietHours,
            calendar: services.calendar, now: now)
        else { return nil }
        let remindAt = timing.sendAt
        let tokens = ["token": String(timing.hoursLeft), "token20": Self.token20(serviceName ?? "")]
        let message = SMSSendPayload(
            messageID: Self.reminderMessageID(gift), phone: phone, template: "gift_reminder", tokens: tokens, userID: user.value,
            purpose: "gift.reminder", notAfter: Self.reminderNotAfter(sendAt: remindAt, expiresAt: expiresAt).timeIntervalSince1970)
        // Our own job id, to cancel it when the gift is used.
        return try await message.enqueue(
            on: services.jobs, queue: queue, runAt: services.clock.realTime(for: remindAt, now: now), id: Self.reminderJobID(gift))
    }

    /// How late the reminder may still go out: an hour after its time, and never after the gift expired. Its text says
    /// the whole hours left at `sendAt`; `sms.send`'s retries (about 6 hours) or a deferral to the end of quiet hours
    /// sent "3 hours left" at 17:07 for an 18:00 expiry, or after it. A run past it ends `outdated` (sms.send).
    static func reminderNotAfter(sendAt: Date, expiresAt: Date) -> Date {
        min(sendAt.addingTimeInterval(3600), expiresAt)
    }

    /// Cancels both if they are still waiting, and the reminder's message in the SMS ledger: a reminder that quiet
    /// hours or the daily cap put off waits under another job id, and must not go out for a used gift either. A job
    /// already running is not interrupted: `gift.expire` then finds the gift used and does nothing.
    func cancel(gift: DomainIdentifier, queue: String) async throws -> (expire: CancelResult, reminder: CancelResult) {
        let expire = try await services.jobs.cancel(id: Self.expireJobID(gift), queue: queue)
        let reminder = try await services.jobs.cancel(id: Self.reminderJobID(gift), queue: queue)
        _ = try await SMSLedger(services: services).cancel(Self.reminderMessageID(gift), reason: "the gift was used")
        return (expire, reminder)
    }

    /// The reminder's message will not go out after the gift expired ("N hours left" for a gift that is gone), even
    /// when it was put off past the expiry; one already sent stays sent.
    func cancelReminderMessage(gift: DomainIdentifier) async throws {
        _ = try await SMSLedger(services: services).cancel(Self.reminderMessageID(gift), reason: "the gift expired")
    }

    /// What `token20` shows when the grant names no service: "هدیه" ("gift"). The template needs the token.
    static let defaultServiceName = "هدیه"

    /// A service name Kavenegar's `token20` accepts (sms.send checks it): letters, digits and `-` kept, anything else
    /// (separators `_ , ; |`, whitespace, emoji, brackets) a space, at most 9 words (8 spaces) and 100 characters;
    /// ``defaultServiceName`` when nothing is left. Kavenegar's tokens hold "Persian and English letters and digits"
    /// (seed 002), and answers 422 ("an unsuitable character") otherwise, a refusal for good; the panel's own service
    /// names carry emoji (`لایک پست - ایرانی کیفیت خوب (سرعت بالا) ⚡️`). The rule is
    /// ``SMSTokenText``'s, which first names share.
    static func token20(_ name: String) -> String {
        let text = SMSTokenText.words(name, maxSpaces: 8)
        return text.isEmpty ? defaultServiceName : text
    }
}
