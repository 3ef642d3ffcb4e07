import Foundation
import HoopoeCore
import Logging

extension SMSSendJob {
    /// The engine buried this job without running it again (its worker was lost while running it twice: `killed its
    /// worker 2 times`): the message ends here as any other given up, so `sms.failed` keeps its promise (the message
    /// will not be sent). Before, such a message kept only its ledger's note and no event was written but `job.dead`,
    /// which has no `message_id` (a chaos run buried 25 of 5,000 so).
    ///
    /// - Settled already (sent, given up, cancelled): nothing is written; only an event a lost run did not emit is
    ///   (`sms.sent` or `sms.failed`, by the ledger's `announced`), as a run finding it so would.
    /// - A send under way when its worker was lost (the note written before each send, ``SMSLedger/noteUnknownOutcome(_:provider:attemptStartedAt:template:)``,
    ///   not taken back), or a lost send that went unchecked (Kavenegar's outbox answered `407`:
    ///   ``SMSLedger/noteUncheckedSend(_:)``): state `unknown`, its daily slot kept, as the last attempt after a lost
    ///   answer ends (it may have been delivered; `sms.failed` says so).
    /// - Otherwise: state `failed`, its daily slot given back, as a message failed for good.
    /// - Another job of the message holding its send lock (a re-send, a deferred copy): it is left to that job.
    ///
    /// The state is written in one step with the check that the message has none (``SMSLedger/giveUpBuried(_:failedReason:unknownReason:userID:purpose:now:)``): a run of another job
    /// that settled it meanwhile is not overwritten. `sms.failed` is emitted once: after it, `announced` is set, and a
    /// run finding the state (a `hoopoe dead retry` of this job) ends without sending, as for every given-up message.
    ///
    /// Its `sms.failed` write failing (a Redis hiccup on the events stream) is thrown, and the worker only logs it:
    /// nothing runs a buried job again. The give-up step listed the message as owed its event
    /// (``SMSLedger/failedUnannouncedKey``), and ``SMSDeliveryPollJob`` emits it from the ledger a few minutes on —
    /// once: the event's `announced` takes it off the list. Before, such a message stayed given up and never announced.
    public func buried(_ payload: SMSSendPayload, reason: String, context: JobContext) async throws {
        let ledger = SMSLedger(services: services)
        if try await announcedSettled(payload, ledger: ledger) { return }
        let token = context.id + ":buried"
        // Not waited for on replicas here: a lock too few confirmed was given back, and the give-up below is one
        // check-and-set that refuses a settled message. Thrown, the hook would end with no event, and nothing calls it again.
        let locked: Bool
        do {
            locked = try await ledger.lock(payload.messageID, token: token)
        } catch is SMSLedgerNotReplicated {
            locked = false
        }
        if !locked, let holder = try await ledger.lockHolder(payload.messageID), !holder.token.hasPrefix(context.id + ":") {
            context.logger.info("sms.send: buried while another job of the message holds its lock; the message is left to it", metadata: [
                "message_id": "\(payload.messageID)", "reason": "\(reason)",
            ])
            return
        }
        // Held by a lost run of this very job (dead, or stalled and still able to send): not taken from it. A stalled
        // run that still sends records `sent` over the give-up; its `sms.failed` said the outcome is unknown.
        do {
            try await giveUpBuried(payload, reason: reason, ledger: ledger, context: context)
        } catch {
            if locked { try? await ledger.unlock(payload.messageID, token: token) }
            throw error
        }
        if locked { try? await ledger.unlock(payload.messageID, token: token) }
    }

    private func giveUpBuried(_ payload: SMSSendPayload, reason: String, ledger: SMSLedger, context: JobContext) async throws {
        let failed = "not sent: the engine buried its job (\(reason)); it is not run again"
        let unknown = "outcome unknown: the engine buried its job (\(reason)) while a send was under way; not sent again (it may have been delivered)"
        guard let (state, text) = try await ledger.giveUpBuried(
            payload.messageID, failedReason: failed, unknownReason: unknown, userID: payload.userID, purpose: payload.purpose,
            now: try await services.clock.now())
        else {
            // Settled since the first read: only its event, if it is still owed.
            _ = try await announcedSettled(payload, ledger: ledger)
            return
        }
        if state == "failed", case .success(let checked) = SMSPayloadCheck.check(payload, templates: services.settings.sms.templates) {
            // The day of the burial: the day its slot was taken on, but for a run lost across midnight.
            let day = Self.dayString(try await services.clock.now(), calendar: services.calendar)
            try? await ledger.releaseDailySlot(phone: checked.nationalPhone, day: day, messageID: payload.messageID)
        }
        try await services.events.emit(
            SMSFailed(messageID: payload.messageID, reason: text, userID: OrNull(payload.userID), purpose: OrNull(payload.purpose)),
            at: try await services.clock.now())
        try await ledger.markAnnounced(payload.messageID)
        context.logger.warning("sms.send: buried by the engine; the message is given up", metadata: [
            "message_id": "\(payload.messageID)", "state": "\(state)", "reason": "\(reason)",
        ])
    }

    /// True when the message is settled (sent, given up, cancelled), after emitting its state's event if no run did
    /// (`announced` unset), as ``run(_:context:)`` does for a message it finds so.
    private func announcedSettled(_ payload: SMSSendPayload, ledger: SMSLedger) async throws -> Bool {
        guard let record = try await ledger.record(payload.messageID), record.isSettled else { return false }
        guard !record.announced, !record.cancelled else { return true }
        switch record.state {
        case "sent":
            try await services.events.emit(SMSSent(
                messageID: payload.messageID, provider: record.provider ?? "", providerMessageIDs: record.providerIDs, userID: OrNull(payload.userID),
                purpose: OrNull(payload.purpose), template: record.sentTemplate), at: try await services.clock.now())
        case "failed", "unknown":
            try await services.events.emit(
                SMSFailed(messageID: payload.messageID, reason: record.reason ?? "given up (\(record.state ?? ""))", userID: OrNull(payload.userID),
                          purpose: OrNull(payload.purpose)),
                at: try await services.clock.now())
        default:
            return true
        }
        try await ledger.markAnnounced(payload.messageID)
        return true
    }
}
