import Foundation
import HoopoeCore
import HoopoeJSON

/// `credit.threshold.set`: creates or updates one low-credit threshold of a user (Kingfisher keeps several per user,
/// each with its own id). Changing the value keeps the threshold's state: if the balance is already below the new
/// value and it had not fired, the next `reminders.low_credit` sweep fires it.
public struct CreditThresholdSetJob: JobHandler {
    public struct Payload: JobPayload {
        public static let jobType = "credit.threshold.set"
        public var userID: DomainID<AnyText>
        public var thresholdID: DomainID<AnyText>
        public var threshold: Double
        public var phone: String
        public var firstName: String
        /// The user's Brevo child auth key; with it the sweep reads the balance from Brevo.
        public var authKey: String?

        enum CodingKeys: String, CodingKey {
            case userID = "user_id", thresholdID = "threshold_id", threshold, phone, firstName = "first_name", authKey = "auth_key"
        }
    }

    /// The Brevo child auth key is a credential: it is kept in `{credit}:thresholds:<user>` for the reads, but not
    /// in the dead-set copy of a failed job.
    public var redactedPayloadKeys: Set<String> { ["auth_key"] }
    let services: DomainServices

    public init(services: DomainServices) { self.services = services }

    public func run(_ payload: Payload, context: JobContext) async throws {
        let user: String, id: String, phone: String, name: String
        do {
            user = try ReminderValidation.userID(payload.userID)
            id = try ReminderValidation.token(payload.thresholdID.value, field: "threshold_id")
            phone = try ReminderValidation.phone(payload.phone)
            name = try ReminderValidation.firstName(payload.firstName)
        } catch {
            throw JobFailure.permanent(error.message)
        }
        guard payload.threshold.isFinite, payload.threshold >= 0 else { throw JobFailure.permanent("threshold must be a number ≥ 0") }
        let authKey = payload.authKey?.trimmingCharacters(in: .whitespaces)
        var record: [String: JSONValue] = [
            "threshold": .string(CreditAmount.text(payload.threshold)), "phone": .string(phone), "first_name": .string(name),
        ]
        if let authKey, !authKey.isEmpty { record["auth_key"] = .string(authKey) }
        let json = String(decoding: JSONValue.object(record).encoded(), as: UTF8.self)
        try await CreditThresholdStore(services: services).save(
            user: user, thresholdID: id, record: json, authKey: authKey?.isEmpty == false ? authKey : nil)
        try await services.events.emit(
            CreditThresholdSaved(userID: user, thresholdID: id, threshold: payload.threshold, brevo: authKey?.isEmpty == false),
            at: try await services.clock.now())
    }
}

/// `credit.threshold.delete`: removes one threshold (an unknown one is not an error: `existed: false`).
public struct CreditThresholdDeleteJob: JobHandler {
    public struct Payload: JobPayload {
        public static let jobType = "credit.threshold.delete"
        public var userID: DomainID<AnyText>
        public var thresholdID: DomainID<AnyText>
        enum CodingKeys: String, CodingKey { case userID = "user_id", thresholdID = "threshold_id" }
    }

    let services: DomainServices

    public init(services: DomainServices) { self.services = services }

    public func run(_ payload: Payload, context: JobContext) async throws {
        let user: String, id: String
        do {
            user = try ReminderValidation.userID(payload.userID)
            id = try ReminderValidation.token(payload.thresholdID.value, field: "threshold_id")
        } catch {
            throw JobFailure.permanent(error.message)
        }
        let existed = try await CreditThresholdStore(services: services).delete(user: user, thresholdID: id, jobID: context.id)
        try await services.events.emit(
            CreditThresholdDeleted(userID: user, thresholdID: id, existed: existed), at: try await services.clock.now())
    }
}

/// `credit.balance`: a service reports a user's current credit balance; the next `reminders.low_credit` sweep
/// compares it with the user's thresholds. The latest report (or Brevo read) wins.
public struct CreditBalanceJob: JobHandler {
    public struct Payload: JobPayload {
        public static let jobType = "credit.balance"
        public var userID: DomainID<AnyText>
        public var credits: Double
        enum CodingKeys: String, CodingKey { case userID = "user_id", credits }
    }

    let services: DomainServices

    public init(services: DomainServices) { self.services = services }

    public func run(_ payload: Payload, context: JobContext) async throws {
        let user: String
        do { user = try ReminderValidation.userID(payload.userID) } catch { throw JobFailure.permanent(error.message) }
        guard payload.credits.isFinite else { throw JobFailure.permanent("credits must be a number") }
        try await CreditThresholdStore(services: services).recordBalance(user: user, credits: CreditAmount.text(payload.credits))
        try await services.events.emit(CreditBalanceRecorded(userID: user, credits: payload.credits), at: try await services.clock.now())
    }
}

/// Credit amounts as text: whole numbers without a fraction (`120`, not `120.0`), as SMS tokens show them.
enum CreditAmount {
    static func text(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
