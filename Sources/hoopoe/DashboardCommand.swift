import ArgumentParser
import Foundation
import HoopoeCore
import HoopoeDashboard
import HoopoeScheduler
import Logging
import Redis
import ServiceLifecycle
import UnixSignals

/// `hoopoe dashboard`: the web dashboard, thin — options in, the ``Dashboard`` out.
struct DashboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard",
        abstract: "Serve the web dashboard: queues, busy workers, scheduled, retries, dead jobs, periodic tasks.",
        discussion: """
            Pages: overview, queues, busy, scheduled & retries, dead (filter; retry or delete one, the selected, or \
            all matching), job (by id), periodic tasks (enqueue now), search (recent jobs by id, type or payload \
            field), providers (SMS credit, alerts, delivery states). Secret payload fields are never shown and phone \
            numbers are masked, as in `hoopoe job show`.

            Security: it listens on 127.0.0.1 unless --bind says otherwise. HOOPOE_DASHBOARD_PASSWORD, when set, \
            turns on HTTP basic auth for every page (any user name). Every action is a POST form carrying a token; a \
            POST without it is refused (403). --read-only hides and refuses every action. Basic auth is plain text on \
            the wire: beyond loopback, serve it behind a TLS proxy (docs/operating.md, "Dashboard").

            Behind a proxy on a sub-path: --base-path /hoopoe (or HOOPOE_DASHBOARD_BASE_PATH) serves every page \
            under /hoopoe/ and puts the prefix on every link, form, asset and redirect. The proxy forwards the path \
            as it came, prefix included (nginx: location /hoopoe/ { proxy_pass http://127.0.0.1:9460; }). A prefix \
            that is not a plain path (letters, digits, - . _ ~ between slashes) stops start-up with exit 78.

            Prints "dashboard: http://HOST:PORT/" (with the base path) once it listens (--port 0 picks a free \
            port). SIGTERM/SIGINT stop it.
            """
    )

    @OptionGroup var options: GlobalOptions

    @Option(help: "Port to listen on (0 picks a free one).")
    var port: Int = 9460

    @Option(help: "Address to listen on. Anything but loopback (127.0.0.1, ::1, localhost) needs HOOPOE_DASHBOARD_PASSWORD (set and not empty), or start-up stops with exit 78; use a TLS proxy.")
    var bind: String = "127.0.0.1"

    @Flag(help: "Show, never change: every action is hidden and refused.")
    var readOnly = false

    @Option(help: "Path prefix behind a reverse proxy, e.g. /hoopoe (default: HOOPOE_DASHBOARD_BASE_PATH, else none).")
    var basePath: String?

    @Option(help: "The schedule file the periodic tasks page shows (default \(ScheduleFile.defaultPath), when it exists).")
    var schedule: String?

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535 (got \(port))") }
    }

    func run() async throws {
        try LogSetup.bootstrap()
        let logger = LogSetup.logger("hoopoe.dashboard")
        let prefixText = basePath ?? Environment.value("HOOPOE_DASHBOARD_BASE_PATH") ?? ""
        guard let prefix = BasePath(prefixText) else {
            let key = basePath == nil ? "HOOPOE_DASHBOARD_BASE_PATH" : "--base-path"
            printError("dashboard: \(key) \"\(prefixText)\" is not a plain path prefix (letters, digits, - . _ ~ between slashes, e.g. /hoopoe)")
            throw ExitCode(78)
        }
        let source: ScheduleSource
        let schedulePath = schedule ?? ScheduleFile.defaultPath
        do {
            let file = try ScheduleFile.load(contentsOf: URL(fileURLWithPath: schedulePath))
            source = .file(path: schedulePath, tasks: file.tasks)
        } catch {
            // The default path may well be absent (no periodic tasks); a path given that is not there is a typo to show,
            // not "no schedule file given".
            source = FileManager.default.fileExists(atPath: schedulePath) || schedule != nil
                ? .unreadable(path: schedulePath, error: "\(error)") : .none
        }
        let redis = try options.makeRedisClient()
        defer { redis.close() }
        let jobs = JobQueue(redis: redis, namespace: options.namespace, keepsHistory: HistorySettings.keepsHistory)
        let password = Environment.value("HOOPOE_DASHBOARD_PASSWORD")
        if let problem = Self.passwordProblem(password: password, bind: bind) {
            printError("bad configuration: \(problem)")
            throw ExitCode(78)
        }
        if (password ?? "").isEmpty && !prefix.value.isEmpty {
            logger.warning(
                "\(basePath == nil ? "HOOPOE_DASHBOARD_BASE_PATH" : "--base-path") without HOOPOE_DASHBOARD_PASSWORD: a sub-path means a proxy in front, and behind one the Host check cannot tell who asked (requests a proxy marks with Forwarded / X-Forwarded-* are refused; one that adds none is not); set the password")
        }
        let registry = JobCatalog.inspectionRegistry(jobs: jobs)
        let dashboard = Dashboard(
            jobs: jobs, redis: redis,
            configuration: DashboardConfiguration(
                readOnly: readOnly, password: password, redaction: PayloadRedaction(registry: registry), schedule: source, basePath: prefix,
                jobTypes: registry.types),
            logger: logger)
        let host = bind
        let application = dashboard.application(host: host, port: port) { bound in
            let shownHost = host.contains(":") ? "[\(host)]" : host
            // Unbuffered, so a script reading the first line (make run, the browser test) gets it at once.
            FileHandle.standardOutput.write(Data("dashboard: http://\(shownHost):\(bound)\(prefix.value)/\n".utf8))
            logger.info(
                "dashboard on \(shownHost):\(bound)\(prefix.value)/\(password?.isEmpty == false ? ", basic auth on" : ", no password")\(readOnly ? ", read-only" : "")")
        }
        let group = ServiceGroup(configuration: .init(services: [application], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            // A port already taken, an address this host does not have: one line that says which, exit 1.
            printError("dashboard: cannot serve on \(host):\(port): \(error)")
            throw ExitCode(1)
        }
    }

    /// Why the dashboard must not start with this password and address, if it must not. It fails closed: on an
    /// address other than loopback without a password (unset, or set to nothing, which every setting reads as unset),
    /// anyone who reaches the port would read the action token from a page and retry or delete jobs.
    static func passwordProblem(password: String?, bind: String) -> String? {
        if (password ?? "").isEmpty && !isLoopback(bind) {
            return "HOOPOE_DASHBOARD_PASSWORD is not set and --bind \(bind) is not loopback: anyone who reaches the port could retry and delete jobs; set the password (and put a TLS proxy in front), or bind 127.0.0.1"
        }
        return nil
    }

    /// `localhost`, `::1` or an address `127.a.b.c` with numbers: `127.ops.example.com` is a name DNS may resolve to
    /// any address (it was taken as loopback, and served without a password).
    static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" || host == "[::1]" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127"
            && parts.allSatisfy { !$0.isEmpty && $0.count <= 3 && $0.allSatisfy { $0.isASCII && $0.isNumber } && Int($0)! <= 255 }
    }
}
