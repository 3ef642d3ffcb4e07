import AsyncHTTPClient
import Foundation
import HoopoeCore
import HoopoeJSON
import HoopoeJobs
import Logging
import ProviderFakes
import Providers
import Redis
import TestSupport

/// One end-to-end rig for the domain jobs: the test Redis in a namespace of its own, the local fake providers,
/// and real `hoopoe worker` / `hoopoe scheduler` processes pointed at both, with a domain clock the test moves
/// (`HOOPOE_CLOCK_KEY`).
///
/// Also builds ``DomainServices`` in this process, against the same Redis and fakes, for tests that call a handler
/// directly.
final class DomainHarness: Sendable {
    let space: TestNamespace
    let fakes: RunningFakeProviders
    let httpClient: HTTPClient
    /// Extra environment for the processes (and ``services``), on top of ``baseEnvironment``.
    let environment: [String: String]

    var redis: RedisClient { space.redis }
    var jobs: JobQueue { space.jobs }
    var namespace: String { space.namespace }
    var control: FakeProviderControl { fakes.control }
    /// The Redis key holding the domain clock's "now".
    var clockKey: String { "\(namespace):test:clock" }

    /// Kavenegar templates the fake panel knows: every one the shipped jobs/sms_templates.yaml names (read from the
    /// file, so a template added there is defined in the fake too), and `verify`, the panel's stock OTP template.
    /// A file that does not load leaves only `verify`: SMSTemplatesTests then says why, and every send here fails.
    static let templates: Set<String> = {
        let path = BuiltProducts.projectRoot.appendingPathComponent("jobs/sms_templates.yaml").path
        let shipped = (try? SMSTemplates.load(path: path))?.templates.values.map(\.kavenegar) ?? []
        return Set(shipped).union(["verify"])
    }()

    /// - Parameters:
    ///   - environment: variables for this test (they win over the defaults).
    ///   - fakeOptions: the fake accounts.
    init(_ name: String = #function, environment: [String: String] = [:],
         fakeOptions: FakeProvidersOptions = FakeProvidersOptions(kavenegarTemplates: DomainHarness.templates)) async throws {
        space = try TestNamespace(name, poolSize: 1)
        fakes = try await FakeProviders.start(options: fakeOptions)
        httpClient = ProviderHTTPClient.make()
        self.environment = environment
    }

    /// The environment every process gets: Redis, namespace, provider keys and fake URLs, the test clock.
    var baseEnvironment: [String: String] {
        get throws {
            [
                "REDIS_URL": try TestRedis.url(), "HOOPOE_NAMESPACE": namespace, "LOG_LEVEL": "warning",
                "HOOPOE_CLOCK_KEY": clockKey,
                "KAVENEGAR_API_KEY": "fake-kavenegar-key", "KAVENEGAR_BASE_URL": fakes.kavenegarBaseURL,
                "IPPANEL_API_KEY": "fake-ippanel-key", "IPPANEL_BASE_URL": fakes.ippanelBaseURL,
                "IPPANEL_FROM_NUMBER": "+983000505",
                "BREVO_API_KEY": "xkeysib-fake-reseller-key", "BREVO_BASE_URL": fakes.brevoBaseURL,
                "RECEIPT_BASE_URL": "https://kamva.ir/email/receipt",
                "SMS_TEMPLATES_FILE": BuiltProducts.projectRoot.appendingPathComponent("jobs/sms_templates.yaml").path,
            ].merging(environment) { $1 }
        }
    }

    /// Domain services in this process, configured exactly as the worker processes are.
    func services() throws -> DomainServices {
        let settings = try DomainSettings(environment: EnvironmentReader(try baseEnvironment))
        return DomainJobs.services(settings: settings, jobs: jobs, httpClient: ProviderHTTPClient(httpClient), logger: Logger(label: "test.providers"))
    }

    /// A context for calling a handler directly.
    func context(type: String, attempt: Int = 1, maxAttempts: Int = 25, id: String = UUID().uuidString) -> JobContext {
        JobContext(id: id, type: type, attempt: attempt, maxAttempts: maxAttempts, logger: Logger(label: "test.job"), jobs: jobs)
    }

    /// Runs `handler` on `payload` in this process, as one run of job `id` at `attempt`, and returns the failure it
    /// ended with (nil when it succeeded); any other error is thrown.
    func failure<Handler: JobHandler>(
        of handler: Handler, _ payload: Handler.Payload, id: String = UUID().uuidString, attempt: Int = 1, maxAttempts: Int = 25
    ) async throws -> JobFailure? {
        do {
            try await handler.run(payload, context: context(type: Handler.type, attempt: attempt, maxAttempts: maxAttempts, id: id))
        } catch let failure as JobFailure {
            return failure
        }
        return nil
    }

    /// Sets the domain clock.
    func setClock(_ date: Date) async throws {
        try await redis.send("SET", clockKey, String(format: "%.3f", date.timeIntervalSince1970))
    }

    /// Starts `hoopoe worker` and waits for its heartbeat.
    func startWorker(_ arguments: [String] = ["--concurrency", "10"], environment extra: [String: String] = [:]) async throws -> ChildProcess {
        let process = try ChildProcess(BuiltProducts.hoopoe, ["worker"] + arguments, environment: try baseEnvironment.merging(extra) { $1 })
        let deadline = ContinuousClock.now + outcomeDeadline
        while ContinuousClock.now < deadline {
            if try await jobs.liveProcesses().contains(where: { $0.kind == "worker" && $0.fields["pid"] == String(process.pid) }) { return process }
            if let status = process.poll() { throw TestSupportError("the worker exited with \(status): \(process.output)") }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestSupportError("the worker did not beat within \(outcomeDeadline): \(process.output)")
    }

    /// Starts `hoopoe scheduler` with a schedule file written from `yaml`.
    func startScheduler(schedule yaml: String, arguments: [String] = []) throws -> ChildProcess {
        let path = try TemporaryFiles.write(yaml, prefix: "hoopoe-schedule-", suffix: ".yaml")
        return try ChildProcess(BuiltProducts.hoopoe, ["scheduler", "--schedule", path] + arguments, environment: try baseEnvironment)
    }

    /// Enqueues a job of `type` with a JSON payload.
    @discardableResult
    func enqueue(_ type: String, _ payload: JSONValue, options: EnqueueOptions = EnqueueOptions()) async throws -> EnqueueResult {
        try await jobs.enqueue(type: type, payload: payload, options: options)
    }

    /// Every event in the stream, oldest first (optionally of one type).
    func events(_ type: String? = nil) async throws -> [Event] {
        let reply = try await redis.send("XRANGE", "\(namespace):events", "-", "+")
        let all = (reply.array ?? []).compactMap(Event.init(entry:))
        return type.map { t in all.filter { $0.type == t } } ?? all
    }

    /// Waits until at least `count` events of `type` are in the stream; returns them.
    func waitForEvents(_ type: String, count: Int = 1, timeout: Duration = .seconds(20)) async throws -> [Event] {
        var found: [Event] = []
        let done = try await eventually(timeout: timeout) {
            found = try await events(type)
            return found.count >= count
        }
        guard done else {
            let all = try await events().map { "\($0.type) \(String(decoding: $0.data.encoded(), as: UTF8.self))" }
            throw TestSupportError("expected \(count) \(type) event(s), saw \(found.count); all events: \(all)")
        }
        return found
    }

    /// Waits until the queue has no ready, running or scheduled-before-`horizon` jobs.
    func waitUntilIdle(queue: String = "default", timeout: Duration = .seconds(20)) async throws {
        let idle = try await eventually(timeout: timeout) {
            let info = try await jobs.info(queue: queue)
            return info.ready == 0 && info.inFlight == 0
        }
        guard idle else { throw TestSupportError("queue \(queue) did not drain within \(timeout)") }
    }

    /// The dead jobs of a queue.
    func dead(queue: String = "default") async throws -> [JobEnvelope] {
        try await jobs.deadJobs(queue: queue)
    }

    deinit {
        let fakes = fakes
        let httpClient = httpClient
        Task {
            await fakes.stop()
            try? await httpClient.shutdown()
        }
    }
}

/// One entry of the events stream.
struct Event: Sendable {
    let id: String
    let type: String
    let data: JSONValue
    let at: Double

    init?(entry: RedisReply) {
        guard let parts = entry.array, parts.count == 2, let id = parts[0].string, let fields = parts[1].array else { return nil }
        var map: [String: String] = [:]
        var index = 0
        while index + 1 < fields.count {
            if let key = fields[index].string { map[key] = fields[index + 1].string }
            index += 2
        }
        guard let type = map["type"], let json = map["data"], let data = JSONValue.parse(Array(json.utf8)) else { return nil }
        self.id = id
        self.type = type
        self.data = data
        self.at = Double(map["at"] ?? "") ?? 0
    }
}

extension JobFailure {
    /// Seconds from now to the retry this failure asks for; nil for any other verdict, or a retry at no given time.
    var retryDelay: Double? {
        if case .retry(let at?) = disposition { return at - Date().timeIntervalSince1970 }
        return nil
    }
}
