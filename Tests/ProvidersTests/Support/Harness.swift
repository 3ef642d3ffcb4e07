import AsyncHTTPClient
import Logging
import ProviderFakes
import Providers
import Synchronization

/// Captures every log line (message and metadata) so tests can check that no secret or full number is logged.
final class LogStore: Sendable {
    private let storage = Mutex<[String]>([])

    func append(_ line: String) { storage.withLock { $0.append(line) } }
    var lines: [String] { storage.withLock { $0 } }
    var text: String { lines.joined(separator: "\n") }
}

/// A log handler writing into a ``LogStore``.
struct CapturingLogHandler: LogHandler {
    let store: LogStore
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        let rendered = all.keys.sorted().map { "\($0)=\(all[$0]!)" }.joined(separator: " ")
        store.append("\(event.level) \(event.message) \(rendered)")
    }
}

/// Fakes + one shared HTTPClient + captured logs, for one test.
struct Harness {
    let fakes: RunningFakeProviders
    let http: HTTPClient
    let logs: LogStore
    let options: FakeProvidersOptions

    var control: FakeProviderControl { fakes.control }

    var logger: Logger {
        let store = logs
        return Logger(label: "test") { _ in CapturingLogHandler(store: store) }
    }

    func kavenegar(apiKey: String? = nil, sender: String? = nil, timeouts: ProviderTimeouts = .sms, baseURL: String? = nil)
        -> KavenegarClient
    {
        KavenegarClient(
            configuration: .init(
                baseURL: baseURL ?? fakes.kavenegarBaseURL, apiKey: apiKey ?? options.kavenegarAPIKey, sender: sender,
                timeouts: timeouts),
            httpClient: http, logger: logger)
    }

    func ippanel(apiKey: String? = nil, timeouts: ProviderTimeouts = .sms, baseURL: String? = nil) -> IPPanelClient {
        IPPanelClient(
            configuration: .init(
                baseURL: baseURL ?? fakes.ippanelBaseURL, apiKey: apiKey ?? options.ippanelAPIKey, fromNumber: "+983000505",
                timeouts: timeouts),
            httpClient: http, logger: logger)
    }

    func brevo(apiKey: String? = nil, timeouts: ProviderTimeouts = .brevo, baseURL: String? = nil) -> BrevoClient {
        BrevoClient(
            configuration: .init(baseURL: baseURL ?? fakes.brevoBaseURL, apiKey: apiKey ?? options.brevoAPIKey, timeouts: timeouts),
            httpClient: http, logger: logger)
    }

    /// Short limits for timeout tests: the fake's delay is longer than `total`.
    static let shortTimeouts = ProviderTimeouts(connect: .milliseconds(300), total: .milliseconds(300))
    /// For "the provider acted, then the answer was lost": long enough for the request to reach the fake
    /// on a loaded machine (3 s; 1.5 s left little in the parallel phase), short of the fake's delayed answer
    /// (``actedThenSlow``).
    static let createThenTimeOut = ProviderTimeouts(connect: .seconds(3), total: .seconds(3))
    /// The delay after acting that ``createThenTimeOut`` gives up before. The fakes' teardown waits it out.
    static let actedThenSlow = FakeFault.succeedThenDelay(.seconds(7))
}

/// Runs `body` with fresh fakes and a fresh HTTPClient, and tears both down.
func withHarness(
    options: FakeProvidersOptions = FakeProvidersOptions(), _ body: (Harness) async throws -> Void
) async throws {
    let fakes = try await FakeProviders.start(
        options: options, logger: Logger(label: "fakes") { _ in SwiftLogNoOpLogHandler() })
    let http = ProviderHTTPClient.make(connectTimeout: .seconds(2))
    let harness = Harness(fakes: fakes, http: http, logs: LogStore(), options: options)
    try await tearingDown(fakes, http) { try await body(harness) }
}

/// Runs `body`, then shuts `http` down and stops `fakes`, whether it threw or not.
func tearingDown(_ fakes: RunningFakeProviders, _ http: HTTPClient, _ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch {
        try? await http.shutdown()
        await fakes.stop()
        throw error
    }
    try await http.shutdown()
    await fakes.stop()
}

/// Runs `operation` and returns the ``ProviderError`` it throws; records an issue if it succeeds or throws
/// something else.
func providerError(_ operation: () async throws -> some Any) async -> ProviderError? {
    do {
        _ = try await operation()
        return nil
    } catch let error as ProviderError {
        return error
    } catch {
        return nil
    }
}
