import AsyncHTTPClient
import NIOCore
import Synchronization

/// The `HTTPClient`s all provider clients of a process share, made at the first provider request rather than when
/// the process starts.
///
/// Why lazy: an `HTTPClient` starts NIO's event-loop threads and its connection pool at once, and most workers never
/// call a provider (a deployment without provider keys, or one whose queues hold only engine jobs): at start that
/// cost an idle `hoopoe worker` two threads and the NIO code they run (decision 0035). The clients never create an
/// `HTTPClient` per request: the process creates one `ProviderHTTPClient`, passes it to each client, and calls
/// ``shutdown()`` at exit.
///
/// Why one `HTTPClient` per connect limit: AsyncHTTPClient fixes the connect timeout when an `HTTPClient` is made, not
/// per request, and each provider client has its own (``ProviderTimeouts/connect``). Requests with the same limit
/// share one client and its pool; the defaults (5 s for all three providers) make one. All of them run on NIO's
/// shared event loops, so a second limit costs a pool, not threads.
public final class ProviderHTTPClient: Sendable {
    private enum State {
        /// Open: the clients made so far, by connect limit; a request without a limit of its own uses `defaultConnect`.
        case lazy(defaultConnect: Duration, made: [Duration: HTTPClient])
        /// The caller's own client, whatever connect limit it was made with: the caller shuts it down.
        case given(HTTPClient)
        /// ``shutdown()`` ran; the clients it shut down, if any were made.
        case shutDown([HTTPClient])
    }

    private let state: Mutex<State>

    /// Clients made at the first request, with no automatic redirects (see ``make(connectTimeout:)``):
    /// `connectTimeout` for the requests that do not bring their own. Call ``shutdown()`` when done; it costs nothing
    /// if no request was made.
    public init(connectTimeout: Duration = ProviderTimeouts.sms.connect) {
        state = Mutex(.lazy(defaultConnect: connectTimeout, made: [:]))
    }

    /// Shares a client the caller made and shuts down itself (``shutdown()`` leaves it alone). Its connect limit is
    /// the one it was made with: a request's own is not applied.
    public init(_ client: HTTPClient) {
        state = Mutex(.given(client))
    }

    /// Whether an `HTTPClient` exists yet: false until the first request of a lazy client.
    public var isMade: Bool {
        state.withLock {
            switch $0 {
            case .lazy(_, let made): !made.isEmpty
            case .given: true
            case .shutDown(let made): !made.isEmpty
            }
        }
    }

    /// The `HTTPClient` for a request with this connect limit (nil: the default given at `init`), made now if it is
    /// the first such request.
    /// - Throws: `HTTPClientError.alreadyShutdown` after ``shutdown()`` when no client was ever made (a made one is
    ///   returned and fails its requests the same way).
    func client(connectTimeout: Duration? = nil) throws -> HTTPClient {
        try state.withLock { state throws -> HTTPClient in
            switch state {
            case .lazy(let defaultConnect, var made):
                let limit = connectTimeout ?? defaultConnect
                if let client = made[limit] { return client }
                let client = Self.make(connectTimeout: limit)
                made[limit] = client
                state = .lazy(defaultConnect: defaultConnect, made: made)
                return client
            case .given(let client):
                return client
            case .shutDown(let made):
                guard let client = made.first else { throw HTTPClientError.alreadyShutdown }
                return client
            }
        }
    }

    /// Shuts down the clients this object made; a lazy client never used has nothing to shut down.
    public func shutdown() async throws {
        let made: [HTTPClient] = state.withLock { state in
            switch state {
            case .lazy(_, let made):
                let clients = Array(made.values)
                state = .shutDown(clients)
                return clients
            case .given, .shutDown:
                return []
            }
        }
        var failure: (any Error)?
        for client in made {
            do { try await client.shutdown() } catch { failure = failure ?? error }
        }
        if let failure { throw failure }
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
