/// Time limits for one provider call.
///
/// docs/providers.md §1 rule 3 suggests connect 5 s and total 15 s for SMS sends, 30 s for Brevo. Both are applied
/// per request by ``ProviderTransport``: `connect` picks the shared ``ProviderHTTPClient``'s `HTTPClient` made with
/// that connect limit (AsyncHTTPClient sets it per `HTTPClient`, not per request), and `total` is a deadline over the
/// whole call, the response body included. A client built over a caller's own `HTTPClient`
/// (``ProviderHTTPClient/init(_:)``) keeps that client's connect limit. Tests shorten both to keep timeout tests fast.
public struct ProviderTimeouts: Sendable, Hashable {
    /// Upper bound for establishing a TCP (and TLS) connection.
    public var connect: Duration
    /// Upper bound for the whole request: connect, sending, waiting for the answer and reading its whole body. A body
    /// that trickles in fails at this limit like an answer that never came (a timeout, the outcome unknown for a call
    /// without a dedupe key).
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
