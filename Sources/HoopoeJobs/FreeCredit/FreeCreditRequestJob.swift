import Foundation
import HoopoeCore
import HoopoeJSON

/// `freecredit.request {user_id, request_id, amount?}` (jobs/types/freecredit.request.md): decides a free-credit
/// request with ``FreeCreditLimiter`` and emits `freecredit.granted` or `freecredit.rejected`.
///
/// Idempotent per `request_id`: a re-delivered job gets the stored answer and never grants twice. The event is
/// emitted after the decision and marked as emitted; a re-run emits it only when that mark is missing (a crash
/// between the decision and the event), so events are at least once and carry `request_id` for de-duplication.
public struct FreeCreditRequestJob: JobHandler {
    public struct Payload: JobPayload, Equatable {
        public static let jobType = "freecredit.request"

        public var userID: DomainIdentifier
        /// Chosen by the caller, unique per request: the idempotency key and the name of the result key.
        public var requestID: DomainIdentifier
        /// Credit to grant; ``FreeCreditSettings/defaultAmount`` when absent.
        public var amount: Int?

        enum CodingKeys: String, CodingKey {
            case userID = "user_id", requestID = "request_id", amount
        }

        public init(userID: DomainIdentifier, requestID: DomainIdentifier, amount: Int? = nil) {
            self.userID = userID
            self.requestID = requestID
            self.amount = amount
        }
    }

    /// The largest `amount` accepted.
    public static let maximumAmount = 1_000_000_000
    /// Only Redis can fail here; a few quick retries cover a failover.
    public var maxAttempts: Int { 10 }
    public var timeout: Duration { .seconds(30) }

    let services: DomainServices

    public init(services: DomainServices) {
        self.services = services
    }

    public func run(_ payload: Payload, context: JobContext) async throws {
        // Bounded like FREECREDIT_DEFAULT_AMOUNT: the answer travels through Lua numbers (doubles) and back to Int.
        if let amount = payload.amount, !(1...Self.maximumAmount).contains(amount) {
            throw JobFailure.permanent("freecredit.request: amount must be a whole number in 1...\(Self.maximumAmount), got \(amount)")
        }
        let limiter = FreeCreditLimiter(services: services)
        let now = try await services.clock.now()
        let answer: FreeCreditAnswer, replayed: Bool
        do {
            (answer, replayed) = try await limiter.request(userID: payload.userID, requestID: payload.requestID, amount: payload.amount, now: now)
        } catch let reused as FreeCreditRequestIDReused {
            throw JobFailure.permanent("freecredit.request: \(reused)")
        }
        if replayed, try await limiter.wasEmitted(payload.requestID) { return }
        try await answer.emit(to: services.events)
        try await limiter.markEmitted(payload.requestID)
    }
}
