import HoopoeJSON
/// The body of create-child (`createChild`, docs/providers.md §4.2.1).
public struct BrevoNewChild: Sendable, Hashable {
    /// Languages Brevo accepts for `language`.
    public enum Language: String, Sendable, Hashable { case fr, es, pt, it, de, en }

    /// Child login email; also the key used to reconcile after an unknown outcome.
    public var email: String
    public var firstName: String
    public var lastName: String
    public var companyName: String
    /// Child login password (never logged).
    public var password: String
    public var language: Language?

    /// Creates a child description.
    public init(
        email: String, firstName: String, lastName: String, companyName: String, password: String,
        language: Language? = nil
    ) {
        self.email = email
        self.firstName = firstName
        self.lastName = lastName
        self.companyName = companyName
        self.password = password
        self.language = language
    }

    var body: JSONValue {
        var body: [String: JSONValue] = [
            "email": .string(email), "firstName": .string(firstName), "lastName": .string(lastName),
            "companyName": .string(companyName), "password": .string(password),
        ]
        if let language { body["language"] = .string(language.rawValue) }
        return .object(body)
    }
}
