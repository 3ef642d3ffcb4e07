/// A Brevo result together with the rate-limit headers that came with it.
///
/// Reseller routes fall under the ~100 requests/hour budget (docs/providers.md §4.4; whether they count against it on
/// our plan is open, §6.3), so every result carries `x-sib-ratelimit-*` for the caller to pace itself.
public struct BrevoResponse<Value: Sendable>: Sendable {
    /// The decoded value.
    public var value: Value
    /// The rate-limit headers, if the response had any.
    public var rateLimit: ProviderRateLimit?

    /// Creates a response.
    public init(value: Value, rateLimit: ProviderRateLimit?) {
        self.value = value
        self.rateLimit = rateLimit
    }
}
