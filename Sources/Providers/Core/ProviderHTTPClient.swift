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
///
/// Why the pool is sized to the process's concurrency: AsyncHTTPClient keeps at most
/// `connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit` HTTP/1 connections to one host (8 by default), and a
/// request that finds them all busy waits in the pool's queue. In the version pinned (1.37) that wait runs against
/// the connect limit: the request's connection deadline is set when it is queued, and if it passes while the host's
/// connections are busy the request fails with `getConnectionFromPoolTimeout`. A worker at `--concurrency 20` calling
/// a provider that answered in 0.2-1 s lost attempts to it by the thousand, for requests that never left the process.
/// The worker passes its `--concurrency` (``init(connectTimeout:concurrentRequests:)``): each handler has a connection
/// to each host, so none waits behind another's; a wait that still outlasts the connect limit is waited on, within the
/// call's total limit, by ``ProviderTransport``.
public final class ProviderHTTPClient: Sendable {
    /// AsyncHTTPClient's own per-host connection limit, the least any of our clients gets: enough for the processes
    /// that make a call or two at once (the admin commands).
    public static let defaultConnectionsPerHost = 8
    private enum State {
        /// Open: the clients made so far, by connect limit; a request without a limit of its own uses `defaultConnect`.
        case lazy(defaultConnect: Duration, made: [Duration: HTTPClient])
        /// The caller's own client, whatever connect limit it was made with: the caller shuts it down.
        case given(HTTPClient)
        /// ``shutdown()`` ran; the clients it shut down, if any were made.
        case shutDown([HTTPClient])
    }

    private let state: Mutex<State>
    /// The per-host connection limit of the clients this object makes.
    let connectionsPerHost: Int

    /// Clients made at the first request, with no automatic redirects (see ``make(connectTimeout:connectionsPerHost:)``).
    /// Call ``shutdown()`` when done; it costs nothing if no request was made.
    /// - Parameters:
    ///   - connectTimeout: for the requests that do not bring their own.
    ///   - concurrentRequests: how many provider calls the process may make at once (the worker's `--concurrency`:
    ///     each handler makes one at a time); each host gets that many connections, at least
    ///     ``defaultConnectionsPerHost``.
    public init(connectTimeout: Duration = ProviderTimeouts.sms.connect, concurrentRequests: Int = defaultConnectionsPerHost) {
        state = Mutex(.lazy(defaultConnect: connectTimeout, made: [:]))
        connectionsPerHost = max(concurrentRequests, Self.defaultConnectionsPerHost)
    }

    /// Shares a client the caller made and shuts down itself (``shutdown()`` leaves it alone). Its connect limit is
    /// the one it was made with: a request's own is not applied.
    public init(_ client: HTTPClient) {
        state = Mutex(.given(client))
        connectionsPerHost = Self.defaultConnectionsPerHost  // unknown: the caller configured its client
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
                let client = Self.make(connectTimeout: limit, connectionsPerHost: connectionsPerHost)
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

    /// The connect limit of the client a request with this limit (nil: the default) gets, which also bounds each
    /// of its waits for a pooled connection; nil for a caller's own client, whose limit is not known here.
    func connectLimit(_ connectTimeout: Duration?) -> Duration? {
        state.withLock {
            switch $0 {
            case .lazy(let defaultConnect, _): connectTimeout ?? defaultConnect
            case .given, .shutDown: nil
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

    /// Creates an `HTTPClient` with the given connect timeout, per-host connection limit and no automatic redirects,
    /// now.
    ///
    /// Redirects are disabled because a redirect of a POST could resend a non-idempotent request to a host we did
    /// not configure. The caller owns the client and must call `shutdown()` on it.
    /// - Parameters:
    ///   - connectTimeout: the limit for making a connection, and for each wait for a pooled one.
    ///   - connectionsPerHost: HTTP/1 connections kept to one host; at least ``defaultConnectionsPerHost``. Give the
    ///     number of calls the process makes at once (see the type's comment).
    public static func make(
        connectTimeout: Duration = ProviderTimeouts.sms.connect, connectionsPerHost: Int = defaultConnectionsPerHost
    ) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: TimeAmount(connectTimeout))
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = max(connectionsPerHost, defaultConnectionsPerHost)
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
