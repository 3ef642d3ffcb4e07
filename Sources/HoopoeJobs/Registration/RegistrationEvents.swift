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

    enum CodingKeys: String, CodingKey, CaseIterable {
        case userID = "user_id", reason
    }
}
