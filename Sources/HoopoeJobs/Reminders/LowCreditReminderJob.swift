import Foundation
import HoopoeCore
import HoopoeJSON
import Logging
import Providers

/// `reminders.low_credit` (periodic, every 15 minutes): refreshes balances from Brevo within the budget, compares
/// every user's balance with their thresholds, and enqueues one `sms.send` (template `low_credit`) when the balance
/// falls below a threshold; a threshold re-arms once the balance is at or above it again. A drop past several
/// thresholds at once texts only the lowest (the most urgent); the higher ones fire without an SMS of their own, so
/// the user does not get near-identical messages in the same second (`Lua/credit_evaluate.lua`). When the one that
/// texted re-arms, those the balance is still below fire again, the lowest texted: a top-up between them (which
/// cancels the waiting SMS) must not leave the user never told about the higher one. When the one that texted is
/// deleted instead (a config change), those still crossed are re-armed if its SMS never reached the user (cancelled,
/// outdated, or still waiting: stopped then), and fire at once, the lowest texted; if it reached the user, or may have,
/// they stay fired: one drop, one SMS (``settleOrphans(_:of:store:ledger:)``).
///
/// Exactly once per firing: the armed → fired flip and the outbox entry of its SMS are one Lua call; the outbox is
/// drained by enqueueing with the message id's once-key (a crash between the two is finished by the next run, never
/// doubled), and only the enqueue that created the job emits `reminder.queued`.
///
/// Never a stale balance: the SMS quotes the balance when the threshold fired, so it carries a `not_after`
/// (``smsValidFor`` after the firing), and a threshold that re-arms cancels its last message in the SMS ledger, as a
/// renewal cancels an expiration reminder. Before, an SMS fired at 23:00 and put off by quiet hours to 08:00 went out
/// at 08:00 quoting the low balance, although the user had topped up at midnight.
public struct LowCreditReminderJob: JobHandler {
    public typealias Payload = ReminderTick
    public static let type = "reminders.low_credit"

    let services: DomainServices

    public init(services: DomainServices) { self.services = services }

    public var timeout: Duration { .seconds(600) }

    /// How long after its threshold fired a low-credit SMS may still go out: a day. Quiet hours (`SMS_QUIET_HOURS`:
    /// at most 23 hours, 10 by default) put it off by less whenever it fires (at 21:59, to 08:00: 10 hours), and so
    /// does the daily cap (to the next morning) for a firing outside quiet hours; a balance more than a day old
    /// is no longer worth quoting (a top-up cancels the message anyway; a balance still low by then is lower still).
    /// A run past it ends `outdated` (`sms.send`), and the threshold stays fired until the balance is back above it.
    static let smsValidFor: TimeInterval = 86_400

    /// One sweep at a time (``CreditThresholdStore/sweepLock``): a run that finds another job sweeping has nothing to do
    /// (that sweep covers this tick) and ends; one that finds an earlier attempt of itself holding it (that run died, or
    /// stalls) runs again once the lock lapses.
    public func run(_ payload: ReminderTick, context: JobContext) async throws {
        let store = CreditThresholdStore(services: services)
        let holder = "\(context.id):\(context.attempt)"
        guard try await store.sweepLock.take(holder: holder, for: timeout + .seconds(60)) else {
            let current = try await store.sweepLock.holder()
            if let current, current.token.hasPrefix(context.id + ":") {
                throw JobFailure.retry(
                    "an earlier run of this reminders.low_credit job holds the sweep; trying again when its lock lapses",
                    at: Date().timeIntervalSince1970 + LockHolder.retryDelay(current, for: context, otherJob: 60))
            }
            context.logger.info("reminders.low_credit: another run is sweeping now and covers this one", metadata: ["sweeping": "\(current?.token ?? "(just finished)")"])
            return
        }
        do {
            try await sweep(store)
        } catch {
            try? await store.sweepLock.release(holder: holder)
            throw error
        }
        do {
            try await store.sweepLock.release(holder: holder)
        } catch {
            // The sweep is done: failing the job for its lock retried it, which then waited for its own lock and swept
            // again (the hour's Brevo budget spent twice). The lock lapses on its own within its time.
            context.logger.warning(
                "reminders.low_credit: the sweep finished but its lock could not be released; it lapses within \(timeout + .seconds(60))",
                metadata: ["error": "\(error)"])
        }
    }

    /// Drains the outbox, reads balances from Brevo within the budget, compares every user's balance with their
    /// thresholds and drains the outbox again.
    private func sweep(_ store: CreditThresholdStore) async throws {
        try await drainOutbox(store)
        let users = try await store.users()
        var brevoFailure: ProviderError?
        if let brevo = services.providers.brevo, services.settings.reminders.brevoRequestsPerHour > 0 {
            var wanted: [String: String] = [:]
            for user in users {
                for text in try await store.thresholdRecords(user) {
                    if let key = CreditThresholdStore.authKey(inRecord: text) {
                        wanted[user] = key
                        break
                    }
                }
            }
            if !wanted.isEmpty {
                var outcome = BrevoBalanceReader.Outcome()
                do {
                    try await BrevoBalanceReader(services: services, brevo: brevo).read(wanted, outcome: &outcome)
                } catch let error as ProviderError {
                    brevoFailure = error
                }
                try await services.events.emit(CreditBalancesRead(
                    requests: outcome.requests, matched: outcome.matched.count, wanted: wanted.count, budgetSpent: outcome.budgetSpent,
                    error: brevoFailure.map { "[\($0.code)] \($0.message)" }), at: try await services.clock.now())
            }
        }
        let ledger = SMSLedger(services: services)
        for user in users {
            var changes = try await store.evaluate(user, now: try await services.clock.now())
            if changes.contains(where: { $0.action == "orphaned" }) {
                // Nothing was changed: the silent thresholds whose carrier is gone are settled first, so that those re-armed
                // fire in the same evaluation as any other crossing, one SMS for them all.
                try await settleOrphans(changes, of: user, store: store, ledger: ledger)
                changes = try await store.evaluate(user, now: try await services.clock.now(), checkingOrphans: false)
            }
            for change in changes where change.action == "rearmed" {
                // Its last SMS, if still waiting (quiet hours, the daily cap, a backlog), would quote the balance the user
                // has just left behind. Cancelled before the event: a failure here leaves the threshold `rearming`, and the
                // next run cancels again (cancelling twice is harmless; one sent or being sent is left alone).
                if !change.messageID.isEmpty {
                    _ = try await ledger.cancel(change.messageID, reason: "the balance is back at or above its threshold")
                }
                try await services.events.emit(ReminderRearmed(userID: user, thresholdID: change.thresholdID), at: try await services.clock.now())
                try await store.rearmAnnounced(user, thresholdID: change.thresholdID)
            }
        }
        try await drainOutbox(store)
        if let brevoFailure {
            // Balances read before the failure were used; the run is retried per Brevo's disposition (429: after
            // x-sib-ratelimit-reset; 401/403: alert, parked).
            throw await ProviderFailurePolicy().failure(for: brevoFailure, alerts: ProviderAlerts(services: services))
        }
    }

    /// Settles `user`'s thresholds fired without an SMS whose carrier is gone (the `orphaned` of `changes`, each with the
    /// gone carrier's message id), per message: re-armed when it never reached the user, else given it as their own.
    ///
    /// Why the ledger decides: the carrier's SMS told the user of the drop, unless it never went out. Texting the silent
    /// ones regardless sent a second SMS for one drop (the first quoting a threshold the user has since deleted); never
    /// texting them, as before, left a user whose SMS was cancelled, outdated, or still waiting (a deletion does not stop
    /// it) told of nothing, or told at 08:00 of a threshold they had deleted in the night.
    func settleOrphans(
        _ changes: [(action: String, thresholdID: String, messageID: String)], of user: String, store: CreditThresholdStore, ledger: SMSLedger
    ) async throws {
        var byCarrier: [String: [String]] = [:]
        for change in changes where change.action == "orphaned" { byCarrier[change.messageID, default: []].append(change.thresholdID) }
        for (carrier, thresholds) in byCarrier.sorted(by: { $0.key < $1.key }) {
            let reached = try await Self.reachedUser(carrier, ledger: ledger)
            try await store.releaseSilent(user, thresholdIDs: thresholds, carrier: carrier, reachedUser: reached)
        }
    }

    /// Whether low-credit SMS `messageID` reached the user or may have (sent, given up after sends of unknown outcome, a
    /// send under way); one not sent yet is stopped here (cancelled), and then did not. A run that died after stopping it
    /// finds it `cancelled` and judges it the same way.
    static func reachedUser(_ messageID: String, ledger: SMSLedger) async throws -> Bool {
        if let record = try await ledger.record(messageID) {
            if record.unreconciledProvider != nil || record.unknownOutcomes > 0 { return true }
            switch record.state {
            case "sent", "unknown": return true
            case "failed", "cancelled": return false
            default: break
            }
        }
        // Not sent, nor being sent: waiting (quiet hours, the daily cap, a backlog), or never run. Stopped, it never will.
        return !(try await ledger.cancel(messageID, reason: "its threshold was deleted; the drop is texted for a threshold that remains"))
    }

    /// Enqueues every SMS in the outbox (once per message id) and removes it.
    func drainOutbox(_ store: CreditThresholdStore) async throws {
        let queue = services.settings.reminders.smsQueue
        for (message, text) in try await store.outbox() {
            guard let text, let entry = JSONValue.parse(Array(text.utf8)),
                let user = entry["user_id"]?.stringValue, let phone = entry["phone"]?.stringValue
            else {
                try await store.removeFromOutbox(message)
                continue
            }
            let balance = entry["balance"]?.stringValue ?? ""
            let threshold = entry["threshold"]?.stringValue ?? ""
            // An entry written before entries kept `fired_at` (an upgrade): fired in this sweep or the one before it.
            let firedAt: Double
            if let text = entry["fired_at"]?.stringValue, let value = Double(text) {
                firedAt = value
            } else {
                firedAt = try await services.clock.now().timeIntervalSince1970
            }
            let sms = SMSSendPayload(
                messageID: message, phone: phone, template: "low_credit",
                tokens: ["token10": entry["first_name"]?.stringValue ?? "", "token": balance, "token2": threshold],
                userID: user, purpose: "reminder.low_credit", notAfter: firedAt + Self.smsValidFor)
            let result = try await sms.enqueue(on: services.jobs, queue: queue)
            // Announced while the entry is in the outbox, also when its job was enqueued by a drain that failed before
            // the event (the once-key names that job): announced only by the enqueue that created it, it never was.
            try await services.events.emit(LowCreditReminderQueued(
                userID: user, thresholdID: OrNull(entry["threshold_id"]?.stringValue), threshold: threshold, balance: balance,
                messageID: message, jobID: result.jobID), at: try await services.clock.now())
            try await store.removeFromOutbox(message)
        }
    }
}
