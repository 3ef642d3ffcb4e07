import HoopoeJSON
/// `account/info`: the account's remaining credit, for low-credit alerts before sends start failing with `418`.
public struct KavenegarAccountInfo: Sendable, Hashable {
    /// `remaincredit`, in Rial.
    public var remainingCredit: Int64
    /// `expiredate` (Unix seconds): a security expiry for sub-customer management, not an account expiry.
    public var expireDate: Int64?
    /// `type`: `master` or `child`.
    public var type: String?

    /// Creates an account snapshot.
    public init(remainingCredit: Int64, expireDate: Int64?, type: String?) {
        self.remainingCredit = remainingCredit
        self.expireDate = expireDate
        self.type = type
    }

    /// Decodes the `entries` object (or the first element if it arrives as an array).
    init?(json: JSONValue) {
        let object = json.arrayValue?.first ?? json
        guard let credit = object["remaincredit"]?.int64Value else { return nil }
        self.init(remainingCredit: credit, expireDate: object["expiredate"]?.int64Value, type: object["type"]?.stringValue)
    }
}
