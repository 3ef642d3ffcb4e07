/// `gift.expired`: an unused gift reached its expiry (`gift.expire`).
struct GiftExpired: DomainEvent {
    static let name = "gift.expired"
    var userID: String
    var userGiftID: String

    enum CodingKeys: String, CodingKey, CaseIterable {
        case userID = "user_id", userGiftID = "user_gift_id"
    }
}

/// `gift.rejected`: the wheel limits refused a grant (`gift.granted`).
struct GiftRejected: DomainEvent {
    static let name = "gift.rejected"
    var userID: String
    var userGiftID: String
    /// `daily_limit` or `monthly_limit`.
    var reason: String
    /// Whole seconds until a gift is allowed again.
    var retryAfter: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case userID = "user_id", userGiftID = "user_gift_id", reason, retryAfter = "retry_after"
    }
}
