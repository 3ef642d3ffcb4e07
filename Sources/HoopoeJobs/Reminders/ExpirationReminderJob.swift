import Foundation
import HoopoeCore
import HoopoeJSON
import Logging

/// `reminders.expiration` (periodic, daily 09:00 Tehran): releases the expiration reminders that are due as
/// `sms.send` jobs (template `expiration_reminder`), each exactly once per (user, expiry, offset).
///
/// Exactly once: a reminder is moved from `{reminders}:due` to `{reminders}:claimed` atomically (two sweeps never
/// take the same one), its `sms.send` is enqueued with the once-key of its message id (a retry or a sweep that
/// takes over a dead sweep's claim cannot enqueue it again), and only the enqueue that created the job emits
/// `reminder.queued`. No reminder is released while the sweep runs in quiet hours (`SMS_QUIET_HOURS`): the sweep puts
/// itself off to their end (``sweepAfterQuietHours(now:context:)``); one released in the 15 minutes before them goes
/// when they end (``ExpirationRelease``). When several offsets of one expiry are due at once (downtime, quiet hours), only the
/// nearest is sent; the others are skipped as superseded (``ExpirationRelease``). No reminder is sent once its
/// expiry has passed (skipped as `expired`). With `REMINDER_EMAIL_TEMPLATE_ID` set, each released reminder also
/// goes out as an `email.send` (Brevo transactional email) to the subscription's `email`, when it has one.
public struct ExpirationReminderJob: JobHandler {
    public typealias Payload = ReminderTick
    public static let type = "reminders.expiration"
    /// Reminders taken per claim call.
    static let batch = 200
    /// A claim older than this (real seconds) belongs to a sweep that died: the next sweep takes it.
    public static let lease = 300

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
            try await sweepAfterQuietHours(now: now, context: context)
        }
        let store = SubscriptionStore(services: services)
        // Redis's time of this sweep's latest claim: a sweep that fails after claiming retries once the claims it
        // holds are free to take (their lease ran out). Retried sooner, it found them taken and did nothing, and they
        // waited for the next day's sweep (an offset-0 reminder was then skipped as expired).
        var lastClaim: Int?
        do {
            while true {
                let (members, claimedAt) = try await store.claim(
                    now: now, limit: Self.batch, lease: Self.lease, offsets: settings.offsetsDays, claimant: context.id)
                if members.isEmpty { return }
                lastClaim = claimedAt
                try await release(members, store: store, receiptBase: receiptBase, now: now, claimant: context.id)
            }
        } catch let error where lastClaim != nil && !(error is CancellationError) {
            let retryAt = Double(lastClaim!) + Double(Self.lease) + 15
            throw JobFailure.retry("\(error); retried once this sweep's claims are free to take again (\(Self.lease) s after them)", at: retryAt)
        }
    }

    /// Puts this sweep off to the end of quiet hours, as a `reminders.expiration` job of its own, and ends this one as
    /// deferred: nothing is released now, and the reminders that are due go out when quiet hours end.
    ///
    /// Why not just return, as it did: the schedule runs the sweep once a day (09:00 Tehran), so with quiet hours that
    /// cover 09:00 (`SMS_QUIET_HOURS=22-10`, or `HOOPOE_TIME_ZONE=UTC` with the default 22-08: 09:00 Tehran is 05:30 UTC)
    /// every sweep found itself in quiet hours, and no expiration reminder ever went out. The once-key (the end's time)
    /// makes two sweeps in the same quiet hours (a catch-up, a retry) put off one sweep, not two.
    private func sweepAfterQuietHours(now: Date, context: JobContext) async throws -> Never {
        let quiet = services.settings.sms.quietHours
        let end = quiet.nextAllowed(after: now, in: services.calendar)
        let runAt = services.clock.realTime(for: end, now: now)
        let endSecond = Int64(end.timeIntervalSince1970.rounded(.towardZero))
        let result = try await services.jobs.enqueue(
            type: Self.type, payload: .object(["tick": .integer(endSecond)]),
            options: EnqueueOptions(
                queue: context.queue, runAt: runAt, onceKey: "reminders.expiration:after-quiet-hours:\(endSecond)", onceFor: .seconds(2 * 86_400)))
        let id = result.jobID
        let hours = "quiet hours \(quiet.startHour)-\(quiet.endHour)"
        if id == context.id {
            // This run is the put-off sweep, run before quiet hours end (an operator ran it now; a simulated clock behind
            // the real one): it waits for its time as a retry, rather than putting itself off to itself, which would end
            // it and leave the reminders due until the next day's sweep.
            throw JobFailure.retry("\(hours): this put-off sweep ran before they end; waiting for them", at: runAt.timeIntervalSince1970 + 1)
        }
        throw JobFailure.deferred("\(hours): no reminder released now; the sweep runs again when they end, as job \(id)", to: id)
    }

    /// Releases one claim call's members, grouped by (expiry, user).
    private func release(_ members: [String], store: SubscriptionStore, receiptBase: String, now: Date, claimant: String) async throws {
        var groups: [String: [DueReminder]] = [:]
        for member in members {
            guard let reminder = DueReminder(member: member) else {
                try await store.finishClaims([member], claimant: claimant)
                continue
            }
            groups["\(reminder.expiresAt)|\(reminder.user)", default: []].append(reminder)
        }
        let release = ExpirationRelease(services: services, receiptBase: receiptBase, claimant: claimant)
        for group in groups.values {
            try await release.release(group, now: now)
        }
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
