import Foundation
import HoopoeCore
import Providers

/// The payload of `sendinblue.register` (jobs/schemas/sendinblue.register.schema.json): everything Brevo's
/// create-child needs plus the plan to apply, since Hoopoe cannot read Kingfisher's database.
///
/// `password` is the child's login password. It is never logged, never put into an error message, and the worker
/// strips it from the copy a dead job leaves in the dead set (``SendinblueRegisterJob/redactedPayloadKeys``).
/// It is optional here (the schema requires it) only so that a dead job retried from the dead set — whose copy
/// has no password — can still finish the steps after the child exists; one that must still create the child
/// fails with a reason saying the password is needed.
public struct SendinblueRegisterPayload: JobPayload, Equatable {
    public static let jobType = "sendinblue.register"

    /// The Kingfisher user: the key of the registration's progress and lock, and of the events. A JSON number is
    /// taken as its decimal text.
    public var userID: String
    /// The child's login email; also how a child is found again after an unknown outcome.
    public var email: String
    public var firstName: String
    public var lastName: String
    /// Brevo's `companyName`.
    public var company: String
    /// The child's login password (never logged).
    public var password: String?
    /// Brevo's `language`: `fr`, `es`, `pt`, `it`, `de` or `en`; Brevo's default when absent.
    public var language: String?
    /// What the user bought: credits to add and an optional dedicated IP.
    public var plan: Plan

    /// The subscribed plan, as far as the registration needs it.
    public struct Plan: Codable, Sendable, Equatable {
        /// Kingfisher's plan id, carried for the record (not used).
        public var id: String?
        /// Email credits to add (a Kingfisher plan's `credit`).
        public var emailCredits: Int64
        /// SMS credits to add.
        public var smsCredits: Int64
        /// A dedicated IP to associate with the child; none when absent or empty.
        public var ip: String?

        public init(id: String? = nil, emailCredits: Int64, smsCredits: Int64 = 0, ip: String? = nil) {
            self.id = id
            self.emailCredits = emailCredits
            self.smsCredits = smsCredits
            self.ip = ip
        }

        enum CodingKeys: String, CodingKey { case id, credit, ip }
        enum CreditKeys: String, CodingKey { case email, sms }

        /// `credit` is a number (email credits, as a Kingfisher plan carries it) or `{"email": …, "sms": …}`.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = try c.decodeLenientString(forKey: .id)
            if let amount = try? c.decodeIfPresent(Int64.self, forKey: .credit) {
                emailCredits = amount
                smsCredits = 0
            } else if c.contains(.credit), (try? c.decodeNil(forKey: .credit)) != true {
                let credit = try c.nestedContainer(keyedBy: CreditKeys.self, forKey: .credit)
                emailCredits = try credit.decodeIfPresent(Int64.self, forKey: .email) ?? 0
                smsCredits = try credit.decodeIfPresent(Int64.self, forKey: .sms) ?? 0
            } else {
                emailCredits = 0
                smsCredits = 0
            }
            ip = try c.decodeIfPresent(String.self, forKey: .ip).flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
        }

        /// `credit` as `{"email": …, "sms": …}`, which decodes to the same plan.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encodeIfPresent(id, forKey: .id)
            var credit = c.nestedContainer(keyedBy: CreditKeys.self, forKey: .credit)
            try credit.encode(emailCredits, forKey: .email)
            try credit.encode(smsCredits, forKey: .sms)
            try c.encodeIfPresent(ip, forKey: .ip)
        }
    }

    enum CodingKeys: String, CodingKey {
        case userID = "user_id", email, firstName = "first_name", lastName = "last_name", company, password, language, plan
    }

    public init(
        userID: String, email: String, firstName: String, lastName: String, company: String, password: String?,
        language: String? = nil, plan: Plan
    ) {
        self.userID = userID
        self.email = email
        self.firstName = firstName
        self.lastName = lastName
        self.company = company
        self.password = password
        self.language = language
        self.plan = plan
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard let user = try c.decodeLenientString(forKey: .userID) else {
            throw DecodingError.keyNotFound(CodingKeys.userID, .init(codingPath: c.codingPath, debugDescription: "user_id is required"))
        }
        userID = user
        email = try c.decode(String.self, forKey: .email)
        firstName = try c.decode(String.self, forKey: .firstName)
        lastName = try c.decode(String.self, forKey: .lastName)
        company = try c.decode(String.self, forKey: .company)
        password = try c.decodeIfPresent(String.self, forKey: .password)
        language = try c.decodeIfPresent(String.self, forKey: .language)
        plan = try c.decode(Plan.self, forKey: .plan)
    }

    /// Why the payload cannot be used, or nil. Checked before any Brevo call: Brevo would answer 400 (permanent)
    /// anyway, after spending a request of the hourly budget. Never mentions the password's value.
    public var problem: String? {
        if userID.trimmingCharacters(in: .whitespaces).isEmpty { return "user_id is empty" }
        // The reminder jobs' rule for the same Kingfisher user id, one copy: it keys the registration's progress and
        // lock in Redis and goes into the events, where a 100,000-character one was taken as it came.
        do {
            _ = try ReminderValidation.userID(DomainID(stringLiteral: userID))
        } catch {
            return error.message
        }
        let at = email.split(separator: "@", omittingEmptySubsequences: false)
        if at.count != 2 || at[0].isEmpty || !at[1].contains(".") || email.contains(where: \.isWhitespace) {
            return "email is not an email address"
        }
        for (name, value) in [("first_name", firstName), ("last_name", lastName), ("company", company)]
        where value.trimmingCharacters(in: .whitespaces).isEmpty {
            return "\(name) is empty"
        }
        if let language, BrevoNewChild.Language(rawValue: language) == nil {
            return "language must be one of fr, es, pt, it, de, en (got \(language))"
        }
        if plan.emailCredits < 0 || plan.smsCredits < 0 { return "plan.credit must not be negative" }
        if let ip = plan.ip, !Self.isIPv4(ip) { return "plan.ip is not an IPv4 address (got \(ip))" }
        return nil
    }

    /// The create-child body; nil without a password.
    var newChild: BrevoNewChild? {
        guard let password, !password.isEmpty else { return nil }
        return BrevoNewChild(
            email: email, firstName: firstName, lastName: lastName, companyName: company, password: password,
            language: language.flatMap(BrevoNewChild.Language.init(rawValue:)))
    }

    static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber) && Int(part)! <= 255
        }
    }
}

fileprivate extension KeyedDecodingContainer {
    /// A string, or a whole number's decimal text; nil when absent or null.
    func decodeLenientString(forKey key: Key) throws -> String? {
        if let number = try? decodeIfPresent(Int64.self, forKey: key) { return String(number) }
        return try decodeIfPresent(String.self, forKey: key)
    }
}
