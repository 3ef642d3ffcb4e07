import Foundation
import HoopoeCore
import HoopoeJSON
import Logging
import Providers

/// `email.send`: one transactional email through Brevo (`POST /v3/smtp/email`, a template id and params), at most
/// once per `message_id` (decision record 0014).
///
/// What makes "at most once" hold when an answer is lost (timeout, dropped connection, 5xx): before the first
/// request the job records `sending` and the time in `{email}:msg:<message_id>`; every request carries
/// `headers.idempotencyKey` (derived from the message id) and the message id as its only tag.
/// - A retry within ``idempotencyWindow`` of the first request re-sends with the same key: Brevo keeps keys 15
///   (changelog 2021) to 30 minutes (current guide) and refuses a repeated one with 400 `duplicate_parameter`
///   without processing it. The refusal alone is not proof (a key may outlive a request Brevo never processed):
///   recorded as sent (`reconciled: true`) when the events report lists the email, else retried after the key's
///   30 minutes, when the look-up below decides.
/// - A later retry first asks Brevo's email activity (`GET /v3/smtp/statistics/events?tags=<message_id>&email=…`):
///   an event with the tag means the email was accepted (recorded as sent, `reconciled: true`); none means it was
///   not, and it is sent again (a new window starts).
/// A `sent` record makes any later run a no-op. A run after the payload's `not_after` sends nothing: `email.failed`
/// (reason `outdated: …`), as `sms.send` (``endOutdated(_:notAfter:record:ledger:)``).
public struct EmailSendJob: JobHandler {
    public typealias Payload = EmailSendPayload

    /// Re-sending with the same idempotency key is safe this long after the first request: Brevo's 15 minutes (the
    /// shorter of its two documented TTLs) less
    /// a margin for clock drift and the request's own duration.
    static let idempotencyWindow: Double = 13 * 60
    /// The longest life of an idempotency key Brevo documents (the current guide's 30 minutes).
    static let keyLifetime: Double = 30 * 60
    let services: DomainServices

    public init(services: DomainServices) { self.services = services }

    public func run(_ payload: EmailSendPayload, context: JobContext) async throws {
        do {
            try await send(payload, context: context)
        } catch {
            // A retry on the last attempt ends the job as surely as a refusal: `email.failed` says so, by message id
            // (`job.dead` names only the job). Before, Brevo's 401/402/403 or 5xx until the attempts ran out ended in
            // silence for a caller waiting on the message id.
            // Not for a run cut short (the worker stopping: the job is handed back and runs again, maybe sent then).
            if context.attempt >= context.maxAttempts, Self.isRetry(error), !(error is CancellationError), !Task.isCancelled {
                let message = (error as? JobFailure)?.message ?? "\(error)"
                do {
                    try await emitFailed(payload, reason: "gave up after \(context.attempt) attempts: \(message)")
                } catch let emitError {
                    context.logger.warning("email.failed could not be written", metadata: ["error": "\(emitError)"])
                }
            }
            throw error
        }
    }

    /// Whether the engine retries after `error` (a JobFailure asking for it, or any other error).
    static func isRetry(_ error: any Error) -> Bool {
        guard let failure = error as? JobFailure else { return true }
        if case .retry = failure.disposition { return true }
        return false
    }

    private func send(_ payload: EmailSendPayload, context: JobContext) async throws {
        if let problem = payload.problem() {
            try await emitFailed(payload, reason: problem)
            throw JobFailure.permanent(problem)
        }
        let ledger = EmailLedger(services: services)
        let record = try await ledger.record(payload.messageID)
        if record.state == "sent" {
            // Sent, and its event lost (the events append failed after the mark): emitted now, never sent again.
            if !record.announced { try await announce(payload, ledger: ledger, brevoID: record.brevoID ?? "", reconciled: record.reconciled) }
            return
        }
        if let notAfter = payload.notAfter, try await services.clock.now().timeIntervalSince1970 > notAfter {
            try await endOutdated(payload, notAfter: notAfter, record: record, ledger: ledger, logger: context.logger)
            return
        }
        guard let brevo = services.providers.brevo else {
            throw JobFailure.retry("BREVO_API_KEY is not set: email.send waits until it is")
        }
        let realNow = Date().timeIntervalSince1970
        if record.state == "sending", let first = record.firstTry, realNow - first >= Self.idempotencyWindow {
            if try await foundSent(payload, brevo: brevo, ledger: ledger, since: first, now: realNow, logger: context.logger) { return }
            context.logger.info("no trace at Brevo of an email whose answer was lost; sending it again")
            do {
                try await ledger.restartWindow(payload.messageID, at: realNow, after: first)
            } catch let error as EmailLedgerNotReplicated {
                // Not sent, as below: a window a failover may lose would send the run after it to the events report
                // first, which may not list this request yet.
                throw JobFailure.retry("email \(payload.messageID) not sent: \(error); retried")
            }
        } else if record.state != "sending" {
            do {
                try await ledger.markSending(payload.messageID, at: realNow)
            } catch let error as EmailLedgerNotReplicated {
                // Not sent: a mark a failover may lose would let a run after the key's life send it again. The
                // policy's backoff gives the replicas time.
                throw JobFailure.retry("email \(payload.messageID) not sent: \(error); retried")
            }
        }
        let email = BrevoTransactionalEmail(
            toEmail: payload.email, toName: payload.name, templateID: payload.templateID, params: payload.params,
            tag: payload.messageID, idempotencyKey: Self.idempotencyKey(payload.messageID))
        let sent: BrevoResponse<String>
        do {
            sent = try await brevo.sendTransactionalEmail(email)
        } catch where error.httpStatus == 400 && error.code == "duplicate_parameter" {
            // Brevo saw this idempotency key within its TTL. Its docs do not say whether a key is kept for a request
            // it never processed (a 5xx), so the refusal alone does not prove the email went out: sent only when the
            // events report lists it; otherwise ask again once the key's longest documented life (30 minutes) is
            // over — the look-up-first path above then finds it or sends it. Neither a false "sent" nor two emails.
            let found = try? await brevo.emailEvents(
                tag: payload.messageID, email: payload.email, days: Self.lookbackDays(since: record.firstTry ?? realNow, now: realNow))
            if let found, let event = Self.event(of: payload, in: found.value) {
                try await markSent(payload, ledger: ledger, brevoID: event.messageID, reconciled: true, logger: context.logger)
                return
            }
            let first = record.firstTry.map { min($0, realNow) } ?? realNow
            throw JobFailure.retry(
                "Brevo refused the repeated idempotency key and its events do not list the email yet; asking again when the key has expired",
                at: first + Self.keyLifetime + 60)
        } catch {
            let failure = await ProviderFailurePolicy().failure(for: error, alerts: ProviderAlerts(services: services))
            if failure.disposition == .permanent {
                // Refused for good: Brevo did not send it, so the record goes (a corrected job may send it).
                try await ledger.forget(payload.messageID)
                try await emitFailed(payload, reason: error.description)
            }
            throw failure
        }
        try await markSent(payload, ledger: ledger, brevoID: sent.value, reconciled: false, logger: context.logger)
    }

    /// Ends an email whose `not_after` has passed (domain time, as `sms.send` reads it): `email.failed` with the reason
    /// `outdated: …` and the job discarded, the record forgotten (nothing was sent). Not when a request of it whose
    /// answer was lost may have gone out (`sending`): Brevo's events decide first, once the idempotency window is over
    /// (the report lists an accepted email by then), and one found there is recorded sent, as any lost answer is.
    /// Returns only when it was found sent.
    private func endOutdated(_ payload: EmailSendPayload, notAfter: Double, record: EmailLedger.Record, ledger: EmailLedger, logger: Logger) async throws {
        let when = SMSSendJob.localTime(notAfter, calendar: services.calendar)
        let reason = "outdated: its not_after (\(when)) has passed; not sent (its text would be wrong by now)"
        if record.state == "sending", let first = record.firstTry {
            let realNow = Date().timeIntervalSince1970
            if realNow - first < Self.idempotencyWindow {
                throw JobFailure.retry(
                    "\(reason), unless the request whose answer was lost went out: asking Brevo once its window is over",
                    at: first + Self.idempotencyWindow)
            }
            guard let brevo = services.providers.brevo else {
                throw JobFailure.retry("BREVO_API_KEY is not set: email.send waits until it is (a request of this outdated email may have gone out)")
            }
            if try await foundSent(payload, brevo: brevo, ledger: ledger, since: first, now: realNow, logger: logger) { return }
        }
        try await ledger.forget(payload.messageID)
        try await emitFailed(payload, reason: reason)
        throw JobFailure.discard(reason)
    }

    /// Whether Brevo's events list the email a request whose answer was lost sent (since `since`, its first try): then
    /// it is recorded sent, as any lost answer found sent is.
    private func foundSent(
        _ payload: EmailSendPayload, brevo: BrevoClient, ledger: EmailLedger, since: Double, now: Double, logger: Logger
    ) async throws -> Bool {
        let found: BrevoResponse<[BrevoEmailEvent]>
        do {
            found = try await brevo.emailEvents(tag: payload.messageID, email: payload.email, days: Self.lookbackDays(since: since, now: now))
        } catch {
            throw await ProviderFailurePolicy().failure(for: error, alerts: ProviderAlerts(services: services))
        }
        guard let event = Self.event(of: payload, in: found.value) else { return false }
        try await markSent(payload, ledger: ledger, brevoID: event.messageID, reconciled: true, logger: logger)
        return true
    }

    /// The events report's `days` that reach back to `since`: Brevo counts "days in the past including today", calendar
    /// days in its own time zone, so an email of 23:55 is not in `days=1` at 00:26 (the next day): asked that way, the
    /// report said "no trace" and the email went out twice. The days elapsed, rounded up, plus one, whatever the zone;
    /// at most Brevo's 90.
    static func lookbackDays(since: Double, now: Double) -> Int {
        let elapsed = max(0, min(now - since, 89 * 86_400))
        return min(90, Int((elapsed / 86_400).rounded(.up)) + 1)
    }

    /// A UUID derived from the message id (RFC 9562 version 8: two FNV-1a hashes of its UTF-8 in the 122 free bits):
    /// stable across retries and workers, distinct per message, and the form Brevo's guide asks for ("The
    /// idempotencyKey must be a UUID"; a random v4 would differ between retries and defeat the key).
    static func idempotencyKey(_ messageID: String) -> String {
        func fnv1a(_ basis: UInt64) -> UInt64 {
            var hash = basis
            for byte in messageID.utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x100_0000_01b3
            }
            return hash
        }
        let high = (fnv1a(0xcbf2_9ce4_8422_2325) & 0xffff_ffff_ffff_0fff) | 0x0000_0000_0000_8000  // version 8
        let low = (fnv1a(0x6c62_272e_07bb_0142) & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000  // variant 10
        let hex = String(high, radix: 16).leftPadded(to: 16) + String(low, radix: 16).leftPadded(to: 16)
        let parts = [hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4), hex.dropFirst(20)]
        return parts.joined(separator: "-")
    }

    /// The event that proves Brevo accepted this message: one tagged with its message id (or untagged, as the report
    /// was already filtered by that tag).
    static func event(of payload: EmailSendPayload, in events: [BrevoEmailEvent]) -> BrevoEmailEvent? {
        events.first { $0.tag == nil || $0.tag == payload.messageID }
    }

    /// Marks the email sent, then says so: mark first, so a failure between the two never sends it again; the event
    /// is emitted by the next run of the job when it finds the mark without `announced`.
    ///
    /// The mark's `notReplicated` is logged, not thrown (as `sms.send`'s, decision 0115): the email went, the mark is
    /// on the primary, and until the replicas have it they hold the `sending` mark they confirmed before the request,
    /// so a failover leaves a run that asks Brevo's events, not one that sends blind. Thrown, the job would retry only
    /// to find `sent` and announce it.
    private func markSent(_ payload: EmailSendPayload, ledger: EmailLedger, brevoID: String, reconciled: Bool, logger: Logger) async throws {
        do {
            try await ledger.markSent(payload.messageID, brevoID: brevoID, reconciled: reconciled)
        } catch let error as EmailLedgerNotReplicated {
            logger.warning("email.send: sent, and recorded on the primary, but too few replicas confirmed the record yet", metadata: [
                "message_id": "\(payload.messageID)", "error": "\(error)",
            ])
        }
        try await announce(payload, ledger: ledger, brevoID: brevoID, reconciled: reconciled)
    }

    private func announce(_ payload: EmailSendPayload, ledger: EmailLedger, brevoID: String, reconciled: Bool) async throws {
        try await services.events.emit(EmailSent(
            messageID: payload.messageID, brevoMessageID: brevoID, templateID: payload.templateID, reconciled: reconciled,
            userID: payload.userID, purpose: payload.purpose), at: try await services.clock.now())
        try await ledger.markAnnounced(payload.messageID)
    }

    func emitFailed(_ payload: EmailSendPayload, reason: String) async throws {
        try await services.events.emit(
            EmailFailed(messageID: payload.messageID, reason: reason, userID: payload.userID, purpose: payload.purpose),
            at: try await services.clock.now())
    }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        String(repeating: "0", count: max(0, length - count)) + self
    }
}
