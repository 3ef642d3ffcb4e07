import Foundation
import HoopoeCore

/// The email beside an expiration reminder SMS: an `email.send` from the Brevo template
/// `REMINDER_EMAIL_TEMPLATE_ID`, on the same offsets, once per (user, expiry, offset). Off while the template id is
/// unset, and for a subscription without an `email`.
///
/// Template params (jobs/types/reminders.expiration.md): `first_name`, `days_left` (Persian digits),
/// `days_left_text` (Persian: «امروز», «فردا», «۳ روز دیگر»), `expiry_date` (Solar Hijri, Persian digits,
/// `۱۴۰۳/۰۹/۲۵`), `receipt_url`, `plan`.
struct ReminderEmail: Sendable {
    let services: DomainServices

    /// Enqueues the email of `message`; returns the job's id and its `<queue>|<id>` entry (the one enqueued before, for
    /// a release run again), or nil when there is nothing to send (off, no address).
    func enqueue(_ message: ReminderMessage, to address: String?, plan: String?) async throws -> (id: String, job: String)? {
        guard let template = services.settings.reminders.emailTemplateID, let address, !address.isEmpty else { return nil }
        let persianDate = Self.persianDigits(services.calendar.persianDate(message.expiry))
        let payload = EmailSendPayload(
            messageID: message.emailMessageID, email: address, name: message.firstName, templateID: template,
            params: [
                "first_name": message.firstName, "days_left": Self.persianDigits(String(message.daysLeft)),
                "days_left_text": Self.daysLeftText(message.daysLeft), "expiry_date": persianDate,
                "receipt_url": message.receiptLink, "plan": plan ?? "",
            ],
            userID: message.user, purpose: "reminder.expiration",
            // As the SMS beside it: the days left and «فردا» are fixed now, and an email retried for days (the engine's
            // 25 attempts span about three weeks) arrived after the expiry.
            notAfter: message.notAfter.timeIntervalSince1970)
        let queue = services.settings.reminders.emailQueue
        let id = try await payload.enqueue(on: services.jobs, queue: queue, runAt: message.runAt).jobID
        return (id, "\(queue)|\(id)")
    }

    /// «امروز» (today), «فردا» (tomorrow), else «N روز دیگر» (N more days) with Persian digits.
    static func daysLeftText(_ days: Int) -> String {
        switch days {
        case ...0: "امروز"
        case 1: "فردا"
        default: "\(persianDigits(String(days))) روز دیگر"
        }
    }

    /// `1403/09/25` → `۱۴۰۳/۰۹/۲۵`.
    static func persianDigits(_ text: String) -> String {
        String(text.unicodeScalars.map { scalar -> Character in
            guard ("0"..."9").contains(scalar), let persian = Unicode.Scalar(0x06F0 + scalar.value - 0x30) else { return Character(scalar) }
            return Character(persian)
        })
    }
}
