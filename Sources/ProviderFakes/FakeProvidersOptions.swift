/// The accounts the fakes start with.
public struct FakeProvidersOptions: Sendable {
    /// The Kavenegar key expected in the URL path.
    public var kavenegarAPIKey: String
    /// Templates defined (and approved) in the fake Kavenegar panel; others give `424`.
    public var kavenegarTemplates: Set<String>
    /// Kavenegar credit in Rial; each message costs 120.
    public var kavenegarCredit: Int64
    /// The IPPanel key expected raw in `Authorization`.
    public var ippanelAPIKey: String
    /// The Brevo reseller key expected in `api-key`.
    public var brevoAPIKey: String

    /// Creates options; the defaults are the keys `hoopoe dev fake-providers` prints.
    public init(
        kavenegarAPIKey: String = "fake-kavenegar-key",
        kavenegarTemplates: Set<String> = ["verify"],
        kavenegarCredit: Int64 = 1_500_000,
        ippanelAPIKey: String = "fake-ippanel-key",
        brevoAPIKey: String = "xkeysib-fake-reseller-key"
    ) {
        self.kavenegarAPIKey = kavenegarAPIKey
        self.kavenegarTemplates = kavenegarTemplates
        self.kavenegarCredit = kavenegarCredit
        self.ippanelAPIKey = ippanelAPIKey
        self.brevoAPIKey = brevoAPIKey
    }
}
