import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

/// Local fake servers for Kavenegar, IPPanel and Brevo, on one Hummingbird server.
///
/// They speak the documented wire contracts (envelopes, error codes, delivery lifecycle) so tests — and
/// `hoopoe dev fake-providers` — exercise the real HTTP path of the clients. Each provider lives under its own path
/// prefix; point a client's `baseURL` at the matching ``RunningFakeProviders`` URL.
///
/// The server runs in a `ServiceGroup` and stops by graceful shutdown, never by cancelling its task: cancelling made
/// Hummingbird log `error … Waiting on child channel: CancellationError()` on every normal stop.
public enum FakeProviders {
    /// Starts the fakes and returns once the server is listening.
    /// - Parameters:
    ///   - host: address to bind; loopback by default.
    ///   - port: port to bind; 0 picks a free one (read it from the handle).
    ///   - options: keys, templates and credit the fake accounts start with.
    ///   - controlAPI: also serve the HTTP control API (``FakeControlAPI``) under `/_control`, to loopback callers.
    ///   - shutdownSignals: signals that stop the server gracefully (the CLI passes SIGTERM and SIGINT).
    ///   - logger: the server's logger.
    public static func start(
        host: String = "127.0.0.1",
        port: Int = 0,
        options: FakeProvidersOptions = FakeProvidersOptions(),
        controlAPI: Bool = false,
        shutdownSignals: [UnixSignal] = [],
        logger: Logger = Logger(label: "hoopoe.fake-providers")
    ) async throws -> RunningFakeProviders {
        let control = FakeProviderControl(options: options)
        let (events, continuation) = AsyncStream.makeStream(of: Result<Int, any Error>.self)
        let app = Application(
            responder: FakeResponder(control: control, controlAPI: controlAPI ? FakeControlAPI(control: control) : nil),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in
                continuation.yield(.success(channel.localAddress?.port ?? port))
            },
            logger: logger
        )
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: shutdownSignals, logger: logger))
        let task = Task {
            do {
                try await group.run()
                continuation.yield(.failure(CancellationError()))
            } catch {
                continuation.yield(.failure(error))
            }
            continuation.finish()
        }
        for await event in events {
            let boundPort = try event.get()
            return RunningFakeProviders(host: host, port: boundPort, control: control, group: group, task: task)
        }
        throw CancellationError()
    }
}

/// A running set of fakes: base URLs for the clients, the control handle, and a way to stop.
public final class RunningFakeProviders: Sendable {
    /// The bound host.
    public let host: String
    /// The bound port.
    public let port: Int
    /// Programs the fakes and reads the recorded requests.
    public let control: FakeProviderControl
    private let group: ServiceGroup
    private let task: Task<Void, Never>

    init(host: String, port: Int, control: FakeProviderControl, group: ServiceGroup, task: Task<Void, Never>) {
        self.host = host
        self.port = port
        self.control = control
        self.group = group
        self.task = task
    }

    /// `http://host:port`.
    public var rootURL: String { "http://\(host):\(port)" }
    /// Base URL for `KavenegarClient.Configuration.baseURL` (stands for `https://api.kavenegar.com/v1`).
    public var kavenegarBaseURL: String { rootURL + FakeEndpoint.kavenegarPrefix }
    /// Base URL for `IPPanelClient.Configuration.baseURL` (stands for `https://edge.ippanel.com/v1`).
    public var ippanelBaseURL: String { rootURL + FakeEndpoint.ippanelPrefix }
    /// Base URL for `BrevoClient.Configuration.baseURL` (stands for `https://api.brevo.com/v3`).
    public var brevoBaseURL: String { rootURL + FakeEndpoint.brevoPrefix }
    /// Root of the HTTP control API (served only when started with `controlAPI: true`).
    public var controlURL: String { rootURL + FakeControlAPI.prefix }

    /// Stops the server gracefully (open connections are closed once idle) and waits for it to finish.
    public func stop() async {
        await group.triggerGracefulShutdown()
        await task.value
    }

    /// Waits until the server stops (for the CLI: run until a shutdown signal).
    public func wait() async {
        await task.value
    }
}
