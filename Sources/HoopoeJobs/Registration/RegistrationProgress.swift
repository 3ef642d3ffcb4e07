/// How far one user's registration got, so that across retries (and across jobs for the same user) each step
/// runs once: the child is created once, credits are added once, the event is emitted once.
///
/// Kept as the hash `{registration}:user:<user_id>` (``RegistrationStore``). Flags written *before* a call that
/// is not idempotent (``createSent``, ``creditsSent``) mean "a request went out whose outcome is not known": the
/// next attempt reconciles before sending again, whether the last one timed out or its worker died mid-call.
struct RegistrationProgress: Sendable, Equatable {
    /// The child's Brevo id (persisted the moment create-child answers, or when reconciliation finds it).
    var childID: Int64?
    /// The child's auth key from create-child; nil for a child found by email (the list does not return it).
    var authKey: String?
    /// True when the child was found by email rather than created by this registration.
    var adopted = false
    /// A create-child request went out and its outcome is not known yet.
    var createSent = false
    /// Where the search of the children list for that child goes on (an earlier attempt's search cut short).
    var findOffset = 0
    /// Brevo reported the child's account created.
    var created = false
    /// The child's balance read just before the last add-credits request.
    var creditsBefore: CreditBalance?
    /// An add-credits request went out and its outcome is not known yet.
    var creditsSent = false
    /// The plan's credits are on the child.
    var creditsDone = false
    /// The plan's IP is associated.
    var ipDone = false
    /// `sendinblue.registered` was emitted.
    var registered = false

    /// Field names in the hash.
    enum Field {
        static let childID = "child_id"
        static let authKey = "auth_key"
        static let adopted = "adopted"
        static let createSent = "create_sent"
        static let findOffset = "find_offset"
        static let created = "created"
        static let creditsBeforeSMS = "credits_before_sms"
        static let creditsBeforeEmail = "credits_before_email"
        static let creditsSent = "credits_sent"
        static let creditsDone = "credits_done"
        static let ipDone = "ip_done"
        static let registeredAt = "registered_at"
        /// How many times `provider` answered `operation` with a capped code (Brevo `409 duplicate_request`).
        static func failures(provider: String, operation: String, code: String) -> String { "failures:\(provider):\(operation):\(code)" }
    }

    init() {}

    /// From `HGETALL`'s fields.
    init(fields: [String: String]) {
        childID = fields[Field.childID].flatMap { Int64($0) }
        authKey = fields[Field.authKey].flatMap { $0.isEmpty ? nil : $0 }
        adopted = fields[Field.adopted] == "1"
        createSent = fields[Field.createSent] == "1"
        findOffset = fields[Field.findOffset].flatMap { Int($0) }.map { max(0, $0) } ?? 0
        created = fields[Field.created] == "1"
        if let sms = fields[Field.creditsBeforeSMS].flatMap({ Int64($0) }), let email = fields[Field.creditsBeforeEmail].flatMap({ Int64($0) }) {
            creditsBefore = CreditBalance(sms: sms, email: email)
        }
        creditsSent = fields[Field.creditsSent] == "1"
        creditsDone = fields[Field.creditsDone] == "1"
        ipDone = fields[Field.ipDone] == "1"
        registered = fields[Field.registeredAt] != nil
    }
}
