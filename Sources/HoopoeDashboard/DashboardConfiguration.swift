import HoopoeCore
import HoopoeScheduler

/// What a dashboard shows and allows.
public struct DashboardConfiguration: Sendable {
    /// Refuse and hide every action (retry, delete, enqueue now): for wide read access.
    public var readOnly: Bool
    /// When set, every page asks for HTTP basic auth with this password (`HOOPOE_DASHBOARD_PASSWORD`).
    public var password: String?
    /// The rule that hides secret payload keys and masks phone numbers: the same one `hoopoe job show` uses.
    public var redaction: PayloadRedaction
    /// The periodic tasks, as the schedule file gave them.
    public var schedule: ScheduleSource
    /// Rows on a list page.
    public var pageSize: Int
    /// The path prefix behind a reverse proxy (`--base-path`); ``BasePath/root`` when served at the root.
    public var basePath: BasePath
    /// The job types this build runs: the Clear form offers them and refuses another unless asked to take it (a typo
    /// matched no job, and the clear said "cleared 0" with the queue's flood still there), as `hoopoe queue clear`
    /// refuses it. Empty: any type is taken.
    public var jobTypes: [String]

    /// - Parameters:
    ///   - readOnly: hide and refuse every action.
    ///   - password: basic auth's password; nil for none.
    ///   - redaction: the payload rule.
    ///   - schedule: the periodic tasks.
    ///   - pageSize: rows on a list page (default 50).
    ///   - basePath: the prefix every route, link and redirect carries (default: none).
    ///   - jobTypes: the job types this build runs (default: none named, any type taken).
    public init(
        readOnly: Bool = false, password: String? = nil, redaction: PayloadRedaction, schedule: ScheduleSource = .none, pageSize: Int = 50,
        basePath: BasePath = .root, jobTypes: [String] = []
    ) {
        self.readOnly = readOnly
        self.password = password.flatMap { $0.isEmpty ? nil : $0 }
        self.redaction = redaction
        self.schedule = schedule
        self.pageSize = max(1, pageSize)
        self.basePath = basePath
        self.jobTypes = jobTypes.sorted()
    }
}

/// Where the periodic tasks page gets its tasks.
public enum ScheduleSource: Sendable {
    /// No schedule file (the page says so).
    case none
    /// The tasks of the file at `path`.
    case file(path: String, tasks: [ScheduledTask])
    /// The file at `path` could not be read (the page shows the error).
    case unreadable(path: String, error: String)
}
