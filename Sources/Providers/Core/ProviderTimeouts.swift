/// Time limits for one provider call.
///
/// docs/providers.md §1 rule 3 suggests connect 5 s and total 15 s for SMS sends, 30 s for Brevo. The total limit is
/// enforced per request (as an AsyncHTTPClient deadline); the connect limit belongs to the `HTTPClient` the caller
/// shares between clients, so build that client with ``ProviderHTTPClient/init(connectTimeout:)`` to apply it.
/// Tests shorten both to keep timeout tests fast.
public struct ProviderTimeouts: Sendable, Hashable {
    /// Upper bound for establishing a TCP (and TLS) connection.
    public var connect: Duration
    /// Upper bound for the whole request, connect included.
    public var total: Duration

    /// Creates a pair of limits.
    public init(connect: Duration, total: Duration) {
        self.connect = connect
        self.total = total
    }

    /// Connect 5 s, total 15 s: the SMS providers' suggested limits.
    public static let sms = ProviderTimeouts(connect: .seconds(5), total: .seconds(15))
    /// Connect 5 s, total 30 s: Brevo's suggested limits.
    public static let brevo = ProviderTimeouts(connect: .seconds(5), total: .seconds(30))
}
