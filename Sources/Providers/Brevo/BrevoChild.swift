import HoopoeJSON
/// A child account as `GET /reseller/children/{id}` and the children list return it (docs/providers.md §4.2.3).
public struct BrevoChild: Sendable, Hashable {
    /// `id` (present in list items; absent from the single-child view).
    public var id: Int64?
    public var email: String
    public var firstName: String
    public var lastName: String
    public var companyName: String
    /// `credits.emailCredits`.
    public var emailCredits: Int64?
    /// `credits.smsCredits`.
    public var smsCredits: Int64?
    /// `ips`: dedicated IPs associated with the child.
    public var ips: [String]
    /// `statistics.currentMonthTotalSent`.
    public var currentMonthTotalSent: Int64?

    /// Creates a child record.
    public init(
        id: Int64?, email: String, firstName: String, lastName: String, companyName: String, emailCredits: Int64?,
        smsCredits: Int64?, ips: [String], currentMonthTotalSent: Int64?
    ) {
        self.id = id
        self.email = email
        self.firstName = firstName
        self.lastName = lastName
        self.companyName = companyName
        self.emailCredits = emailCredits
        self.smsCredits = smsCredits
        self.ips = ips
        self.currentMonthTotalSent = currentMonthTotalSent
    }

    init(json: JSONValue) {
        self.init(
            id: json["id"]?.int64Value,
            email: json["email"]?.stringValue ?? "",
            firstName: json["firstName"]?.stringValue ?? "",
            lastName: json["lastName"]?.stringValue ?? "",
            companyName: json["companyName"]?.stringValue ?? "",
            emailCredits: json["credits"]?["emailCredits"]?.int64Value,
            smsCredits: json["credits"]?["smsCredits"]?.int64Value,
            ips: json["ips"]?.arrayValue?.compactMap(\.stringValue) ?? [],
            currentMonthTotalSent: json["statistics"]?["currentMonthTotalSent"]?.int64Value)
    }
}
