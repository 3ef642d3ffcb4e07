import Foundation
import HoopoeCore
import HoopoeJSON
import Logging
import Providers

/// `sms.delivery_poll` (periodic, every minute from jobs/schedule.yaml): asks the providers how the sent messages
/// did and emits `sms.status` on every change (jobs/types/sms.delivery_poll.md).
///
/// Due messages are claimed 500 at a time (one Kavenegar `sms/status` call per claim, the provider's limit), so n due
/// messages cost ceil(n/500) calls a round; IPPanel is asked per bulk. Claiming moves a message's next-poll time
/// forward in the same Lua call, so overlapping poll jobs split the work instead of doubling it.
public struct SMSDeliveryPollJob: JobHandler {
    /// The scheduler's tick payload `{tick: <unix seconds>}`; other keys are ignored.
    public struct Payload: JobPayload, Equatable {
        public static let jobType = "sms.delivery_poll"

        public var tick: Int64?
        public init(tick: Int64? = nil) { self.tick = tick }
    }


    /// The next tick comes within a minute: one quick retry at most, never a pile-up.
    public var maxAttempts: Int { 2 }
    public var retryPolicy: RetryPolicy { .fixed(20) }
    public var timeout: Duration { .seconds(240) }

    /// How long a claim lasts before a message is polled again by someone else (domain seconds).
    static let claimLease: Double = 600
    /// Wait before re-polling messages whose status call failed.
    static let failedCallDelay: Double = 60

    let services: DomainServices

    public init(services: DomainServices) { self.services = services }

    public func run(_ payload: Payload, context: JobContext) async throws {
        let ledger = SMSLedger(services: services)
        let now = try await services.clock.now()
        try await announceLostChanges(ledger: ledger, now: now)
        try await announceOwedFailures(ledger: ledger, now: now)
        let batch = SMSSettings.statusBatchSize
        while true {
            let ids = try await ledger.claimDue(now: now, limit: batch, leaseUntil: now.addingTimeInterval(Self.claimLease))
            if ids.isEmpty { break }
            try await poll(ids, now: now, ledger: ledger, logger: context.logger)
            if ids.count < batch { break }
        }
        try await checkCredit(now: now, ledger: ledger, logger: context.logger)
    }

    /// Polls one claimed batch and records the results.
    private func poll(_ ids: [String], now: Date, ledger: SMSLedger, logger: Logger) async throws {
        let records = try await ledger.records(ids)
        var updates: [SMSLedger.StatusUpdate] = []
        var kavenegar: [SMSLedger.Record] = []
        var ippanel: [SMSLedger.Record] = []
        for (id, record) in zip(ids, records) {
            guard let record, let sentAt = record.sentAt else {
                // No record (expired after 30 days, or removed): drop it from the poll set.
                updates.append(.init(messageID: id, state: "expired", rawStatus: "", isFinal: true, nextPoll: now, countsAsPoll: false))
                continue
            }
            if now.timeIntervalSince1970 - sentAt >= SMSSettings.pollWindow {
                updates.append(.init(messageID: id, state: DeliveryState.expired.rawValue, rawStatus: "no final status within 48 h",
                                     isFinal: true, nextPoll: now, countsAsPoll: false))
                continue
            }
            switch record.provider {
            case ProviderName.kavenegar.rawValue: kavenegar.append(record)
            case ProviderName.ippanel.rawValue: ippanel.append(record)
            case ProviderName.dryRun.rawValue:
                updates.append(.init(messageID: id, state: DeliveryState.delivered.rawValue, rawStatus: "dry-run", isFinal: true,
                                     nextPoll: now, countsAsPoll: true))
            default:
                updates.append(.init(messageID: id, state: DeliveryState.expired.rawValue, rawStatus: "unknown provider \(record.provider ?? "")",
                                     isFinal: true, nextPoll: now, countsAsPoll: false))
            }
        }
        updates += await pollKavenegar(kavenegar, now: now, ledger: ledger, logger: logger)
        updates += await pollIPPanel(ippanel, now: now, ledger: ledger, logger: logger)
        let changed = try await ledger.apply(updates, now: now)
        guard !changed.isEmpty else { return }
        let providerOf = Dictionary(zip(ids, records.map { $0?.provider ?? "" }), uniquingKeysWith: { first, _ in first })
        try await services.events.emit(changed.map { update in
            SMSStatusChanged(messageID: update.messageID, provider: providerOf[update.messageID] ?? "", state: update.state, rawStatus: update.rawStatus)
        }, at: now)
        try await ledger.markStatusAnnounced(changed.map(\.messageID))
    }

    /// Emits the `sms.status` of delivery changes a run recorded but could not announce (its event write failed, or it
    /// died between the two): with the message's current state, then marks them announced.
    private func announceLostChanges(ledger: SMSLedger, now: Date) async throws {
        let ids = try await ledger.unannounced(limit: SMSSettings.statusBatchSize)
        guard !ids.isEmpty else { return }
        let records = try await ledger.records(ids)
        let events = records.compactMap { record -> SMSStatusChanged? in
            guard let record, let state = record.delivery else { return nil }
            return SMSStatusChanged(messageID: record.messageID, provider: record.provider ?? "", state: state, rawStatus: record.rawStatus ?? "")
        }
        try await services.events.emit(events, at: now)
        try await ledger.markStatusAnnounced(ids)
    }

    /// Emits the `sms.failed` of messages `sms.send` gave up but could not announce (its event write failed) where no
    /// run will: a burial (the worker only logs what the hook throws) or a give-up on the job's last attempt (the job is
    /// dead, and the engine does not tell a handler that threw). From the ledger's state, reason, user and purpose. Only
    /// give-ups older than ``SMSSettings/owedFailureGrace`` (a hook or run may still be writing the event), and only while
    /// still owed: a message sent since (a stalled run's `sent`) or announced by a run (the job's retry, a
    /// `hoopoe dead retry`) just leaves the list.
    private func announceOwedFailures(ledger: SMSLedger, now: Date) async throws {
        let ids = try await ledger.claimOwedFailures(
            before: now.addingTimeInterval(-SMSSettings.owedFailureGrace), limit: SMSSettings.statusBatchSize,
            leaseUntil: now.addingTimeInterval(Self.claimLease))
        guard !ids.isEmpty else { return }
        let owed = try await ledger.records(ids).compactMap { record -> SMSLedger.Record? in
            guard let record, !record.announced, !record.cancelled, record.state == "failed" || record.state == "unknown" else { return nil }
            return record
        }
        try await services.events.emit(owed.map { record in
            SMSFailed(messageID: record.messageID, reason: record.reason ?? "given up (\(record.state ?? ""))",
                      userID: OrNull(record.userID), purpose: OrNull(record.purpose))
        }, at: now)
        try await ledger.settleOwedFailures(ids, announced: owed.map(\.messageID))
    }

    private func pollKavenegar(_ records: [SMSLedger.Record], now: Date, ledger: SMSLedger, logger: Logger) async -> [SMSLedger.StatusUpdate] {
        guard !records.isEmpty else { return [] }
        guard let client = services.providers.kavenegar else {
            try? await ledger.reschedule(records.map(\.messageID), at: now.addingTimeInterval(SMSSettings.maximumPollInterval))
            logger.warning("sms.delivery_poll: \(records.count) Kavenegar message(s) to poll but KAVENEGAR_API_KEY is not set")
            return []
        }
        let ids = records.flatMap(\.providerIDs).compactMap { Int64($0) }
        do {
            let statuses = try await client.status(messageIDs: ids)
            var byID: [String: DeliveryStatus] = [:]
            for status in statuses {
                byID[String(status.messageID)] = DeliveryStatus(
                    provider: .kavenegar, messageID: String(status.messageID), state: status.deliveryState,
                    rawCode: String(status.status), statusText: status.statusText)
            }
            return records.map { update(for: $0, statuses: $0.providerIDs.map { byID[$0] }, now: now) }
        } catch {
            await callFailed(error, records: records, now: now, ledger: ledger, logger: logger)
            return []
        }
    }

    private func pollIPPanel(_ records: [SMSLedger.Record], now: Date, ledger: SMSLedger, logger: Logger) async -> [SMSLedger.StatusUpdate] {
        guard !records.isEmpty else { return [] }
        guard let client = services.providers.ippanel else {
            try? await ledger.reschedule(records.map(\.messageID), at: now.addingTimeInterval(SMSSettings.maximumPollInterval))
            logger.warning("sms.delivery_poll: \(records.count) IPPanel message(s) to poll but IPPANEL_API_KEY is not set")
            return []
        }
        var updates: [SMSLedger.StatusUpdate] = []
        for record in records {
            do {
                let statuses = try await client.deliveryStatus(of: record.providerIDs)
                let byID = Dictionary(statuses.map { ($0.messageID, $0) }, uniquingKeysWith: { first, _ in first })
                let update = update(for: record, statuses: record.providerIDs.map { byID[$0] }, now: now)
                if update.isFinal, let unsent = Self.unsentCode(statuses) {
                    let resent = try await resendUnsent(record, code: unsent, logger: logger)
                    await alertOnUnsentBulk(unsent, resent: resent)
                } else if update.isFinal, statuses.contains(where: { $0.rawCode == Self.moderationRejected }) {
                    // docs/providers.md §3.5: 3 is PERMANENT for the content, and ALERT for a standard template — every send
                    // here is a pattern, so the pattern itself was refused: an operator must look (it was a quiet `failed`).
                    _ = try? await ProviderAlerts(services: services).raise(
                        provider: ProviderName.ippanel.rawValue, code: Self.moderationRejected,
                        message: "a bulk was rejected by IPPanel's moderation (its pattern's text); its message is failed and not sent again",
                        operation: "report/by_bulk")
                }
                updates.append(update)
            } catch {
                await callFailed(error, records: [record], now: now, ledger: ledger, logger: logger)
            }
        }
        return updates
    }

    /// IPPanel bulk states that mean the bulk ended unsent for a reason of the account or of IPPanel, not of the
    /// message (providers.md §3.5): 8, no credit (IPPanel's only word that the account is empty: no send call says
    /// so), and 9, a system error.
    static let unsentBulkReasons = ["state_id:8": "no credit: top up the IPPanel account", "state_id:9": "a system error at IPPanel"]

    /// IPPanel's bulk state 3: rejected by its moderation (docs/providers.md §3.5).
    static let moderationRejected = "state_id:3"

    static func unsentCode(_ statuses: [DeliveryStatus]) -> String? {
        statuses.map(\.rawCode).first { unsentBulkReasons[$0] != nil }
    }

    /// Plans and enqueues the re-send of a message whose IPPanel bulk ended unsent (providers.md §3.5: 9 "re-send",
    /// 8 "resend after top-up"), up to ``SMSSettings/unsentBulkResends`` times: an `sms.send` with the payload the
    /// send kept, under a job id named in the ledger first (``SMSLedger/planResend(_:jobID:)``), which that job reads
    /// to send a message the ledger says was sent. Named first, so a poll that dies in between enqueues the same job
    /// on its next round (the claim lapses), never a second one. The re-send waits a minute (8: the alert's park
    /// time); a round slower than that does not write the old bulk's `failed` over the new send, as the status script
    /// applies a result only while the provider ids are the ones polled. True when a re-send is (or already was) planned.
    private func resendUnsent(_ record: SMSLedger.Record, code: String, logger: Logger) async throws -> Bool {
        guard !record.cancelled, let text = record.resendPayload,
            let payload = try? JSONDecoder().decode(SMSSendPayload.self, from: Data(text.utf8))
        else { return false }
        let jobID: String
        if let planned = record.resendJob {
            jobID = planned
        } else {
            guard record.resends < SMSSettings.unsentBulkResends else { return false }
            jobID = JobID.make()
            try await SMSLedger(services: services).planResend(record.messageID, jobID: jobID)
        }
        let wait = code == "state_id:8" ? ProviderFailurePolicy().alertParkDelay.seconds : SMSSettings.unsentBulkRetry
        _ = try await services.jobs.enqueue(payload, options: EnqueueOptions(
            queue: record.resendQueue ?? "default", runAt: Date().addingTimeInterval(wait),
            onceKey: "sms:\(record.messageID):resend:\(jobID)", onceFor: .seconds(3 * 86_400), id: jobID))
        logger.warning("sms.delivery_poll: IPPanel ended a bulk unsent; the message is sent again", metadata: [
            "message_id": "\(record.messageID)", "raw_status": "\(code)", "job_id": "\(jobID)", "in_seconds": "\(Int(wait))",
        ])
        return true
    }

    /// Operators hear of a bulk IPPanel ended unsent as a `provider.alert` (one per code an hour), as they do of
    /// Kavenegar's credit, whether or not the message is sent again.
    private func alertOnUnsentBulk(_ code: String, resent: Bool) async {
        guard let reason = Self.unsentBulkReasons[code] else { return }
        let outcome = resent ? "its message is sent again" : "its message is failed and not sent again"
        _ = try? await ProviderAlerts(services: services).raise(
            provider: ProviderName.ippanel.rawValue, code: code, message: "a bulk ended unsent (\(reason)); \(outcome)", operation: "report/by_bulk")
    }

    /// One message's new state from its provider ids' statuses: not final while any id is not final (or missing),
    /// else delivered when all are, else the first failure.
    func update(for record: SMSLedger.Record, statuses: [DeliveryStatus?], now: Date) -> SMSLedger.StatusUpdate {
        let raw = statuses.map { $0?.rawCode ?? "missing" }.joined(separator: ",")
        let states = statuses.map { $0?.state ?? .unknown }
        let state: DeliveryState
        if states.isEmpty {
            state = .unknown
        } else if let open = states.first(where: { !$0.isFinal }) {
            state = open
        } else {
            state = states.first { $0 != .delivered } ?? .delivered
        }
        // `polls` comes from Redis: clamped, so a corrupt count cannot overflow.
        let previous = min(max(record.polls, 0), 10)
        let interval = min(SMSSettings.maximumPollInterval, SMSSettings.firstPollDelay * pow(2, Double(previous)))
        let deadline = (record.sentAt ?? now.timeIntervalSince1970) + SMSSettings.pollWindow
        let next = min(now.timeIntervalSince1970 + interval, deadline)
        return .init(messageID: record.messageID, state: state.rawValue, rawStatus: raw, isFinal: state.isFinal,
                     nextPoll: Date(timeIntervalSince1970: next), countsAsPoll: true, providerIDs: record.providerIDs)
    }

    /// A status call failed: the messages are polled again in a minute; an account problem raises its alert.
    private func callFailed(_ error: any Error, records: [SMSLedger.Record], now: Date, ledger: SMSLedger, logger: Logger) async {
        logger.warning("sms.delivery_poll: status call failed, polling \(records.count) message(s) again later", metadata: ["error": "\(error)"])
        if let error = error as? ProviderError, error.disposition.isAlert {
            _ = try? await ProviderAlerts(services: services).raise(
                provider: error.provider.rawValue, code: error.code, message: error.message, operation: error.operation)
        }
        try? await ledger.reschedule(records.map(\.messageID), at: now.addingTimeInterval(Self.failedCallDelay))
    }

    /// Reads the Kavenegar credit at most every `SMS_CREDIT_CHECK_MINUTES` and raises one `provider.alert`
    /// (code `credit_low`) when it is below `KAVENEGAR_CREDIT_FLOOR`, before sends start failing with `418`.
    private func checkCredit(now: Date, ledger: SMSLedger, logger: Logger) async throws {
        let settings = services.settings.sms
        guard let client = services.providers.kavenegar, settings.creditCheckInterval > 0 else { return }
        guard try await ledger.creditCheckDue(now: now, interval: settings.creditCheckInterval) else { return }
        do {
            let info = try await client.accountInfo()
            try await ledger.recordCredit(info.remainingCredit)
            if info.remainingCredit < Int64(settings.creditFloor) {
                try await ProviderAlerts(services: services).raise(
                    provider: ProviderName.kavenegar.rawValue, code: "credit_low",
                    message: "remaining credit \(info.remainingCredit) Rial is below KAVENEGAR_CREDIT_FLOOR \(settings.creditFloor)",
                    operation: "account/info")
            }
        } catch let error as ProviderError {
            logger.warning("sms.delivery_poll: could not read the Kavenegar credit", metadata: ["error": "\(error)"])
            if error.disposition.isAlert {
                _ = try? await ProviderAlerts(services: services).raise(
                    provider: error.provider.rawValue, code: error.code, message: error.message, operation: error.operation)
            }
        }
    }
}
