import Foundation
import HoopoeCore
import HoopoeJSON
import Logging
import Providers

/// `sms.send`: the single path for SMS (jobs/types/sms.send.md).
///
/// Order of work, each step for a reason:
/// 1. check the payload (template, phone, token rules) — a message a provider would refuse fails now, for good;
/// 2. read the ledger — a message a provider already accepted is never sent again (idempotency by `message_id`);
/// 3. quiet hours — a send due in them is re-enqueued for their end and this job ends as deferred to it (no attempt burnt);
/// 4. take the per-message lock — two runs of one message never send at the same moment;
/// 5. the recipient's daily cap — over it, the send moves to the next local day the same way;
/// 6. the providers in the configured order, falling back on a retryable failure or an alert;
/// 7. record the message for delivery polling, then emit `sms.sent`.
public struct SMSSendJob: JobHandler {
    public typealias Payload = SMSSendPayload

    /// 12 attempts 30 s … 1 h apart (about 6 h in all): a reminder older than that is not worth sending late.
    public var maxAttempts: Int { 12 }
    public var retryPolicy: RetryPolicy { .exponential(base: 30, limit: 3600) }
    /// Two providers with a 15 s limit each, with room to spare.
    public var timeout: Duration { .seconds(120) }
    /// The template's `token` (a name, a date, a count) is text the user reads in the SMS, not a secret: shown.
    public var payloadPathsNamedLikeSecrets: Set<String> { ["tokens.token"] }

    let services: DomainServices
    let failurePolicy = ProviderFailurePolicy()

    public init(services: DomainServices) { self.services = services }

    public func run(_ payload: SMSSendPayload, context: JobContext) async throws {
        let settings = services.settings.sms
        let ledger = SMSLedger(services: services)
        let checked: SMSPayloadCheck.Checked
        switch SMSPayloadCheck.check(payload, templates: settings.templates) {
        case .success(let value): checked = value
        case .failure(let problem):
            try await emitFailed(payload, reason: "invalid payload: \(problem.message)")
            throw JobFailure.permanent("invalid sms.send payload: \(problem.message)")
        }
        if try await finishedBefore(payload, ledger: ledger, context: context) { return }

        let now = try await services.clock.now()
        if settings.quietHours.contains(now, in: services.calendar) {
            let end = settings.quietHours.nextAllowed(after: now, in: services.calendar)
            try await deferSend(payload, until: end, now: now, reason: "quiet hours \(settings.quietHours.startHour)-\(settings.quietHours.endHour)", context: context)
        }

        let token = context.id + ":" + String(context.attempt)
        let locked: Bool
        do {
            locked = try await ledger.lock(payload.messageID, token: token)
        } catch let error as SMSLedgerNotReplicated {
            throw try await notSent(payload, error, ledger: ledger, context: context)
        }
        guard locked else {
            // Held by an earlier run of this very job (it died or stalls): once, when the two-minute lock lapses;
            // retrying every 10 s spent the attempts before it did. Held by another job of the message: 10 s.
            let wait = LockHolder.retryDelay(try await ledger.lockHolder(payload.messageID), for: context, otherJob: 10)
            throw JobFailure.retry("another run is sending message \(payload.messageID)", at: Date().timeIntervalSince1970 + wait)
        }
        do {
            if let notAfter = payload.notAfter, now.timeIntervalSince1970 > notAfter {
                try await giveUpOutdated(payload, ledger: ledger, context: context, reason: "its not_after (\(Self.localTime(notAfter, calendar: services.calendar))) has passed")
            }
            try await sendLocked(payload, checked: checked, now: now, ledger: ledger, context: context)
            try? await ledger.unlock(payload.messageID, token: token)
        } catch {
            try? await ledger.unlock(payload.messageID, token: token)
            throw error
        }
    }

    /// True when the ledger says this message is done: sent (emitting `sms.sent` if a crash lost it), given up, or
    /// cancelled (``SMSLedger/cancel(_:reason:)``: a reminder whose subscription was renewed or deleted).
    ///
    /// Sent, but this job is the re-send ``SMSDeliveryPollJob`` planned after IPPanel ended the bulk unsent: the
    /// message is made sendable again (``SMSLedger/reopen(_:jobID:)``), so this run, or the one quiet hours defer it
    /// to, sends it — unless it was cancelled meanwhile (then, or in the same step, the message is done). The lock is
    /// not needed for it: any other run finds `sent` until then, and the lock orders the sends after it.
    private func finishedBefore(_ payload: SMSSendPayload, ledger: SMSLedger, context: JobContext) async throws -> Bool {
        guard let record = try await ledger.record(payload.messageID), let state = record.state else { return false }
        switch state {
        case "sent" where record.resendJob == context.id:
            let reopened = try await ledger.reopen(payload.messageID, jobID: context.id)
            return !reopened
        case "sent":
            if !record.announced {
                try await emitSent(payload, provider: record.provider ?? "", ids: record.providerIDs, ledger: ledger, fallbackTemplate: record.sentTemplate)
            }
            return true
        case "failed", "unknown":
            // Given up, its sms.failed lost (the run died, or the event's write failed, after the mark): emitted now.
            if !record.announced {
                try await emitFailed(payload, reason: record.reason ?? "given up (\(state))", ledger: ledger)
            }
            return true
        case "cancelled":
            return true
        default:
            return false
        }
    }

    private func sendLocked(
        _ payload: SMSSendPayload, checked: SMSPayloadCheck.Checked, now: Date, ledger: SMSLedger, context: JobContext
    ) async throws {
        // Another run may have sent it between the first read and the lock.
        if try await finishedBefore(payload, ledger: ledger, context: context) { return }
        let settings = services.settings.sms
        let day = Self.dayString(now, calendar: services.calendar)
        if settings.dailyCap > 0 {
            let allowed = try await ledger.reserveDailySlot(
                phone: checked.nationalPhone, day: day, messageID: payload.messageID, cap: settings.dailyCap)
            if !allowed {
                let tomorrow = services.calendar.startOfDay(services.calendar.adding(days: 1, to: services.calendar.startOfDay(now)))
                let next = settings.quietHours.nextAllowed(after: tomorrow, in: services.calendar)
                try await deferSend(payload, until: next, now: now, reason: "daily cap of \(settings.dailyCap) SMS for this recipient reached", context: context)
            }
        }

        // Providers whose sends with lost answers reached the cap, none of which went out: the others send it.
        var capped: Set<String> = []
        if try await sentBeforeAnswerWasLost(payload, checked: checked, now: now, day: day, ledger: ledger, context: context, capped: &capped) { return }
        let senders = senders(for: payload, checked: checked).filter { !capped.contains($0.0.provider.rawValue) }
        if senders.isEmpty && !capped.isEmpty {
            // Every provider this message may use reached a cap for it: none is asked again.
            let reason = "not sent: every provider reached its cap for this message (\(capped.sorted().joined(separator: ", ")))"
            try await giveUp(payload, checked: checked, day: day, ledger: ledger, reason: reason)
            throw JobFailure.permanent(reason)
        }
        guard !senders.isEmpty else {
            let problem = "no SMS provider configured for template \(checked.template.name): set KAVENEGAR_API_KEY and/or IPPANEL_API_KEY (SMS_PROVIDERS=\(settings.providers.map(\.rawValue).joined(separator: ",")))"
            if context.attempt >= context.maxAttempts {
                // Never sent: the message ends, and gives its daily slot back, as any that fails for good.
                let reason = "not sent: \(problem)"
                try await giveUp(payload, checked: checked, day: day, ledger: ledger, reason: reason)
                throw JobFailure.permanent(reason)
            }
            throw JobFailure.retry(problem)
        }
        var failures = try await attempt(senders, payload: payload, checked: checked, now: now, day: day, ledger: ledger, context: context, capped: capped)
        if failures.isEmpty { return }
        // Kavenegar 420 ("using links is restricted for this account") and no other provider took the message: send
        // the template's link-free variant rather than lose the message (jobs/types/sms.send.md).
        if failures.contains(where: { Self.isLinksRestricted($0.error) }), let linkFree = linkFreeVariant(of: payload, checked: checked) {
            context.logger.warning("sms.send: links are restricted (Kavenegar 420); sending the link-free template instead", metadata: [
                "message_id": "\(payload.messageID)", "template": "\(linkFree.checked.template.name)",
            ])
            // Not through a provider capped for this message (its cap holds for the variant too), nor one whose capped
            // code just reached its cap in the run above.
            let stillCapped = capped.union(failures.filter { $0.capReached != nil }.map(\.error.provider.rawValue))
            let more = try await attempt(
                self.senders(for: linkFree.payload, checked: linkFree.checked).filter { !stillCapped.contains($0.0.provider.rawValue) },
                payload: linkFree.payload, checked: linkFree.checked,
                now: now, day: day, ledger: ledger, context: context, fallbackTemplate: linkFree.checked.template.name, earlier: failures,
                capped: stillCapped)
            if more.isEmpty { return }
            failures += more
        }
        try await allFailed(failures, payload: payload, checked: checked, now: now, day: day, ledger: ledger, context: context)
    }

    /// After a send whose answer was lost, asks that provider's outbox whether it went out — IPPanel's
    /// (`report/new_list`, `report/recipients`, `report/by_bulk`) or Kavenegar's (`sms/selectoutbox`, for a
    /// `verify/lookup`): if it did, records it as sent with that id (true: nothing is sent again); if not, clears the
    /// mark and the caller sends (the one re-send allowed) — or, after the last allowed send, sends through the other
    /// providers (`capped` comes back naming the ones left out), or fails the message as not sent when there is none. A
    /// failed outbox call retries the job rather than sending blind, except Kavenegar's `407` (the outbox
    /// needs the server's IP whitelisted in the panel): that cannot change by retrying, so the one re-send goes out
    /// unchecked, as before outboxes were read, with a warning naming the fix; the ledger keeps saying the lost send may
    /// have gone out (``SMSLedger/noteUncheckedSend(_:)``).
    private func sentBeforeAnswerWasLost(
        _ payload: SMSSendPayload, checked: SMSPayloadCheck.Checked, now: Date, day: String, ledger: SMSLedger, context: JobContext,
        capped: inout Set<String>
    ) async throws -> Bool {
        guard let record = try await ledger.record(payload.messageID) else { return false }
        capped = record.cappedProviders
        guard let provider = record.unreconciledProvider, let since = record.unreconciledSince else { return false }
        // The lost send may have been the link-free variant (after Kavenegar's 420): its text has other tokens, and the
        // outbox is searched for those, or a variant that went out is not found and the message is sent twice.
        let ownTemplate = payload.template
        var (payload, checked) = (payload, checked)
        if let sentTemplate = record.unreconciledTemplate, sentTemplate != payload.template,
            let variant = linkFreeVariant(of: payload, checked: checked), variant.payload.template == sentTemplate
        {
            (payload, checked) = variant
        }
        // A minute of slack for the difference between our clock and the provider's; up to the attempt's total
        // timeout after it began, with the same minute's slack.
        let from = Date(timeIntervalSince1970: since - 60)
        let until = Date(timeIntervalSince1970: since + ProviderTimeouts.sms.total.seconds + 60)
        let found: (provider: ProviderName, id: String)?
        let outbox = provider == ProviderName.ippanel.rawValue ? "IPPanel's outbox" : "Kavenegar's outbox"
        do {
            switch provider {
            case ProviderName.ippanel.rawValue:
                guard let client = services.providers.ippanel else { throw Self.cannotCheck(payload, outbox: outbox, key: "IPPANEL_API_KEY") }
                let values = checked.template.ippanel.map { Array($0.values(from: payload.tokens).values) } ?? []
                found = try await client.findSend(to: checked.internationalPhone, since: from, until: until, values: values).map { (.ippanel, String($0.id)) }
            case ProviderName.kavenegar.rawValue:
                guard let client = services.providers.kavenegar else { throw Self.cannotCheck(payload, outbox: outbox, key: "KAVENEGAR_API_KEY") }
                found = try await client.findLookup(to: checked.nationalPhone, since: from, until: until, values: Array(payload.tokens.values))
                    .map { (.kavenegar, String($0.messageID)) }
            default:
                return false
            }
        } catch let failure as JobFailure {
            // The outbox cannot be read (its provider's key was removed since the lost send).
            try await giveUpUncheckedOnTheLastAttempt(
                payload, reason: "outcome unknown; not sent again (it may have been delivered): \(failure.message)", ledger: ledger, context: context)
            throw failure
        } catch let error as ProviderError where error.provider == .kavenegar && error.code == "407" {
            if record.unknownOutcomes >= SMSSettings.unknownOutcomeAttempts {
                // The one re-send already went out unchecked: no third send, as before outboxes were read.
                let reason = "outcome unknown after \(record.unknownOutcomes) attempts; not sent again (it may have been delivered; Kavenegar's outbox answered 407)"
                try await ledger.recordGivenUp(messageID: payload.messageID, state: "unknown", reason: reason, userID: payload.userID, purpose: payload.purpose)
                try await emitFailed(payload, reason: reason, ledger: ledger)
                throw JobFailure.permanent(reason)
            }
            context.logger.warning("sms.send: Kavenegar's outbox is closed to this server (407: whitelist its IP in the panel's security settings); sending once more unchecked", metadata: [
                "message_id": "\(payload.messageID)", "phone": "\(PhoneNumberMask.maskNumber(checked.nationalPhone))",
            ])
            // The lost send's note stays until the re-send's mark replaces it, and `unchecked_send` after: it may have
            // gone out, so a burial at any point from here ends the message `unknown`, its slot kept. Cleared here, a
            // burial before the next mark (or after the re-send's answer took that mark back) wrote `failed`, "not sent".
            try await ledger.noteUncheckedSend(payload.messageID)
            return false
        } catch {
            let problem = "could not check \(outbox) for the lost send of \(payload.messageID): \(error)"
            if context.attempt >= context.maxAttempts {
                // The last attempt: the message ends here, said so in the ledger and the events, not only in the dead set.
                let reason = "outcome unknown; not sent again (it may have been delivered): \(problem)"
                try await ledger.recordGivenUp(messageID: payload.messageID, state: "unknown", reason: reason, userID: payload.userID, purpose: payload.purpose)
                try await emitFailed(payload, reason: reason, ledger: ledger)
                throw JobFailure.permanent(reason)
            }
            throw JobFailure.retry(problem, at: Date().timeIntervalSince1970 + services.settings.sms.unknownOutcomeRetry)
        }
        guard let found else {
            if record.unknownOutcomes >= SMSSettings.unknownOutcomeAttempts {
                let what = provider == ProviderName.ippanel.rawValue ? "bulk" : "message"
                // No more blind sends through this provider (the cap), but its outbox has shown that none went out, so
                // another provider cannot duplicate it: the message goes there. Given up here, a Kavenegar outage lost
                // messages IPPanel could have sent.
                // Recorded in the ledger, so no later run of the message sends through it again either.
                let others = senders(for: payload, checked: checked).filter { $0.0.provider.rawValue != provider && !capped.contains($0.0.provider.rawValue) }
                if !others.isEmpty {
                    context.logger.info("sms.send: \(outbox) has no \(what) for the sends whose answers were lost; sending through the next provider", metadata: [
                        "message_id": "\(payload.messageID)", "provider": "\(provider)", "phone": "\(PhoneNumberMask.maskNumber(checked.nationalPhone))",
                    ])
                    try await ledger.clearUnreconciled(payload.messageID, capping: provider, among: capped)
                    capped.insert(provider)
                    return false
                }
                let reason = "not sent: \(outbox) has no \(what) for any of the \(record.unknownOutcomes) sends whose answers were lost"
                try await giveUp(payload, checked: checked, day: day, ledger: ledger, reason: reason)
                throw JobFailure.permanent(reason)
            }
            context.logger.info("sms.send: the provider's outbox has no message for the lost send; sending once more", metadata: [
                "message_id": "\(payload.messageID)", "provider": "\(provider)", "phone": "\(PhoneNumberMask.maskNumber(checked.nationalPhone))",
            ])
            try await ledger.clearUnreconciled(payload.messageID)
            return false
        }
        try await recordSent(payload, context: context) {
            try await ledger.recordSent(
                messageID: payload.messageID, provider: found.provider.rawValue, providerIDs: [found.id],
                sentAt: now, userID: payload.userID, purpose: payload.purpose,
                resend: found.provider == .ippanel ? Self.resendCopy(of: payload, queue: context.queue) : nil,
                sentTemplate: payload.template == ownTemplate ? nil : payload.template)
        }
        try await emitSent(
            payload, provider: found.provider.rawValue, ids: [found.id], ledger: ledger, fallbackTemplate: payload.template == ownTemplate ? nil : payload.template)
        return true
    }

    /// A lost send whose provider has no API key configured: its outbox cannot be read, so the job waits for the key.
    /// On the job's last attempt, ends a message whose lost send cannot be checked as `unknown` in the ledger (its daily
    /// slot kept: it may have gone out), emits `sms.failed` and fails the job for good; on any other attempt, returns
    /// (the caller retries).
    ///
    /// Why: a retry verdict on the last attempt sent the job to the dead set with the ledger still open and no
    /// `sms.failed`, so a service waiting for `sms.sent` or `sms.failed` heard nothing (sms.send.md promises `sms.failed`
    /// on the last attempt), and the message's once-key kept it from being enqueued again for 30 days.
    private func giveUpUncheckedOnTheLastAttempt(_ payload: SMSSendPayload, reason: String, ledger: SMSLedger, context: JobContext) async throws {
        guard context.attempt >= context.maxAttempts else { return }
        try await ledger.recordGivenUp(messageID: payload.messageID, state: "unknown", reason: reason, userID: payload.userID, purpose: payload.purpose)
        try await emitFailed(payload, reason: reason, ledger: ledger)
        throw JobFailure.permanent(reason)
    }

    private static func cannotCheck(_ payload: SMSSendPayload, outbox: String, key: String) -> JobFailure {
        JobFailure.retry("a send of \(payload.messageID) has an unknown outcome and \(key) is not set to check \(outbox)")
    }

    /// The payload as JSON, kept with an IPPanel send for a re-send (nil if it cannot be encoded: no re-send then).
    static func resendCopy(of payload: SMSSendPayload, queue: String) -> (payload: String, queue: String)? {
        guard let data = try? JSONEncoder().encode(payload) else { return nil }
        return (String(decoding: data, as: UTF8.self), queue)
    }

    /// Kavenegar's `451` (too many calls, IP restricted), and how many for one message make an alert.
    static let throttledCode = "451"
    static let throttledAlertAfter = 3

    /// Kavenegar's `420`: the account may not send links.
    static func isLinksRestricted(_ error: ProviderError) -> Bool { error.provider == .kavenegar && error.code == "420" }

    /// The payload re-addressed to the template's `without_links` template, with only the tokens that one takes.
    func linkFreeVariant(of payload: SMSSendPayload, checked: SMSPayloadCheck.Checked)
        -> (payload: SMSSendPayload, checked: SMSPayloadCheck.Checked)?
    {
        guard let name = checked.template.withoutLinks, let template = services.settings.sms.templates[name] else { return nil }
        var variant = payload
        variant.template = name
        variant.tokens = payload.tokens.filter { template.tokens[$0.key] != nil }
        var variantChecked = checked
        variantChecked.template = template
        return (variant, variantChecked)
    }

    /// Tries each sender in order until one accepts: records and announces the send and returns no failures, or
    /// returns the non-permanent failures (a permanent one, or an unknown outcome, ends the job by throwing). `earlier`:
    /// the failures of this run's senders before these (the link-free variant's run follows the template's).
    private func attempt(
        _ senders: [(any SMSSender, TemplateSMS)], payload: SMSSendPayload, checked: SMSPayloadCheck.Checked, now: Date, day: String,
        ledger: SMSLedger, context: JobContext, fallbackTemplate: String? = nil, earlier: [SenderFailure] = [], capped: Set<String> = []
    ) async throws -> [SenderFailure] {
        var failures: [SenderFailure] = []
        for (sender, message) in senders {
            let receipt: SMSReceipt
            // Marked before it is sent: a run that dies (or stalls past the lock) while the provider holds the request
            // leaves the mark, and the run that recovers the job asks the outbox rather than sending a second SMS.
            let mark = try await markSending(sender.provider, payload: payload, ledger: ledger, context: context)
            // Cancelled (a renewal, a gift used) or settled by another run since this one began: nothing is sent, and
            // the message is done (a run that finds it so sends nothing either).
            if mark.refused {
                context.logger.info("sms.send: the message was cancelled or settled while this run was under way; not sent", metadata: [
                    "message_id": "\(payload.messageID)",
                ])
                return []
            }
            let unknownSoFar = mark.count
            do {
                receipt = try await sender.sendTemplate(message)
            } catch let error as ProviderError {
                if error.outcomeUnknown {
                    try await unknownOutcome(error, count: unknownSoFar ?? 1, payload: payload, ledger: ledger, context: context)
                }
                if unknownSoFar != nil { try await ledger.sendAnswered(payload.messageID) }
                var failure = SenderFailure(error: error)
                switch error.disposition {
                case .permanent:
                    // The input is at fault, unless a provider tried before failed only for now (credit, a retry): then
                    // this verdict is about this provider's request (an IPPanel pattern parameter it refuses), and the
                    // one before may still send it later. Given up here, a message Kavenegar would have sent after a
                    // top-up was lost to IPPanel's 422.
                    // So may Kavenegar's link-free variant after its 420, when this is the template's own run: given up
                    // here, IPPanel's refusal of the linked template lost a message the variant would have sent.
                    let variantLeft = fallbackTemplate == nil && (earlier + failures).contains(where: { Self.isLinksRestricted($0.error) })
                        && linkFreeVariant(of: payload, checked: checked) != nil
                    guard variantLeft || (earlier + failures).contains(where: { !$0.isFinal }) else {
                        try await giveUp(payload, checked: checked, day: day, ledger: ledger, reason: error.description)
                        throw JobFailure.permanent(error.description)
                    }
                    failure.refusedForGood = true
                case .alert:
                    _ = try? await ProviderAlerts(services: services).raise(
                        provider: error.provider.rawValue, code: error.code, message: error.message, operation: error.operation)
                case .retry:
                    // Only the provider's own answers count (Kavenegar 402): a failure before any connection existed
                    // carries the lookup's cap of sends too, but sent nothing, and is retried for the job's attempts.
                    if let cap = error.suggestedMaxAttempts, error.httpStatus != nil {
                        let count = try await ledger.countCappedFailure(payload.messageID, provider: error.provider.rawValue, code: error.code)
                        failure.capReached = count >= cap ? cap : nil
                        // At the cap: the provider is not asked again for this message (a fourth 402 lookup went out on
                        // every later attempt while the other provider failed for now).
                        if count >= cap { try await ledger.capProvider(payload.messageID, provider: error.provider.rawValue, among: capped) }
                    } else if error.provider == .kavenegar && error.code == Self.throttledCode {
                        // docs/providers.md: 451 is retried after 60 s, "ALERT if it persists": the third for one
                        // message tells an operator (once an hour, ProviderAlerts) that calls are throttled or the IP
                        // restricted. Still retried: it may lift.
                        let count = try await ledger.countCappedFailure(payload.messageID, provider: error.provider.rawValue, code: error.code)
                        if count >= Self.throttledAlertAfter {
                            _ = try? await ProviderAlerts(services: services).raise(
                                provider: error.provider.rawValue, code: error.code,
                                message: "\(error.message) (\(count) times for one message: calls throttled or the IP restricted)", operation: error.operation)
                        }
                    }
                }
                failures.append(failure)
                context.logger.warning("sms.send: \(sender.provider) failed, trying the next provider", metadata: [
                    "message_id": "\(payload.messageID)", "phone": "\(PhoneNumberMask.maskNumber(checked.nationalPhone))", "error": "\(error)",
                ])
                continue
            }
            // Recorded before success is reported: a retry after this point finds `sent` and never sends again. An
            // IPPanel send keeps its payload until its bulk is final: IPPanel may still end it unsent (no credit).
            try await recordSent(payload, context: context) {
                try await ledger.recordSent(
                    messageID: payload.messageID, provider: receipt.provider.rawValue, providerIDs: receipt.messageIDs,
                    sentAt: now, userID: payload.userID, purpose: payload.purpose,
                    resend: receipt.provider == .ippanel ? Self.resendCopy(of: payload, queue: context.queue) : nil,
                    takesBackMark: unknownSoFar != nil, sentTemplate: fallbackTemplate)
            }
            try await emitSent(payload, provider: receipt.provider.rawValue, ids: receipt.messageIDs, ledger: ledger, fallbackTemplate: fallbackTemplate)
            return []
        }
        return failures
    }

    /// Notes in the ledger that a send to `provider` is under way (``SMSLedger/noteUnknownOutcome(_:provider:attemptStartedAt:template:)``),
    /// and returns the message's unknown outcomes with it (`count`; nil for the dry-run sender, which sends nothing), or
    /// `refused` when the message was cancelled or settled since the run began: then it must not be sent. Both
    /// providers' outboxes can be asked: IPPanel's reports and Kavenegar's `sms/selectoutbox` (every Kavenegar send
    /// here is a `verify/lookup`).
    ///
    /// With `REDIS_WAIT_REPLICAS`, a mark too few replicas confirmed is taken back and the job retries unsent: sent
    /// after a mark only the primary had, a failover lost the mark and the run after it sent the SMS again.
    private func markSending(_ provider: ProviderName, payload: SMSSendPayload, ledger: SMSLedger, context: JobContext) async throws -> (
        count: Int?, refused: Bool
    ) {
        guard provider == .kavenegar || provider == .ippanel else { return (nil, false) }
        do {
            let count = try await ledger.noteUnknownOutcome(
                payload.messageID, provider: provider.rawValue, attemptStartedAt: Date(), template: payload.template)
            return (count, count == nil)
        } catch let error as SMSLedgerNotReplicated {
            throw try await notSent(payload, error, ledger: ledger, context: context)
        }
    }

    /// The retry of a run that did not send because a ledger write the send depends on (its lock, its mark) reached
    /// too few replicas (`REDIS_WAIT_REPLICAS`; the write was taken back). The policy's backoff gives them time.
    /// On the last attempt the message is given up as every other last attempt gives it up (`failed`, `sms.failed`
    /// emitted): thrown as a retry there, the job went to the dead set with no ledger state and no event.
    func notSent(_ payload: SMSSendPayload, _ error: SMSLedgerNotReplicated, ledger: SMSLedger, context: JobContext) async throws -> JobFailure {
        guard context.attempt >= context.maxAttempts else { return JobFailure.retry("message \(payload.messageID) not sent: \(error); retried") }
        let reason = "not sent: \(error), at the last of \(context.maxAttempts) attempts"
        let given = try await recordNotSent(payload, reason: reason, ledger: ledger)
        try await emitFailed(payload, reason: given.reason, ledger: ledger)
        return JobFailure.permanent(given.reason)
    }

    /// Writes `sent` (``SMSLedger/recordSent(messageID:provider:providerIDs:sentAt:userID:purpose:resend:takesBackMark:sentTemplate:)``)
    /// for a send that went out. Its `notReplicated` is logged, not thrown: the record is on the primary, and until the
    /// replicas have it they hold the mark they confirmed before the send, so a failover leaves a run that asks the
    /// provider's outbox, not one that sends blind. Thrown, the job would retry only to find `sent` and announce it.
    private func recordSent(_ payload: SMSSendPayload, context: JobContext, _ write: () async throws -> Void) async throws {
        do {
            try await write()
        } catch let error as SMSLedgerNotReplicated {
            context.logger.warning("sms.send: sent, and recorded on the primary, but too few replicas confirmed the record yet", metadata: [
                "message_id": "\(payload.messageID)", "error": "\(error)",
            ])
        }
    }

    /// A send that may have gone out (timeout, 5xx on `verify/lookup` or an IPPanel send, neither of which has a
    /// dedupe key): not sent blindly again, and not handed to the other provider. Its mark, written before the send,
    /// stays (`count` is the message's unknown outcomes with it). The job tries once more after
    /// `SMS_UNKNOWN_OUTCOME_RETRY_SECONDS`, after asking the provider's outbox whether the send went out
    /// (``sentBeforeAnswerWasLost``); after ``SMSSettings/unknownOutcomeAttempts`` such outcomes it gives up
    /// (docs/providers.md §2.4.5: cap at 2).
    private func unknownOutcome(
        _ error: ProviderError, count: Int, payload: SMSSendPayload, ledger: SMSLedger, context: JobContext
    ) async throws {
        let reconcilable = error.provider == .ippanel || error.provider == .kavenegar
        if count < SMSSettings.unknownOutcomeAttempts && context.attempt < context.maxAttempts {
            throw JobFailure.retry(
                "outcome unknown (\(count) of \(SMSSettings.unknownOutcomeAttempts)), sending once more later: \(error.description)",
                at: Date().timeIntervalSince1970 + services.settings.sms.unknownOutcomeRetry)
        }
        if reconcilable && context.attempt < context.maxAttempts {
            // No more sends, but the provider's outbox can still say whether one of them went out: ask it next run.
            throw JobFailure.retry(
                "outcome unknown (\(count) of \(SMSSettings.unknownOutcomeAttempts)), checking \(error.provider)'s outbox later: \(error.description)",
                at: Date().timeIntervalSince1970 + services.settings.sms.unknownOutcomeRetry)
        }
        let reason = "outcome unknown after \(count) attempts; not sent again (it may have been delivered): \(error.description)"
        try await ledger.recordGivenUp(messageID: payload.messageID, state: "unknown", reason: reason, userID: payload.userID, purpose: payload.purpose)
        try await emitFailed(payload, reason: reason, ledger: ledger)
        throw JobFailure.permanent(reason)
    }

    /// Every provider failed without a permanent verdict: parked when only alerts stopped it, else retried; failed for
    /// good when every failure was an alert that needs the payload changed, or on the last attempt.
    ///
    /// Parked (docs/providers.md §1: "park the job rather than burning retries"): deferred as a new job to the quarter
    /// hour nearest the park delay on, no attempt burnt, for up to ``SMSSettings/alertParkLimit`` after the first park. A
    /// retry at the park time counted one: 12 attempts 15 minutes apart, and an account whose credit ran dry in the
    /// evening lost every message by the time anyone topped it up. The target is on a grid so a re-run of this job
    /// (its settle lost) defers to the same job (``deferSend(_:until:now:reason:context:)``'s once-key).
    private func allFailed(
        _ failures: [SenderFailure], payload: SMSSendPayload, checked: SMSPayloadCheck.Checked, now: Date, day: String,
        ledger: SMSLedger, context: JobContext
    ) async throws -> Never {
        let summary = failures.map(\.description).joined(separator: "; ")
        let hopeless = failures.allSatisfy(\.isFinal)
        let onlyAlerts = failures.allSatisfy { $0.isFinal || $0.error.disposition.isAlert }
        if !hopeless && onlyAlerts {
            let parkedSince = try await ledger.alertParkedSince(payload.messageID, now: Date())
            if Date().timeIntervalSince1970 - parkedSince < SMSSettings.alertParkLimit {
                // The grid point nearest a park delay on (half to one and a half of it): a parked copy run just after
                // its grid point parks to the next one, and two copies (a re-run of a job whose settle was lost) meet
                // on the same point and become one job (the once-key) instead of alternating for the whole day.
                let delay = max(60, failurePolicy.alertParkDelay.seconds)
                let target = Date(timeIntervalSince1970: ((now.timeIntervalSince1970 + delay / 2) / delay).rounded(.up) * delay)
                try await deferSend(payload, until: target, now: now, reason: "every provider raised an alert, parked: \(summary)", context: context)
            }
        }
        if hopeless || context.attempt >= context.maxAttempts {
            let reason = hopeless ? "every provider failed for good: \(summary)" : "failed \(context.attempt) of \(context.maxAttempts) attempts: \(summary)"
            try await giveUp(payload, checked: checked, day: day, ledger: ledger, reason: reason)
            throw JobFailure.permanent(reason)
        }
        if onlyAlerts {
            throw JobFailure.retry("every provider raised an alert, parked (counted: parked longer than \(Int(SMSSettings.alertParkLimit / 3600)) h): \(summary)",
                                   at: Date().timeIntervalSince1970 + failurePolicy.alertParkDelay.seconds)
        }
        let hint = failures.compactMap { failure -> Duration? in
            if case .retry(let after?) = failure.error.disposition { return after }
            return nil
        }.max()
        throw JobFailure.retry("every provider failed: \(summary)", at: hint.map { Date().timeIntervalSince1970 + $0.seconds })
    }

    private func giveUp(_ payload: SMSSendPayload, checked: SMSPayloadCheck.Checked, day: String, ledger: SMSLedger, reason: String) async throws {
        let given = try await recordNotSent(payload, reason: reason, ledger: ledger)
        // Its slot kept when the message ended `unknown`: the earlier send may have used it.
        if given.state == "failed" { try? await ledger.releaseDailySlot(phone: checked.nationalPhone, day: day, messageID: payload.messageID) }
        try await emitFailed(payload, reason: given.reason, ledger: ledger)
    }

    /// Gives up a message this run did not send: `failed` with `reason`, or `unknown` when a lost send of it went
    /// unchecked (Kavenegar's outbox answered `407`, ``SMSLedger/Record/uncheckedSend``), with a reason that says so:
    /// whatever the later sends' answers, that one may have been delivered, as a burial after it says
    /// (Lua/sms_give_up_buried.lua). Returns what it wrote; the caller emits `sms.failed` with that reason.
    private func recordNotSent(_ payload: SMSSendPayload, reason: String, ledger: SMSLedger) async throws -> (state: String, reason: String) {
        var given = (state: "failed", reason: reason)
        if try await ledger.record(payload.messageID)?.uncheckedSend == true {
            given = ("unknown", "\(reason); an earlier send went unchecked (Kavenegar's outbox answered 407) and may have been delivered")
        }
        try await ledger.recordGivenUp(messageID: payload.messageID, state: given.state, reason: given.reason, userID: payload.userID, purpose: payload.purpose)
        return given
    }

    /// The senders to try, in order, each with the message in its own template terms.
    func senders(for payload: SMSSendPayload, checked: SMSPayloadCheck.Checked) -> [(any SMSSender, TemplateSMS)] {
        let providers = services.providers
        if let dryRun = providers.dryRun {
            return [(dryRun, TemplateSMS(receptor: checked.nationalPhone, template: checked.template.kavenegar, parameters: payload.tokens))]
        }
        var list: [(any SMSSender, TemplateSMS)] = []
        for provider in services.settings.sms.providers {
            switch provider {
            case .kavenegar:
                if let client = providers.kavenegar {
                    list.append((client, TemplateSMS(receptor: checked.nationalPhone, template: checked.template.kavenegar, parameters: payload.tokens)))
                }
            case .ippanel:
                if let client = providers.ippanel, let pattern = checked.template.ippanel {
                    list.append((client, TemplateSMS(receptor: checked.internationalPhone, template: pattern.code, parameters: pattern.values(from: payload.tokens))))
                }
            }
        }
        return list
    }

    /// Ends a message whose `not_after` has passed, or would before it could be sent: `failed` (reason `outdated: …`),
    /// `sms.failed`, and the job discarded — unless it is done already, or a send's outcome is still unknown (then it is
    /// reconciled as usual: it may have gone out).
    private func giveUpOutdated(_ payload: SMSSendPayload, ledger: SMSLedger, context: JobContext, reason: String) async throws {
        if try await finishedBefore(payload, ledger: ledger, context: context) { throw JobFailure.discard("message \(payload.messageID) is done already") }
        if try await ledger.record(payload.messageID)?.unreconciledProvider != nil { return }
        let given = try await recordNotSent(payload, reason: "outdated: \(reason); not sent (its text would be wrong by now)", ledger: ledger)
        try await emitFailed(payload, reason: given.reason, ledger: ledger)
        throw JobFailure.discard(given.reason)
    }

    /// `1403/09/25 23:59` local time.
    static func localTime(_ seconds: Double, calendar: LocalCalendar) -> String {
        let date = Date(timeIntervalSince1970: seconds)
        return "\(calendar.persianDate(date)) \(clockString(date, calendar: calendar))"
    }

    /// Re-enqueues the message to run at `target` (domain time) and ends this job as deferred to the new one. Not `JobFailure.retry(at:)`:
    /// that counts an attempt, and a message deferred night after night by quiet hours or the daily cap would run
    /// out of attempts without ever failing. The new job's once-key (message id + target) keeps a re-run of this
    /// job from deferring twice. A target past the message's `not_after` ends it outdated instead (``giveUpOutdated``).
    private func deferSend(_ payload: SMSSendPayload, until target: Date, now: Date, reason: String, context: JobContext) async throws -> Never {
        if let notAfter = payload.notAfter, target.timeIntervalSince1970 > notAfter {
            try await giveUpOutdated(
                payload, ledger: SMSLedger(services: services), context: context,
                reason: "\(reason) would put it off to \(Self.localTime(target.timeIntervalSince1970, calendar: services.calendar)), past its not_after (\(Self.localTime(notAfter, calendar: services.calendar)))")
        }
        let runAt = services.clock.realTime(for: target, now: now)
        let result = try await services.jobs.enqueue(payload, options: EnqueueOptions(
            queue: context.queue, runAt: runAt, onceKey: "sms:\(payload.messageID):deferred:\(String(format: "%.0f", target.timeIntervalSince1970.rounded(.towardZero)))",
            onceFor: .seconds(3 * 86_400)))
        let id = result.jobID
        if id == context.id {
            // This run is that deferred job, run before the time it was deferred to by this host's clock (Redis's clock
            // promoted it, and this one lags; or an operator ran it now). "Deferred to itself" would settle it and
            // lose the message: it waits for its time as a retry instead.
            throw JobFailure.retry("\(reason): this deferred job ran before its time; waiting for it", at: runAt.timeIntervalSince1970 + 1)
        }
        throw JobFailure.deferred("\(reason): deferred to \(Self.localTime(target.timeIntervalSince1970, calendar: services.calendar)) local time as job \(id)", to: id)
    }

    private func emitSent(_ payload: SMSSendPayload, provider: String, ids: [String], ledger: SMSLedger, fallbackTemplate: String? = nil) async throws {
        try await services.events.emit(SMSSent(
            messageID: payload.messageID, provider: provider, providerMessageIDs: ids, userID: OrNull(payload.userID),
            purpose: OrNull(payload.purpose), template: fallbackTemplate), at: try await services.clock.now())
        try await ledger.markAnnounced(payload.messageID)
    }

    /// Emits `sms.failed`, then, for a message the ledger holds (`ledger`), marks it announced.
    private func emitFailed(_ payload: SMSSendPayload, reason: String, ledger: SMSLedger? = nil) async throws {
        try await services.events.emit(
            SMSFailed(messageID: payload.messageID, reason: reason, userID: OrNull(payload.userID), purpose: OrNull(payload.purpose)),
            at: try await services.clock.now())
        try await ledger?.markAnnounced(payload.messageID)
    }

    /// `2024-11-23`: the local day (Gregorian) a daily cap counts in.
    static func dayString(_ date: Date, calendar: LocalCalendar) -> String {
        let parts = calendar.gregorian.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }

    static func clockString(_ date: Date, calendar: LocalCalendar) -> String {
        let (hour, minute) = calendar.hourAndMinute(of: date)
        return String(format: "%02d:%02d", hour, minute)
    }
}
