import Foundation
import HoopoeCore
import Logging
import Providers
import HoopoeJSON

/// `gift.granted {user_id, user_gift_id, expires_at, phone?, service_name?}` (jobs/types/gift.granted.md): a user
/// won a gift on the wheel. Counts it against the wheel limits (``GiftWheel``), then schedules its `gift.expire`
/// at `expires_at` and, with a phone, a reminder SMS `GIFT_REMINDER_BEFORE_HOURS` before.
///
/// A grant over the limits is not a failure to retry or to park in the dead set but an answer: the gift is marked
/// `rejected`, `gift.rejected {user_id, user_gift_id, reason, retry_after}` is emitted and nothing is scheduled.
/// Services that call the wheel script themselves before awarding (record mode) get `duplicate` here and the
/// grant proceeds.
public struct GiftGrantedJob: JobHandler {
    public struct Payload: JobPayload, Equatable {
        public static let jobType = "gift.granted"

        public var userID: DomainIdentifier
        public var userGiftID: DomainIdentifier
        /// When the gift expires, Unix seconds (the SMM panel's `expired_at`).
        public var expiresAt: Double
        /// The user's phone for the reminder SMS; no reminder without it.
        public var phone: String?
        /// The gifted service's name, shown in the reminder (`token20`).
        public var serviceName: String?
        /// When the user won it, Unix seconds (the panel's `created`): the wheel counts the gift then. Without it, when
        /// this job runs — late after a backlog, it counted the gift in the wrong day (or month), and refused the next
        /// day's legitimate spin.
        public var wonAt: Double?

        enum CodingKeys: String, CodingKey {
            case userID = "user_id", userGiftID = "user_gift_id", expiresAt = "expires_at", phone, serviceName = "service_name", wonAt = "won_at"
        }

        public init(
            userID: DomainIdentifier, userGiftID: DomainIdentifier, expiresAt: Double, phone: String? = nil, serviceName: String? = nil, wonAt: Double? = nil
        ) {
            self.userID = userID
            self.userGiftID = userGiftID
            self.expiresAt = expiresAt
            self.phone = phone
            self.serviceName = serviceName
            self.wonAt = wonAt
        }
    }

    public var maxAttempts: Int { 10 }
    public var timeout: Duration { .seconds(60) }

    let services: DomainServices

    public init(services: DomainServices) {
        self.services = services
    }

    public func run(_ payload: Payload, context: JobContext) async throws {
        guard payload.expiresAt.isFinite, payload.expiresAt > 0, payload.expiresAt < ExpiryDate.latest else {
            throw JobFailure.permanent("gift.granted: expires_at must be a Unix time in seconds before 2200, got \(payload.expiresAt)")
        }
        if let wonAt = payload.wonAt, !(wonAt.isFinite && wonAt > 0 && wonAt < ExpiryDate.latest) {
            throw JobFailure.permanent("gift.granted: won_at must be a Unix time in seconds before 2200, got \(wonAt)")
        }
        if let phone = payload.phone, phone.trimmingCharacters(in: .whitespaces).isEmpty {
            throw JobFailure.permanent("gift.granted: phone is empty (leave it out for no reminder)")
        }
        // `sms.send`'s own rule, checked now: a number it would refuse made the reminder die hours later, unseen. The
        // phone serves the reminder only, so the gift is granted (counted, its expiry scheduled) without one, and the
        // log says why.
        var reminderPhone = payload.phone
        if let phone = payload.phone, (try? ReminderValidation.phone(phone)) == nil {
            context.logger.warning(
                "gift.granted: no reminder for gift \(payload.userGiftID): its phone is not an Iranian mobile number sms.send can text (like 09121234567 or +989121234567)",
                metadata: ["phone": "\(PhoneNumberMask.maskNumber(phone))"])
            reminderPhone = nil
        }
        let store = GiftStore(services: services)
        let now = try await services.clock.now()
        let expiresAt = Date(timeIntervalSince1970: payload.expiresAt)
        let stored = try await store.record(payload.userGiftID)
        let existing = stored.state
        // A record edited by hand (`expires_at` inf, 1e19): whether this is the same gift cannot be told, and the
        // value once trapped the conversion below and crashed the worker. Retrying cannot mend it: permanent.
        if existing != nil, existing != .rejected, let unreadable = stored.unreadableExpiresAt {
            throw JobFailure.permanent("""
                gift.granted: user_gift_id \(payload.userGiftID)'s record \(store.key(payload.userGiftID)) holds expires_at '\(unreadable.prefix(40))', not a \
                Unix time before 2200 (edited by hand?): fix or delete the record, then retry the job
                """)
        }
        if existing != nil, existing != .rejected, let known = stored.expiresAt, abs(known - payload.expiresAt) > 1 {
            throw JobFailure.permanent("""
                gift.granted: user_gift_id \(payload.userGiftID) was granted before with expires_at \(Self.wholeSeconds(known)), now \
                \(Self.wholeSeconds(payload.expiresAt)): each won gift needs its own id — the SMM panel's user_gift.id, not user_gift.uid (that is the user)
                """)
        }
        // The wheel counts the gift when it was won (never ahead of the domain clock, nor more than a month back), and
        // not after its expiry: the panel's own records hold gifts `created` a moment after their `expired_at` (seed
        // 001's gift list), which were refused, never counted against the day's limit, never announced expired.
        let wonAt = payload.wonAt.map {
            min(now, max(Date(timeIntervalSince1970: min($0, payload.expiresAt)), now.addingTimeInterval(-31 * 86_400)))
        } ?? now
        if existing == nil || existing == .granted {
            var verdict = try await GiftWheel(services: services).record(userID: payload.userID, userGiftID: payload.userGiftID, now: wonAt)
            if verdict.isRefused {
                // Judged at the win; the wait is from now.
                verdict.retryAfter = max(1, verdict.retryAfter - Int(now.timeIntervalSince(wonAt)))
                try await reject(payload, verdict: verdict, store: store, now: now)
                return
            }
        } else if existing == .rejected {
            // A re-delivery of a refused grant: only make sure its event went out.
            try await reject(payload, verdict: nil, store: store, now: now)
            return
        } else {
            // Used or expired before this grant ran (it was retrying): the gift was won all the same, and the next spin
            // must see it. Skipped, the day's limit let the user win another the same day (a review found it).
            _ = try await GiftWheel(services: services).recordRegardlessOfLimits(userID: payload.userID, userGiftID: payload.userGiftID, now: wonAt)
        }
        let transition = try await store.transition(.grant, gift: payload.userGiftID, user: payload.userID, now: now, expiresAt: expiresAt, queue: context.queue)
        guard transition.current == .granted else {
            context.logger.info("gift.granted: gift \(payload.userGiftID) is already \(transition.current.rawValue); nothing to schedule")
            return
        }
        let queue = try await store.record(payload.userGiftID).queue ?? context.queue
        let followUps = GiftFollowUps(services: services)
        _ = try await followUps.scheduleExpiry(user: payload.userID, gift: payload.userGiftID, expiresAt: expiresAt, now: now, queue: queue)
        if let phone = reminderPhone {
            _ = try await followUps.scheduleReminder(
                user: payload.userID, gift: payload.userGiftID, phone: phone, serviceName: payload.serviceName, expiresAt: expiresAt, now: now, queue: queue)
        }
        // A gift.used that ran between the grant's mark and the scheduling above found nothing to cancel yet.
        if try await store.record(payload.userGiftID).state == .used {
            _ = try await followUps.cancel(gift: payload.userGiftID, queue: queue)
        }
    }

    /// Unix seconds as whole seconds, for a message. Both values it is given are checked to be in 1970-2199 before;
    /// still, `Int64(exactly:)` rather than `Int64(_:)`, so a value no Int64 holds is shown as it is, never a trap.
    private static func wholeSeconds(_ value: Double) -> String {
        Int64(exactly: value.rounded(.down)).map(String.init) ?? "\(value)"
    }

    /// Marks the gift rejected and emits `gift.rejected` once (again only if an earlier run died before emitting).
    /// The reason and `retry_after` are written with the state (one script): written after it, a failure between the
    /// two left a re-run to announce `reason: "limit"` and `retry_after: 0` (neither documented; 0 said "allowed now").
    private func reject(_ payload: Payload, verdict: GiftWheelVerdict?, store: GiftStore, now: Date) async throws {
        let transition = try await store.transition(
            .reject, gift: payload.userGiftID, user: payload.userID, now: now, expiresAt: Date(timeIntervalSince1970: payload.expiresAt),
            rejection: verdict.map { (reason: $0.kind.rawValue, retryAfter: $0.retryAfter) })
        guard transition.current == .rejected, !transition.emitted else { return }
        let stored = try await store.record(payload.userGiftID)
        guard let reason = stored.reason, let retryAfter = stored.retryAfter else {
            throw JobFailure.permanent("gift.granted: gift \(payload.userGiftID) is rejected but its record lacks the reason (written by an older release)")
        }
        try await services.events.emit(
            GiftRejected(userID: payload.userID.value, userGiftID: payload.userGiftID.value, reason: reason, retryAfter: retryAfter), at: now)
        try await store.markEmitted(payload.userGiftID)
    }
}
