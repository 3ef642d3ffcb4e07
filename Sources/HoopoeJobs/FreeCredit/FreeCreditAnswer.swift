import Foundation
import HoopoeJSON

/// The limiter's answer to one request, as stored in `<ns>:{freecredit}:result:<request_id>` and pushed to its
/// notify list (jobs/types/freecredit.request.md).
public struct FreeCreditAnswer: Codable, Sendable, Equatable {
    /// `granted` or `rejected`.
    public var status: String
    /// Why it was rejected: `cooldown` or `monthly_limit`.
    public var reason: String?
    /// Whole seconds until a request can succeed: the rest of the cooldown, or the time to the next month.
    public var retryAfter: Int?
    /// The amount granted.
    public var amount: Int?
    /// Grants this month including this one.
    public var monthUsed: Int?
    public var userID: String
    public var requestID: String
    /// The domain time of the decision (Unix seconds).
    public var at: Double

    enum CodingKeys: String, CodingKey {
        case status, reason, retryAfter = "retry_after", amount, monthUsed = "month_used", userID = "user_id",
            requestID = "request_id", at
    }

    /// True when credit was granted.
    public var isGranted: Bool { status == "granted" }

    static func decode(_ bytes: [UInt8]) throws -> FreeCreditAnswer {
        try JSONDecoder().decode(FreeCreditAnswer.self, from: Data(bytes))
    }

    /// Appends the event it becomes, `freecredit.granted` or `freecredit.rejected`, at the time of the decision.
    func emit(to events: EventLog) async throws {
        let at = Date(timeIntervalSince1970: at)
        if isGranted {
            try await events.emit(FreeCreditGranted(userID: userID, requestID: requestID, amount: amount ?? 0), at: at)
        } else {
            try await events.emit(FreeCreditRejected(userID: userID, requestID: requestID, reason: reason ?? "", retryAfter: retryAfter ?? 0), at: at)
        }
    }
}
