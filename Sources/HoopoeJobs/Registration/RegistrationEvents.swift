/// `sendinblue.registered`: the user's Brevo child is created, credited and set up (`sendinblue.register`). Never
/// the child's auth key: a reader takes it from the registration hash when `auth_key_stored` says it is there.
struct SendinblueRegistered: DomainEvent {
    static let name = "sendinblue.registered"
    var userID: String
    var childID: Int64
    var adopted: Bool
    var authKeyStored: Bool

    enum CodingKeys: String, CodingKey, CaseIterable {
        case userID = "user_id", childID = "child_id", adopted, authKeyStored = "auth_key_stored"
    }
}

/// `sendinblue.failed`: the registration gave up (`sendinblue.register`); the reason never holds the password.
struct SendinblueFailed: DomainEvent {
    static let name = "sendinblue.failed"
    var userID: String
    var reason: String

    /// The longest `user_id` the event carries whole: the longest a registration takes (``ReminderValidation/userID(_:)``).
    static let wholeUserIDLength = 200
    /// How much of a longer one it carries, followed by `…`.
    static let shownUserIDPrefix = 64

    /// The event for `userID`, cut to its first ``shownUserIDPrefix`` characters and `…` when it is over
    /// ``wholeUserIDLength``: such a job is refused before any call (`invalid payload`), and its event carried the id
    /// whole, 100,000 characters onto the events stream, to every reader of it (and to every dashboard page showing it).
    /// The prefix is enough for the caller to find its job; the dead set keeps the payload.
    init(userID: String, reason: String) {
        self.userID = userID.count > Self.wholeUserIDLength ? String(userID.prefix(Self.shownUserIDPrefix)) + "…" : userID
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case userID = "user_id", reason
    }
}
