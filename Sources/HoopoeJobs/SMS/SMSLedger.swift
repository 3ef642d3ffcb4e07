import Foundation
import HoopoeCore
import HoopoeJSON
import Redis

/// What Hoopoe remembers about each SMS, in Redis (jobs/types/sms.send.md lists the keys):
///
/// - `{sms}:msg:<message_id>` — a hash per message: `state` (`sent`, `failed`, `unknown`), `provider`,
///   `provider_ids`, `sent_at`, `delivery` (the delivery state), `raw_status`, `polls`, `user_id`, `purpose`,
///   `unknown_outcomes` (with `unknown_provider`, `unknown_since`, `unknown_template`: the send under way, or the
///   last one whose answer was lost), `unchecked_send` (a lost send went unchecked: Kavenegar's outbox answered `407`),
///   `failures:<provider>:<code>` (a capped code's count), `announced`; for an
///   IPPanel send until its delivery is final, `payload` and `queue` (the re-send of a bulk IPPanel ends unsent, with
///   `resend_job` and `resends`); `cancelled`. Kept 30 days. It is the idempotency record: once it says `sent`, no run of
///   the message sends again.
/// - `{sms}:poll` — a sorted set: message id → next poll time (domain Unix seconds).
/// - `{sms}:failed_unannounced` — a sorted set: message id → when it was given up, until its `sms.failed` is on the
///   stream (``SMSDeliveryPollJob`` emits the ones no run or burial hook could).
/// - `{sms}:cap:<09…>:<yyyy-mm-dd>` — the message ids sent to one recipient on one local day (2 days).
/// - `{sms}:lock:<message_id>` — held (2 minutes) by the one run that is sending a message.
/// - `{sms}:credit` — `checked_at`, `remaining`: the last Kavenegar credit read.
///
/// Times are domain times (``DomainClock``), so polling follows a simulated clock in tests.
///
/// With `REDIS_WAIT_REPLICAS` set, the writes the promise "sent at most once" rests on wait for that many replicas:
/// the send lock (``lock(_:token:seconds:)``), the send-under-way mark (``noteUnknownOutcome(_:provider:attemptStartedAt:template:)``)
/// and `sent` (``recordSent(messageID:provider:providerIDs:sentAt:userID:purpose:resend:takesBackMark:sentTemplate:)``).
/// Why: a mark written on the primary only was lost when a `SENTINEL FAILOVER` demoted it, and the run after the
/// failover, finding neither `sent` nor the mark, sent the SMS a second time. A lock or mark the replicas did not
/// confirm is taken back and ``SMSLedgerNotReplicated`` thrown: the send does not go, the job retries.
public struct SMSLedger: Sendable {
    let services: DomainServices
    var redis: StoreRedis { services.redis }

    public init(services: DomainServices) { self.services = services }

    // MARK: Keys

    public func messageKey(_ messageID: String) -> String { services.key("{sms}:msg:\(messageID)") }
    public var pollKey: String { services.key("{sms}:poll") }
    /// Sorted set of messages whose last delivery change's `sms.status` is not on the stream yet (by the change's time):
    /// ``SMSDeliveryPollJob`` emits them again.
    public var unannouncedKey: String { services.key("{sms}:status_unannounced") }
    /// Sorted set of given-up messages whose `sms.failed` is not on the stream yet (by the give-up's domain time): a
    /// buried job, or one that gave up on its last attempt, is not run again, so ``SMSDeliveryPollJob`` emits them.
    public var failedUnannouncedKey: String { services.key("{sms}:failed_unannounced") }
    public func capKey(phone: String, day: String) -> String { services.key("{sms}:cap:\(phone):\(day)") }
    public func lockKey(_ messageID: String) -> String { services.key("{sms}:lock:\(messageID)") }
    public var creditKey: String { Self.creditKey(namespace: services.jobs.namespace) }
    /// The credit hash of `namespace`: its name is built here only (for readers without ``DomainServices``, such as
    /// the dashboard's Providers page).
    static func creditKey(namespace: String) -> String { "\(namespace):{sms}:credit" }

    // MARK: Messages

    /// One message's record.
    public struct Record: Sendable, Equatable {
        public var messageID: String
        /// `sent`, `failed`, `unknown` (gave up after sends with an unknown outcome) or `cancelled` (by its
        /// subscription's renewal or deletion before it went out).
        public var state: String?
        public var provider: String?
        public var providerIDs: [String]
        public var sentAt: Double?
        /// A ``Providers/DeliveryState`` raw value.
        public var delivery: String?
        public var rawStatus: String?
        public var polls: Int
        public var userID: String?
        public var purpose: String?
        public var unknownOutcomes: Int
        /// Providers whose sends with lost answers reached the cap for this message (none of which went out, their
        /// outboxes said): never sent through again for it.
        public var cappedProviders: Set<String>
        /// The provider of the last send whose outcome is unknown and not yet reconciled (`ippanel`), and when that
        /// attempt began (real Unix seconds): the next run asks the provider's outbox before sending again.
        public var unreconciledProvider: String?
        public var unreconciledSince: Double?
        /// The template that send used: the message's own, or its link-free variant after Kavenegar's 420, whose
        /// text the outbox holds instead (nil in a record written before it was kept: the message's own).
        public var unreconciledTemplate: String?
        /// True when a send whose answer was lost went unchecked and was sent once more (Kavenegar's outbox answered
        /// `407`): it may have gone out, whatever the sends after it answered, so a burial ends the message `unknown`.
        public var uncheckedSend: Bool
        /// True once the event of the current state was emitted: `sms.sent` for `sent`, `sms.failed` for `failed` and
        /// `unknown` (a run finding it false emits it: the run before died, or its event write failed, after the mark).
        public var announced: Bool
        /// Why the message was given up (`failed`, `unknown`) or cancelled.
        public var reason: String?

        /// True when no run sends the message again: sent, given up (`failed`, `unknown`) or cancelled (a cancel after
        /// the send leaves `sent` with ``cancelled``).
        public var isSettled: Bool { cancelled || ["sent", "failed", "unknown", "cancelled"].contains(state ?? "") }
        /// The link-free variant's template name when that is what went out (nil: the payload's own template).
        public var sentTemplate: String?
        /// The payload (JSON) and queue of an IPPanel send, kept until its delivery is final: a bulk IPPanel ends
        /// unsent (``SMSDeliveryPollJob``: `state_id` 8 or 9) is sent again with it.
        public var resendPayload: String?
        public var resendQueue: String?
        /// The job planned to send the message again (``planResend(_:jobID:)``), and how many were planned.
        public var resendJob: String?
        public var resends: Int
        /// True when a renewal, deletion or use cancelled the message (``cancel(_:reason:)``), even after it was sent:
        /// a planned re-send then sends nothing.
        public var cancelled: Bool

        init(messageID: String, fields: [String: String]) {
            self.messageID = messageID
            state = fields["state"]
            provider = fields["provider"]
            providerIDs = (fields["provider_ids"] ?? "").split(separator: ",").map(String.init)
            sentAt = fields["sent_at"].flatMap(Double.init)
            delivery = fields["delivery"]
            rawStatus = fields["raw_status"]
            polls = fields["polls"].flatMap { Int($0) } ?? 0
            userID = fields["user_id"].flatMap { $0.isEmpty ? nil : $0 }
            purpose = fields["purpose"].flatMap { $0.isEmpty ? nil : $0 }
            unknownOutcomes = fields["unknown_outcomes"].flatMap { Int($0) } ?? 0
            cappedProviders = Set((fields["capped_providers"] ?? "").split(separator: ",").map(String.init))
            unreconciledProvider = fields["unknown_provider"].flatMap { $0.isEmpty ? nil : $0 }
            unreconciledSince = fields["unknown_since"].flatMap(Double.init)
            unreconciledTemplate = fields["unknown_template"].flatMap { $0.isEmpty ? nil : $0 }
            uncheckedSend = fields["unchecked_send"] == "1"
            announced = fields["announced"] == "1"
            reason = fields["reason"].flatMap { $0.isEmpty ? nil : $0 }
            sentTemplate = fields["sent_template"].flatMap { $0.isEmpty ? nil : $0 }
            resendPayload = fields["payload"].flatMap { $0.isEmpty ? nil : $0 }
            resendQueue = fields["queue"].flatMap { $0.isEmpty ? nil : $0 }
            resendJob = fields["resend_job"].flatMap { $0.isEmpty ? nil : $0 }
            resends = fields["resends"].flatMap { Int($0) } ?? 0
            cancelled = fields["cancelled"] == "1"
        }
    }

    /// The record of `messageID`, or nil when Hoopoe never tried to send it (or forgot it after 30 days).
    public func record(_ messageID: String) async throws -> Record? {
        let reply = try await redis.send("HGETALL", messageKey(messageID))
        let fields = reply.hashFields
        return fields.isEmpty ? nil : Record(messageID: messageID, fields: fields)
    }

    /// Records that `provider` accepted the message (before the job reports success), and schedules its first
    /// delivery poll ``SMSSettings/firstPollDelay`` after `sentAt`. With `resend` (an IPPanel send), keeps the payload
    /// and queue until the delivery is final, for a bulk IPPanel ends unsent. `takesBackMark`: the answer of a send
    /// marked before it went (``noteUnknownOutcome(_:provider:attemptStartedAt:template:)``), whose outcome is now known,
    /// so it counts as no unknown outcome; not for a send found in an outbox after a lost answer, which was one.
    ///
    /// Durable (`REDIS_WAIT_REPLICAS`): lost in a failover, the replicas would hold the mark written before the send,
    /// and a later run would have to find the send in the provider's outbox, which cannot always be read (Kavenegar's
    /// `407`: that run sends once more unchecked). `notReplicated`: the record is on the primary, and the mark the
    /// replicas confirmed before the send still covers a failover (the caller goes on).
    /// - Throws: ``SMSLedgerNotReplicated`` when too few replicas confirmed it (it is on the primary).
    public func recordSent(
        messageID: String, provider: String, providerIDs: [String], sentAt: Date, userID: String?, purpose: String?,
        resend: (payload: String, queue: String)? = nil, takesBackMark: Bool = false, sentTemplate: String? = nil
    ) async throws {
        let key = messageKey(messageID)
        let sent = sentAt.timeIntervalSince1970
        // `sent_template`: the variant that went out, so an `sms.sent` announced by a later run says it too.
        var fields = [
            key, "state", "sent", "provider", provider, "provider_ids", providerIDs.joined(separator: ","),
            "sent_at", Self.format(sent), "delivery", "pending", "raw_status", "", "polls", "0",
            "user_id", userID ?? "", "purpose", purpose ?? "", "sent_template", sentTemplate ?? "",
        ]
        // The mark written before the send (noteUnknownOutcome): the answer came. A planned re-send: this is it.
        var gone = [key, "unknown_provider", "unknown_since", "unknown_template", "unchecked_send", "resend_job"]
        if let resend { fields += ["payload", resend.payload, "queue", resend.queue] } else { gone += ["payload", "queue"] }
        var commands = [RedisCommand("HSET", fields), RedisCommand("HDEL", gone)]
        if takesBackMark { commands.append(RedisCommand("HINCRBY", key, "unknown_outcomes", "-1")) }
        do {
            _ = try await redis.transaction(keys: [key, pollKey], commands + [
                RedisCommand("EXPIRE", key, String(SMSSettings.ledgerTTL)),
                RedisCommand("ZADD", pollKey, Self.format(sent + SMSSettings.firstPollDelay), messageID),
            ], durable: true)
        } catch let error as RedisError where error.code == .notReplicated {
            throw SMSLedgerNotReplicated(write: "sent record", error: error)
        }
    }

    /// Gives a message whose job the engine buried up, unless it is settled: `unknown` (`unknownReason`) when a send's
    /// note is still there (`unknown_provider`) or a lost send went unchecked (`unchecked_send`), else `failed`
    /// (`failedReason`); `announced` cleared and the message added to ``failedUnannouncedKey`` (its `sms.failed` is
    /// still to be emitted, and nothing runs the job again if the hook cannot). One step (Lua/sms_give_up_buried.lua),
    /// so a run of another job that records `sent` or gives it up first is not overwritten.
    /// - Returns: the state and reason written; nil when the message was settled (nothing written).
    func giveUpBuried(
        _ messageID: String, failedReason: String, unknownReason: String, userID: String?, purpose: String?, now: Date
    ) async throws -> (state: String, reason: String)? {
        let reply = try await redis.run(
            Self.giveUpBuriedScript, keys: [messageKey(messageID), failedUnannouncedKey],
            arguments: [failedReason, unknownReason, userID ?? "", purpose ?? "", String(SMSSettings.ledgerTTL),
                        Self.format(now.timeIntervalSince1970), messageID])
        guard let written = reply.array?.compactMap(\.string), written.count == 2 else { return nil }
        return (written[0], written[1])
    }

    /// Marks the current state's event (`sms.sent`, `sms.failed`) as emitted, and the message as no longer owed one
    /// (``failedUnannouncedKey``).
    public func markAnnounced(_ messageID: String) async throws {
        let key = messageKey(messageID)
        _ = try await redis.transaction(keys: [key, failedUnannouncedKey], [
            RedisCommand("HSET", key, "announced", "1"),
            RedisCommand("ZREM", failedUnannouncedKey, messageID),
        ])
    }

    /// Claims up to `limit` messages given up at or before `before` whose `sms.failed` is still owed, oldest first, by
    /// moving them to `leaseUntil` (Lua/sms_claim_due.lua, as the polls' claim): two `sms.delivery_poll` runs that
    /// overlap never emit one message's `sms.failed` twice, and a run that dies leaves its claims to a later one.
    func claimOwedFailures(before: Date, limit: Int, leaseUntil: Date) async throws -> [String] {
        let reply = try await redis.run(
            Self.claimDueScript, keys: [failedUnannouncedKey],
            arguments: [Self.format(before.timeIntervalSince1970), String(limit), Self.format(leaseUntil.timeIntervalSince1970)])
        return (reply.array ?? []).compactMap(\.string)
    }

    /// Marks the `sms.failed` of `announced` emitted (as ``markAnnounced(_:)``), and takes every one of `ids` out of
    /// ``failedUnannouncedKey`` (the others owe none any more: sent since, or announced by a run).
    func settleOwedFailures(_ ids: [String], announced: [String]) async throws {
        guard !ids.isEmpty else { return }
        let keys = [failedUnannouncedKey] + announced.map(messageKey)
        _ = try await redis.transaction(keys: keys, announced.map { RedisCommand("HSET", messageKey($0), "announced", "1") } + [
            RedisCommand("ZREM", [failedUnannouncedKey] + ids),
        ])
    }

    /// Records that the message will never be sent (`failed`) or that Hoopoe gave up after unknown outcomes
    /// (`unknown`), so later runs do not try again; its `sms.failed` is still to be emitted (`announced` cleared, and the
    /// message listed in ``failedUnannouncedKey`` until it is). Why the list: a give-up on the job's last attempt whose
    /// event write failed ends in the dead set, and the engine does not tell a handler that threw at its last attempt
    /// (``SMSSendJob/buried(_:reason:context:)`` is not called): no run would emit it. Earlier attempts' retries do.
    ///
    /// Refused (`CancellationError`, nothing written) in a run that was cut off — its timeout, a shutdown: the engine
    /// has settled its job already, and a job buried so tells its handler (``SMSSendJob/buried(_:reason:context:)``),
    /// which gives the message up. A Redis or provider call does not stop at a cancel, so a run cut off at its last
    /// attempt went on to its own give-up and emitted a second `sms.failed` beside the hook's.
    public func recordGivenUp(messageID: String, state: String, reason: String, userID: String?, purpose: String?) async throws {
        try Task.checkCancellation()
        let key = messageKey(messageID)
        let now = try await services.clock.now()
        _ = try await redis.transaction(keys: [key, failedUnannouncedKey], [
            RedisCommand("HSET", [key, "state", state, "reason", reason, "user_id", userID ?? "", "purpose", purpose ?? ""]),
            RedisCommand("HDEL", key, "announced"),
            RedisCommand("EXPIRE", key, String(SMSSettings.ledgerTTL)),
            RedisCommand("ZADD", failedUnannouncedKey, Self.format(now.timeIntervalSince1970), messageID),
        ])
    }

    /// Marks a message that has not been sent, failed or given up as `cancelled`, so no run sends it: the job that
    /// carries it may be one this caller cannot name (quiet hours and the daily cap re-enqueue it under a new job id).
    /// True when it was marked; false when the message already had a state (a send under way marks it `sent` after).
    func cancel(_ messageID: String, reason: String) async throws -> Bool {
        // One script (Lua/sms_cancel.lua): a send under way (its mark written) may still go out, and is not called stopped.
        try await redis.run(Self.cancelScript, keys: [messageKey(messageID)], arguments: [reason, String(SMSSettings.ledgerTTL)]).int == 1
    }

    /// Counts one send whose outcome is unknown; returns how many there have been for this message. With a
    /// `provider` whose outbox can be searched, also notes it and when the attempt began, for the next run to
    /// reconcile before sending again, and the `template` that send used (its tokens are what the outbox is searched for).
    ///
    /// `sms.send` writes it before each send, not after a lost answer only: a run killed (or stalled past its lock)
    /// while a provider held its request leaves the mark, and the run that recovers the job asks the outbox instead of
    /// sending blind. An answer that says the send failed takes the mark back (``sendAnswered(_:)``); one that says it
    /// went out writes `sent` over it (``recordSent(messageID:provider:providerIDs:sentAt:userID:purpose:)``).
    ///
    /// Refused (nil, nothing written) for a message cancelled or settled since the run began (Lua/sms_mark_sending.lua):
    /// the send must not go.
    ///
    /// Durable (`REDIS_WAIT_REPLICAS`): the mark is what keeps the run after a failover from sending blind, so it must
    /// be on the replicas before the send goes. Too few confirmed it: the mark is taken back on the primary
    /// (Lua/sms_unmark_sending.lua; the send it announced will not go, and counted, two such failures would stop the
    /// message's sends through that provider) and ``SMSLedgerNotReplicated`` is thrown: the caller must not send.
    public func noteUnknownOutcome(_ messageID: String, provider: String? = nil, attemptStartedAt: Date? = nil, template: String? = nil) async throws -> Int? {
        let marked = provider != nil && attemptStartedAt != nil
        let since = Self.format((attemptStartedAt ?? Date()).timeIntervalSince1970)
        let count: Int
        do {
            count = try await redis.run(Self.markSendingScript, keys: [messageKey(messageID)], arguments: [
                marked ? provider ?? "" : "", since, template ?? "", String(SMSSettings.ledgerTTL),
            ], durable: true).int ?? 1
        } catch let error as RedisError where error.code == .notReplicated {
            // Best effort: a take-back that fails leaves the mark, and the next run asks the outbox before sending.
            if marked, let provider { _ = try? await redis.run(Self.unmarkSendingScript, keys: [messageKey(messageID)], arguments: [provider, since]) }
            throw SMSLedgerNotReplicated(write: "send-under-way mark", error: error)
        }
        return count < 0 ? nil : count
    }

    /// When this message was first parked because every provider raised an alert (real Unix seconds): `now` the first
    /// time, kept after. Bounds how long its parks go uncounted (``SMSSettings/alertParkLimit``).
    func alertParkedSince(_ messageID: String, now: Date) async throws -> Double {
        let key = messageKey(messageID)
        let replies = try await redis.transaction(keys: [key], [
            RedisCommand("HSETNX", key, "alert_parked_since", Self.format(now.timeIntervalSince1970)),
            RedisCommand("HGET", key, "alert_parked_since"),
            RedisCommand("EXPIRE", key, String(SMSSettings.ledgerTTL)),
        ])
        return replies.count > 1 ? replies[1].string.flatMap(Double.init) ?? now.timeIntervalSince1970 : now.timeIntervalSince1970
    }

    /// Plans the re-send of a message whose IPPanel bulk ended unsent: names the job that will send it, which
    /// ``reopen(_:)``s the message when it runs (its state says `sent` until then, so no other run sends it).
    func planResend(_ messageID: String, jobID: String) async throws {
        let key = messageKey(messageID)
        _ = try await redis.transaction(keys: [key], [
            RedisCommand("HSET", key, "resend_job", jobID),
            RedisCommand("HINCRBY", key, "resends", "1"),
            RedisCommand("EXPIRE", key, String(SMSSettings.ledgerTTL)),
        ])
    }

    /// Makes a message whose bulk ended unsent sendable again (run by the planned re-send job `jobID` when it
    /// starts): the send's state, ids and delivery go; its counts (`resends`, `unknown_outcomes`, capped failures)
    /// stay. In one step with its checks — still `sent`, `jobID` still the planned re-send, not cancelled — so a
    /// cancel cannot land between a check and the reopening. False when a check failed (nothing changed).
    ///
    /// KEYS[1] the message · ARGV[1] the re-send's job id.
    func reopen(_ messageID: String, jobID: String) async throws -> Bool {
        try await redis.run(Self.reopenScript, keys: [messageKey(messageID)], arguments: [jobID]).int == 1
    }

    /// Notes that the lost send is sent once more unchecked (Kavenegar's outbox answered `407`), in one write that keeps
    /// its note (`unknown_provider`): the next send's mark replaces the note (Lua/sms_mark_sending.lua), and
    /// `unchecked_send` stays until the message is sent. Why: the note was cleared first, and a burial between the clear
    /// and the next mark — or after that send's answer took its mark back — found neither and gave up as `failed` ("not
    /// sent", its daily slot given back) a message that may have gone out.
    func noteUncheckedSend(_ messageID: String) async throws {
        let key = messageKey(messageID)
        _ = try await redis.transaction(keys: [key], [
            RedisCommand("HSET", key, "unchecked_send", "1"),
            RedisCommand("EXPIRE", key, String(SMSSettings.ledgerTTL)),
        ])
    }

    /// Forgets the unreconciled send: its provider said it did not go out.
    public func clearUnreconciled(_ messageID: String) async throws {
        _ = try await redis.send("HDEL", messageKey(messageID), "unknown_provider", "unknown_since", "unknown_template")
    }

    /// Clears the lost send's mark, as ``clearUnreconciled(_:)``, and records `provider` as capped for this message
    /// (``Record/cappedProviders``): its outbox showed none of its sends went out, and the next provider takes over.
    func clearUnreconciled(_ messageID: String, capping provider: String, among capped: Set<String>) async throws {
        let key = messageKey(messageID)
        _ = try await redis.transaction(keys: [key], [
            RedisCommand("HDEL", key, "unknown_provider", "unknown_since", "unknown_template"),
            RedisCommand("HSET", key, "capped_providers", capped.union([provider]).sorted().joined(separator: ",")),
            RedisCommand("EXPIRE", key, String(SMSSettings.ledgerTTL)),
        ])
    }

    /// Records `provider` as capped for this message (``Record/cappedProviders``) without touching a lost send's mark:
    /// a code its provider caps (Kavenegar `402`, at most 3 times for one message) reached its cap, and later runs
    /// send through the other providers only.
    func capProvider(_ messageID: String, provider: String, among capped: Set<String>) async throws {
        let key = messageKey(messageID)
        _ = try await redis.transaction(keys: [key], [
            RedisCommand("HSET", key, "capped_providers", capped.union([provider]).sorted().joined(separator: ",")),
            RedisCommand("EXPIRE", key, String(SMSSettings.ledgerTTL)),
        ])
    }

    /// Takes back the mark ``noteUnknownOutcome(_:provider:attemptStartedAt:template:)`` wrote before a send whose
    /// answer came and said it failed: its outcome is known, and it counts as no unknown outcome.
    public func sendAnswered(_ messageID: String) async throws {
        let key = messageKey(messageID)
        _ = try await redis.transaction(keys: [key], [
            RedisCommand("HINCRBY", key, "unknown_outcomes", "-1"),
            RedisCommand("HDEL", key, "unknown_provider", "unknown_since", "unknown_template"),
            RedisCommand("EXPIRE", key, String(SMSSettings.ledgerTTL)),
        ])
    }

    /// Counts one failure of `provider` with `code` for this message, for a code whose provider caps the attempts
    /// (Kavenegar `402`: about 3, docs/providers.md §2.6); returns how many there have been.
    func countCappedFailure(_ messageID: String, provider: String, code: String) async throws -> Int {
        let key = messageKey(messageID)
        let replies = try await redis.transaction(keys: [key], [
            RedisCommand("HINCRBY", key, "failures:\(provider):\(code)", "1"),
            RedisCommand("EXPIRE", key, String(SMSSettings.ledgerTTL)),
        ])
        return replies.first?.int ?? 1
    }

    // MARK: Lock and daily cap

    /// Takes the message's send lock for `seconds` (real time); false when another run holds it.
    ///
    /// Durable (`REDIS_WAIT_REPLICAS`): a lock a failover lost let a second run send beside one whose request a
    /// provider still held. Too few replicas confirmed it: it is given back and ``SMSLedgerNotReplicated`` thrown
    /// (nothing is sent; the job retries).
    public func lock(_ messageID: String, token: String, seconds: Int = 120) async throws -> Bool {
        do {
            return try await redis.send(RedisCommand("SET", lockKey(messageID), token, "NX", "EX", String(seconds)), durable: true).string == "OK"
        } catch let error as RedisError where error.code == .notReplicated {
            // Only this token's: a `SET NX` that found the lock held wrote nothing, and the holder's stays.
            try? await unlock(messageID, token: token)
            throw SMSLedgerNotReplicated(write: "send lock", error: error)
        }
    }

    /// Who holds the send lock of `messageID` and for how long still; nil when no run holds it.
    func lockHolder(_ messageID: String) async throws -> LockHolder? {
        try await redis.lockHolder(lockKey(messageID))
    }

    /// Releases the lock if `token` holds it.
    ///
    /// KEYS[1] the lock · ARGV[1] the holder's token.
    public func unlock(_ messageID: String, token: String) async throws {
        _ = try await redis.run(Self.unlockScript, keys: [lockKey(messageID)], arguments: [token])
    }

    /// Takes a daily slot of the recipient for this message; false when `cap` messages already went today.
    ///
    /// KEYS[1] the recipient's day · ARGV[1] message id · ARGV[2] cap · ARGV[3] TTL s (2 days).
    public func reserveDailySlot(phone: String, day: String, messageID: String, cap: Int) async throws -> Bool {
        let reply = try await redis.run(
            Self.reserveDailySlotScript, keys: [capKey(phone: phone, day: day)],
            arguments: [messageID, String(cap), String(2 * 86_400)])
        return reply.int == 1
    }

    /// Gives a slot back (the message failed for good, nothing went out).
    public func releaseDailySlot(phone: String, day: String, messageID: String) async throws {
        _ = try await redis.send("SREM", capKey(phone: phone, day: day), messageID)
    }

    // MARK: Polling

    /// Claims up to `limit` messages due at `now`, leasing them until `leaseUntil`.
    ///
    /// KEYS[1] the poll set · ARGV[1] now · ARGV[2] limit · ARGV[3] lease end.
    public func claimDue(now: Date, limit: Int, leaseUntil: Date) async throws -> [String] {
        let reply = try await redis.run(
            Self.claimDueScript, keys: [pollKey],
            arguments: [Self.format(now.timeIntervalSince1970), String(limit), Self.format(leaseUntil.timeIntervalSince1970)])
        return (reply.array ?? []).compactMap(\.string)
    }

    /// The records of `ids` (nil for a message whose record is gone), in one round trip.
    public func records(_ ids: [String]) async throws -> [Record?] {
        guard !ids.isEmpty else { return [] }
        let replies = try await redis.pipeline(ids.map { RedisCommand("HGETALL", messageKey($0)) })
        return zip(ids, replies).map { id, reply in
            let fields = reply.hashFields
            return fields.isEmpty ? nil : Record(messageID: id, fields: fields)
        }
    }

    /// One poll result to record.
    public struct StatusUpdate: Sendable {
        public var messageID: String
        public var state: String
        public var rawStatus: String
        public var isFinal: Bool
        public var nextPoll: Date
        /// False when the provider was not asked (the update only reschedules or expires the message).
        public var countsAsPoll: Bool
        /// The provider ids the poll asked about (empty when none was asked).
        public var providerIDs: [String] = []
    }

    /// Records poll results in one round trip; returns the updates whose state changed.
    ///
    /// Per update: KEYS[1] the message · KEYS[2] the poll set · ARGV[1] message id · ARGV[2] state · ARGV[3] raw
    /// status · ARGV[4] final (1/0) · ARGV[5] next poll · ARGV[6] now · ARGV[7] counts as a poll (1/0) · ARGV[8] the
    /// provider ids polled, comma-separated: a message sent again since (a re-send) is left as it is.
    public func apply(_ updates: [StatusUpdate], now: Date) async throws -> [StatusUpdate] {
        let replies = try await redis.pipeline(Self.applyStatusScript, calls: updates.map { update in
            (keys: [messageKey(update.messageID), pollKey, unannouncedKey], arguments: [
                update.messageID, update.state, update.rawStatus, update.isFinal ? "1" : "0",
                Self.format(update.nextPoll.timeIntervalSince1970), Self.format(now.timeIntervalSince1970),
                update.countsAsPoll ? "1" : "0", update.providerIDs.joined(separator: ","),
            ])
        })
        if let error = replies.compactMap(\.errorMessage).first { throw SMSLedgerError(message: error) }
        return zip(updates, replies).filter { $1.int == 1 }.map(\.0)
    }

    /// Up to `limit` messages whose last delivery change is not announced yet, oldest first.
    func unannounced(limit: Int) async throws -> [String] {
        (try await redis.send("ZRANGE", unannouncedKey, "0", String(limit - 1)).array ?? []).compactMap(\.string)
    }

    /// Marks the delivery changes of `ids` announced (their `sms.status` is on the stream).
    func markStatusAnnounced(_ ids: [String]) async throws {
        guard !ids.isEmpty else { return }
        try await redis.send(RedisCommand("ZREM", [unannouncedKey] + ids))
    }

    /// Puts claimed messages back to be polled at `at` (a provider call failed; no poll is counted).
    public func reschedule(_ ids: [String], at: Date) async throws {
        guard !ids.isEmpty else { return }
        _ = try await redis.pipeline(ids.map { RedisCommand("ZADD", pollKey, "XX", Self.format(at.timeIntervalSince1970), $0) })
    }

    /// True (and marked done) when the credit check is due.
    ///
    /// KEYS[1] the credit hash · ARGV[1] now · ARGV[2] interval s.
    public func creditCheckDue(now: Date, interval: Double) async throws -> Bool {
        try await redis.run(
            Self.creditCheckDueScript, keys: [creditKey],
            arguments: [Self.format(now.timeIntervalSince1970), Self.format(interval)]).int == 1
    }

    /// Stores the last credit read.
    public func recordCredit(_ remaining: Int64) async throws {
        _ = try await redis.send("HSET", creditKey, "remaining", String(remaining))
    }

    /// The last Kavenegar credit `sms.delivery_poll` read, as it recorded it.
    public struct CreditReading: Sendable, Equatable {
        /// Rial, as Kavenegar reported it; nil when no read has succeeded yet.
        public let remaining: Int64?
        /// When the last check was made (domain time; the check may have failed, then `remaining` is older).
        public let checkedAt: Date?
    }

    /// The last credit read of `namespace` (one `HMGET`); nil when none was ever checked. A read-only view for
    /// operators (the dashboard), so it needs no ``DomainServices``.
    public static func lastCredit(redis: RedisClient, namespace: String) async throws -> CreditReading? {
        let reply = try await redis.send("HMGET", creditKey(namespace: namespace), "remaining", "checked_at").array ?? []
        let remaining = reply.first?.string.flatMap { Int64($0) }
        let checkedAt = reply.count > 1 ? reply[1].string.flatMap { Double($0) }.map { Date(timeIntervalSince1970: $0) } : nil
        if remaining == nil && checkedAt == nil { return nil }
        return CreditReading(remaining: remaining, checkedAt: checkedAt)
    }

    // MARK: Helpers

    static func format(_ seconds: Double) -> String { String(format: "%.3f", seconds) }

    // MARK: Scripts (each state change that must be atomic is one call; `Lua/` documents each)

    static let reserveDailySlotScript = RedisScript(name: "sms.reserve_daily_slot", embedded: PackageResources.sms_reserve_daily_slot_lua)
    static let unlockScript = RedisScript(name: "sms.unlock", embedded: PackageResources.sms_unlock_lua)
    static let claimDueScript = RedisScript(name: "sms.claim_due", embedded: PackageResources.sms_claim_due_lua)
    static let reopenScript = RedisScript(name: "sms.reopen", embedded: PackageResources.sms_reopen_lua)
    static let markSendingScript = RedisScript(name: "sms.mark_sending", embedded: PackageResources.sms_mark_sending_lua)
    static let unmarkSendingScript = RedisScript(name: "sms.unmark_sending", embedded: PackageResources.sms_unmark_sending_lua)
    static let giveUpBuriedScript = RedisScript(name: "sms.give_up_buried", embedded: PackageResources.sms_give_up_buried_lua)
    static let cancelScript = RedisScript(name: "sms.cancel", embedded: PackageResources.sms_cancel_lua)
    static let applyStatusScript = RedisScript(name: "sms.apply_status", embedded: PackageResources.sms_apply_status_lua)
    static let creditCheckDueScript = RedisScript(name: "sms.credit_check_due", embedded: PackageResources.sms_credit_check_due_lua)
}

/// A ledger write an at-most-once send rests on that fewer replicas than `REDIS_WAIT_REPLICAS` confirmed in time
/// (``RedisError/Code/notReplicated``): on the primary, or taken back there (the lock, the mark), as the write says.
struct SMSLedgerNotReplicated: Error, CustomStringConvertible {
    /// What was written: `send lock`, `send-under-way mark`, `sent record`.
    let write: String
    let error: RedisError
    var description: String { "its \(write) did not reach enough replicas (\(error))" }
}

/// A ledger script failed in Redis.
struct SMSLedgerError: Error, CustomStringConvertible {
    let message: String
    var description: String { "sms ledger: \(message)" }
}
