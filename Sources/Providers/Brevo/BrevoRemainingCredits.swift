import HoopoeJSON
/// Credits after add-credits (`remainingCreditModel`): the child's and the reseller pool's.
public struct BrevoRemainingCredits: Sendable, Hashable {
    public var childSMS: Double
    public var childEmail: Double
    public var resellerSMS: Double
    public var resellerEmail: Double

    /// Creates a snapshot.
    public init(childSMS: Double, childEmail: Double, resellerSMS: Double, resellerEmail: Double) {
        self.childSMS = childSMS
        self.childEmail = childEmail
        self.resellerSMS = resellerSMS
        self.resellerEmail = resellerEmail
    }

    init?(json: JSONValue) {
        guard let child = json["child"], let reseller = json["reseller"] else { return nil }
        self.init(
            childSMS: child["sms"]?.doubleValue ?? 0, childEmail: child["email"]?.doubleValue ?? 0,
            resellerSMS: reseller["sms"]?.doubleValue ?? 0, resellerEmail: reseller["email"]?.doubleValue ?? 0)
    }
}
