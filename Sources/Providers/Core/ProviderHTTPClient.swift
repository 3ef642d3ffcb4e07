import AsyncHTTPClient
import NIOCore

/// Builds the one `HTTPClient` that all provider clients of a process should share.
///
/// The clients never create an `HTTPClient` per request: the caller creates one (and shuts it down), passes it to
/// each client, and only falls back to `HTTPClient.shared` by default. The connect timeout is a property of the
/// `HTTPClient`, which is why it is applied here rather than per request.
public enum ProviderHTTPClient {
    /// Creates an `HTTPClient` with the given connect timeout and no automatic redirects.
    ///
    /// Redirects are disabled because a redirect of a POST could resend a non-idempotent request to a host we did
    /// not configure. The caller owns the client and must call `shutdown()` on it.
    public static func make(connectTimeout: Duration = ProviderTimeouts.sms.connect) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: TimeAmount(connectTimeout))
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }
}

extension TimeAmount {
    /// Converts a Swift `Duration` to NIO's nanosecond `TimeAmount`.
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
