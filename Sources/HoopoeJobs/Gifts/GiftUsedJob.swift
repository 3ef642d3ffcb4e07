import Foundation
import HoopoeCore
import Logging

/// `gift.used {user_id, user_gift_id}` (jobs/types/gift.used.md): the user used the gift, so it must neither
/// expire nor be reminded of. Marks it `used` (a `gift.expire` already running then does nothing; a `gift.granted`
/// arriving later schedules nothing) and cancels its waiting `gift.expire` and reminder `sms.send`.
public struct GiftUsedJob: JobHandler {
    public struct Payload: JobPayload, Equatable {
        public static let jobType = "gift.used"

        public var userID: DomainIdentifier
        public var userGiftID: DomainIdentifier

        enum CodingKeys: String, CodingKey {
            case userID = "user_id", userGiftID = "user_gift_id"
        }

        public init(userID: DomainIdentifier, userGiftID: DomainIdentifier) {
            self.userID = userID
            self.userGiftID = userGiftID
        }
    }

    public var maxAttempts: Int { 10 }
    public var timeout: Duration { .seconds(60) }

    let services: DomainServices

    public init(services: DomainServices) {
        self.services = services
    }

    public func run(_ payload: Payload, context: JobContext) async throws {
        let store = GiftStore(services: services)
        let now = try await services.clock.now()
        let transition = try await store.transition(.use, gift: payload.userGiftID, user: payload.userID, now: now, expiresAt: nil)
        if transition.current != .used {
            context.logger.info("gift.used: gift \(payload.userGiftID) is already \(transition.current.rawValue)")
        }
        // Cancel even when the state did not change: a re-delivered gift.used must still cancel what a racing
        // gift.granted scheduled.
        let queue = try await store.record(payload.userGiftID).queue ?? context.queue
        let cancelled = try await GiftFollowUps(services: services).cancel(gift: payload.userGiftID, queue: queue)
        if cancelled.reminder == .running {
            context.logger.notice("gift.used: the reminder SMS of gift \(payload.userGiftID) is already being sent")
        }
    }
}
