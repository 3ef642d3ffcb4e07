import Foundation
import HoopoeCore
import Logging
import HoopoeJSON

/// `gift.expire {user_id, user_gift_id, expires_at?}` (jobs/types/gift.expire.md): scheduled by `gift.granted` at
/// the gift's expiry plus `GIFT_EXPIRE_GRACE_SECONDS`. Marks an unused gift `expired` and emits `gift.expired {user_id, user_gift_id}`; a used gift
/// is left alone. Idempotent: a re-run emits nothing new (unless the run before died between the mark and the
/// event).
public struct GiftExpireJob: JobHandler {
    public struct Payload: JobPayload, Equatable {
        public static let jobType = "gift.expire"

        public var userID: DomainIdentifier
        public var userGiftID: DomainIdentifier
        /// When the gift expires (Unix seconds); a run before it (by the domain clock) waits until then.
        public var expiresAt: Double?

        enum CodingKeys: String, CodingKey {
            case userID = "user_id", userGiftID = "user_gift_id", expiresAt = "expires_at"
        }

        public init(userID: DomainIdentifier, userGiftID: DomainIdentifier, expiresAt: Double? = nil) {
            self.userID = userID
            self.userGiftID = userGiftID
            self.expiresAt = expiresAt
        }
    }

    public var maxAttempts: Int { 10 }
    public var timeout: Duration { .seconds(60) }

    let services: DomainServices

    public init(services: DomainServices) {
        self.services = services
    }

    public func run(_ payload: Payload, context: JobContext) async throws {
        if let value = payload.expiresAt, !(value > 0 && value < ExpiryDate.latest) {
            throw JobFailure.permanent("gift.expire: expires_at must be a Unix time in seconds before 2200, got \(value)")
        }
        let now = try await services.clock.now()
        let expiresAt = payload.expiresAt.map(Date.init(timeIntervalSince1970:))
        let grace = services.settings.gifts.expireGraceSeconds
        if let due = expiresAt?.addingTimeInterval(Double(grace)), due.timeIntervalSince(now) > 1 {
            // Early by the domain clock (it was moved back, the job was enqueued by hand, or before the grace a gift used
            // in its last moments has for its gift.used to land): wait for the expiry and the grace.
            throw JobFailure.retry("gift \(payload.userGiftID) expires at \(Int(payload.expiresAt ?? 0)) (+\(grace) s grace), not yet",
                                   at: services.clock.realTime(for: due, now: now).timeIntervalSince1970)
        }
        let store = GiftStore(services: services)
        let transition = try await store.transition(.expire, gift: payload.userGiftID, user: payload.userID, now: now, expiresAt: expiresAt)
        if transition.current == .expired {
            try await GiftFollowUps(services: services).cancelReminderMessage(gift: payload.userGiftID)
        }
        guard transition.current == .expired, !transition.emitted else {
            if transition.current != .expired {
                context.logger.info("gift.expire: gift \(payload.userGiftID) is \(transition.current.rawValue); nothing to expire")
            }
            return
        }
        try await services.events.emit(GiftExpired(userID: payload.userID.value, userGiftID: payload.userGiftID.value), at: now)
        try await store.markEmitted(payload.userGiftID)
    }
}
