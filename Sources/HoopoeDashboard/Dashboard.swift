import Foundation
import HoopoeCore
import HoopoeScheduler
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import Redis

/// The web dashboard (`hoopoe dashboard`): server-rendered pages over what the engine records in Redis.
///
/// Every read goes through a store (``JobQueue`` and its `JobStore`, ``RedisLastTickStore``); no key is built here.
/// Every list reads one page (a bounded `ZRANGE`, `XPENDING` or filter scan), so a page costs the same on a large
/// backlog. Every payload shown passes ``PayloadRedaction`` (secret keys removed, phones masked) and every text is
/// escaped by ``HTML``. Actions are POST forms with a ``CSRFToken``; `--read-only` hides and refuses them.
public final class Dashboard: Sendable {
    let jobs: JobQueue
    let lastTicks: RedisLastTickStore
    let configuration: DashboardConfiguration
    let csrf: CSRFToken
    let logger: Logger
    /// The dead page's retry-all and delete-all runs, in the background of this process.
    let bulkRuns = DeadBulkRuns()
    let clearRuns = QueueClearRuns()

    /// - Parameters:
    ///   - jobs: the engine.
    ///   - redis: the client the scheduler's last-tick store reads with.
    ///   - configuration: what to show and allow.
    ///   - csrf: the forms' token (a fresh random one by default).
    ///   - logger: where failed reads are logged.
    public init(
        jobs: JobQueue, redis: RedisClient, configuration: DashboardConfiguration, csrf: CSRFToken = CSRFToken(),
        logger: Logger = Logger(label: "hoopoe.dashboard")
    ) {
        self.jobs = jobs
        lastTicks = RedisLastTickStore(redis: redis, prefix: jobs.namespace)
        self.configuration = configuration
        self.csrf = csrf
        self.logger = logger
    }

    /// The routes, behind ``DashboardGuard``.
    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: DashboardGuard(auth: configuration.password.map(BasicAuth.init), readOnly: configuration.readOnly))
        // Behind a proxy on a sub-path every route answers under it (`/hoopoe/dead`); at the root, as it is.
        let routes = router.group(RouterPath(configuration.basePath.value))
        routes.get("/") { request, _ in await self.page(request) { try await self.overview($0) } }
        routes.get("/queues") { request, _ in await self.page(request) { try await self.queuesPage($0) } }
        routes.get("/busy") { request, _ in await self.page(request) { try await self.busyPage($0) } }
        routes.get("/scheduled") { request, _ in await self.page(request) { try await self.scheduledPage($0) } }
        routes.get("/dead") { request, _ in await self.page(request) { try await self.deadPage($0) } }
        routes.get("/dead/progress") { request, _ in await self.page(request) { try await self.deadProgressPage($0) } }
        routes.get("/job") { request, _ in await self.page(request) { try await self.jobPage($0) } }
        routes.get("/search") { request, _ in await self.page(request) { try await self.searchPage($0) } }
        routes.get("/periodic") { request, _ in await self.page(request) { try await self.periodicPage($0) } }
        routes.get("/providers") { request, _ in await self.page(request) { try await self.providersPage($0) } }
        routes.get("/queues/clear") { request, _ in await self.page(request) { try await self.queueClearPage($0) } }
        routes.get("/queues/clear/progress") { request, _ in await self.page(request) { try await self.queueClearProgressPage($0) } }
        routes.get("/assets/{name}") { _, context in Assets.response(context.parameters.get("name") ?? "") ?? Page.plain(.notFound, "not found\n") }
        routes.get("/favicon.ico") { _, _ in Assets.response("icon.svg")! }
        routes.post("/dead/action") { request, _ in await self.action(request) { try await self.deadAction($0) } }
        routes.post("/scheduled/delete") { request, _ in await self.action(request) { try await self.scheduledDelete($0) } }
        routes.post("/scheduled/run-now") { request, _ in await self.action(request) { try await self.scheduledRunNow($0) } }
        routes.post("/job/cancel") { request, _ in await self.action(request) { try await self.jobCancel($0) } }
        routes.post("/periodic/enqueue") { request, _ in await self.action(request) { try await self.periodicEnqueue($0) } }
        routes.post("/queues/pause") { request, _ in await self.action(request) { try await self.pauseAction($0, pause: true) } }
        routes.post("/queues/resume") { request, _ in await self.action(request) { try await self.pauseAction($0, pause: false) } }
        routes.post("/queues/clear") { request, _ in await self.action(request) { try await self.queueClearAction($0) } }
        return router
    }

    /// The server: `host:port` (port 0 picks a free one), `onRunning` told the bound port once it listens.
    ///
    /// A connection that sends no complete request for 30 s is closed (`requestLimit`: a whole request must arrive
    /// within it, ``RequestDeadline``; the idle timeout alone restarted at every byte), and at most 256 are served at
    /// once: a client that held half-sent requests open took one file descriptor each, for ever, until the process
    /// could open no Redis connection (the metrics endpoint's lesson, `PrometheusEndpoint`). A browser keeps about six.
    public func application(
        host: String, port: Int, requestLimit: Duration = .seconds(30), onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let limit = TimeAmount.nanoseconds(Int64(requestLimit.components.seconds) * 1_000_000_000 + requestLimit.components.attoseconds / 1_000_000_000)
        return Application(
            router: router(),
            server: .http1(configuration: .init(additionalChannelHandlers: [RequestDeadline(limit: limit)], idleTimeout: .seconds(30))),
            configuration: .init(address: .hostname(host, port: port), serverName: nil, availableConnectionsDelegate: MaximumAvailableConnections(256)),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) }, logger: logger)
    }

    /// Renders a page from the request's query; a Redis failure is a 503 page that says so (details in the log).
    private func page(_ request: Request, _ render: (FormFields) async throws -> Page) async -> Response {
        let query = FormFields(request.uri.query)
        do {
            var page = try await render(query)
            // Only a notice this dashboard's action sealed (CSRFToken.seal): never words a link chose.
            page.notice = query["notice"].flatMap { csrf.opens($0, seal: query["notice_seal"]) ? $0 : nil }
            page.readOnly = configuration.readOnly
            return Page.html(configuration.basePath.prefixing(page.html), status: .ok)
        } catch {
            logger.error("dashboard page \(request.uri.path) failed: \(error)")
            // A command the ACL lacks is said as such (docs/operating.md), never as "did not answer"; so is any other
            // refusal of a read (a key of another type a page reads whole: QueueReads names it in its row elsewhere).
            let refusal = (error as? RedisError).flatMap { $0.refusesQueueRead ? $0.operatorLine : nil }
            let body: HTML = refusal.map { (line: String) -> HTML in "<p>Redis refused one of this page's reads: \(line)</p>" }
                ?? "<p>Redis did not answer this page's reads. The dashboard's log has the error; reload to try again.</p>"
            let page = Page(title: "Unavailable", path: request.uri.path, readOnly: configuration.readOnly, body: body)
            return Page.html(configuration.basePath.prefixing(page.html), status: .serviceUnavailable)
        }
    }

    /// Runs an action: the body's CSRF token first (403, nothing done, when it is missing or wrong).
    private func action(_ request: Request, _ perform: (FormFields) async throws -> Response) async -> Response {
        var request = request
        guard let buffer = try? await request.collectBody(upTo: 1 << 20) else { return Page.plain(.contentTooLarge, "form too large\n") }
        let form = FormFields(String(buffer: buffer))
        guard csrf.accepts(form["csrf"]) else {
            return Page.plain(.forbidden, "Refused: the form's CSRF token is missing or stale. Reload the page and try again.\n")
        }
        do {
            var response = try await perform(form)
            // Redirects name root paths (`/dead?…`): under a base path they carry it too.
            if var location = response.headers[.location] {
                if let query = location.firstIndex(of: "?").map({ String(location[location.index(after: $0)...]) }),
                    let notice = FormFields(query)["notice"]
                {
                    location += "&notice_seal=" + csrf.seal(notice)
                }
                response.headers[.location] = configuration.basePath.link(location)
            }
            return response
        } catch {
            logger.error("dashboard action \(request.uri.path) failed: \(error)")
            return Page.plain(.serviceUnavailable, Self.actionFailure(error) + "\n")
        }
    }

    /// What an operator is told of an action that threw. A write sent whose answer never came (a timeout, a dropped
    /// connection, replicas that did not acknowledge it) may have been done: "failed" invited a second click, and an
    /// "Enqueue now" ran its task twice (`hoopoe enqueue` says the same, exit 4). A refusal names its cause.
    static func actionFailure(_ error: any Error) -> String {
        guard let error = error as? RedisError else { return "The action failed. The dashboard's log has the error." }
        if error.outcomeUnknown {
            return "The action may have been done: Redis \(error.endpoint) gave no answer in time (\(error.message)). Look before doing it again."
        }
        return "The action failed: \(error.operatorLine)"
    }

    /// An envelope as it may be shown: the redaction rule `hoopoe job show` applies.
    func shown(_ envelope: JobEnvelope) -> JobEnvelope { configuration.redaction.redacted(envelope) }

    /// Known queues, sorted. A scan of the keyspace is reused for 30 s, not made for every page (``JobQueue/knownQueues(rescan:)``).
    func queueNames() async throws -> [String] { try await jobs.knownQueues(rescan: false) }

    /// A form that posts `fields` to `action` with the CSRF token; nothing when read-only.
    func button(_ label: String, action: String, fields: [(String, String)], danger: Bool = false, confirm: String? = nil) -> HTML {
        guard !configuration.readOnly else { return .empty }
        let style: HTML = danger ? " class=\"danger\"" : .empty
        let hidden = fields.map { name, value -> HTML in "<input type=\"hidden\" name=\"\(name)\" value=\"\(value)\">" }
        let confirmation: HTML = confirm.map { " data-confirm=\"\($0)\"" } ?? .empty
        return """
            <form class="inline" method="post" action="\(action)">\(csrf.field)\(hidden)<button\(style)\(confirmation)>\(label)</button></form>
            """
    }
}
