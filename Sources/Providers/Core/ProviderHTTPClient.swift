import AsyncHTTPClient
import NIOCore
import Synchronization

/// The one `HTTPClient` all provider clients of a process share, made at the first provider request rather than when
/// the process starts.
///
/// Why lazy: an `HTTPClient` starts NIO's event-loop threads and its connection pool at once, and most workers never
/// call a provider (a deployment without provider keys, or one whose queues hold only engine jobs): at start that
/// cost an idle `hoopoe worker` two threads and the NIO code they run (decision 0035). The clients never create an
/// `HTTPClient` per request: the process creates one `ProviderHTTPClient`, passes it to each client, and calls
/// ``shutdown()`` at exit. The connect timeout is a property of the `HTTPClient`, which is why it is given here rather
/// than per request.
public final class ProviderHTTPClient: Sendable {
    private enum State {
        /// Not made yet: made with this connect timeout at the first request.
        case lazy(connectTimeout: Duration)
        /// Made here (at the first request): ``shutdown()`` shuts it down.
        case made(HTTPClient)
        /// The caller's own client: the caller shuts it down.
        case given(HTTPClient)
        /// ``shutdown()`` ran; the client it shut down, if one was made.
        case shutDown(HTTPClient?)
    }

    private let state: Mutex<State>

    /// A client made at the first request, with the given connect timeout and no automatic redirects (see
    /// ``make(connectTimeout:)``). Call ``shutdown()`` when done; it costs nothing if no request was made.
    public init(connectTimeout: Duration = ProviderTimeouts.sms.connect) {
        state = Mutex(.lazy(connectTimeout: connectTimeout))
    }

    /// Shares a client the caller made and shuts down itself (``shutdown()`` leaves it alone).
    public init(_ client: HTTPClient) {
        state = Mutex(.given(client))
    }

    /// Whether the `HTTPClient` exists yet: false until the first request of a lazy client.
    public var isMade: Bool {
        state.withLock {
            switch $0 {
            case .lazy, .shutDown(nil): false
            case .made, .given, .shutDown(.some): true
            }
        }
    }

    /// The `HTTPClient`, made now if this is the first request.
    /// - Throws: `HTTPClientError.alreadyShutdown` after ``shutdown()`` when no client was ever made (a made one is
    ///   returned and fails its requests the same way).
    func client() throws -> HTTPClient {
        try state.withLock { state throws -> HTTPClient in
            switch state {
            case .lazy(let connectTimeout):
                let client = Self.make(connectTimeout: connectTimeout)
                state = .made(client)
                return client
            case .made(let client), .given(let client), .shutDown(.some(let client)):
                return client
            case .shutDown(nil):
                throw HTTPClientError.alreadyShutdown
            }
        }
    }

    /// Shuts down the client if this object made it; a lazy client never used has nothing to shut down.
    public func shutdown() async throws {
        let made: HTTPClient? = state.withLock { state in
            switch state {
            case .lazy:
                state = .shutDown(nil)
                return nil
            case .made(let client):
                state = .shutDown(client)
                return client
            case .given, .shutDown:
                return nil
            }
        }
        try await made?.shutdown()
    }

    /// Creates an `HTTPClient` with the given connect timeout and no automatic redirects, now.
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
