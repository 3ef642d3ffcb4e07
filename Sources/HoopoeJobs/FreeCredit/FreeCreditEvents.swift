/// `freecredit.granted` (`freecredit.request`).
struct FreeCreditGranted: DomainEvent {
    static let name = "freecredit.granted"
    var userID: String
    var requestID: String
    var amount: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case userID = "user_id", requestID = "request_id", amount
    }
}

/// `freecredit.rejected` (`freecredit.request`).
struct FreeCreditRejected: DomainEvent {
    static let name = "freecredit.rejected"
    var userID: String
    var requestID: String
    /// `cooldown` or `monthly_limit`.
    var reason: String
    /// Whole seconds until a request can succeed.
    var retryAfter: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case userID = "user_id", requestID = "request_id", reason, retryAfter = "retry_after"
    }
}
