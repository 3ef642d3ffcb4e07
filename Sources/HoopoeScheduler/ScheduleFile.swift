import Foundation
import HoopoeCore

/// The periodic tasks of `jobs/schedule.yaml`, validated.
///
/// ```yaml
/// tasks:
///   - name: reminders.expiration      # required, unique; letters, digits, . _ -
///     cron: "0 9 * * *"               # required; 5 fields, or 6 with seconds first; quote it
///     time_zone: Asia/Tehran          # optional, default Asia/Tehran
///     type: reminders.expiration      # required: the job type to enqueue
///     queue: default                  # optional, default "default"
///     payload: {}                     # optional mapping, default {}; must not set `tick`
///     enabled: true                   # optional, default true
///     catch_up: once                  # optional, once | skip, default once
/// ```
///
/// Every job the scheduler enqueues carries the tick it stands for: the enqueuer adds `tick` (Unix
/// seconds of the tick's time) to the payload, which is why the file may not set it. `${HOOPOE_NAMESPACE}` in a payload
/// string becomes the scheduler's namespace (``namespaceToken``), for a payload that names a Redis key. Loading refuses the
/// whole file on any problem (an invalid cron expression or time zone, a duplicate name, a missing type,
/// an unknown key such as `cronn`, a bad `catch_up`), naming the task and the key, so a typo stops
/// start-up instead of silently dropping a task.
public struct ScheduleFile: Sendable, Hashable {
    /// Where the file lives, relative to the project root.
    public static let defaultPath = "jobs/schedule.yaml"
    /// The zone used when a task gives none: the service runs on Tehran time.
    public static let defaultTimeZoneIdentifier = "Asia/Tehran"
    /// ``defaultTimeZoneIdentifier`` as a zone (UTC if the system's zone database lacked it).
    public static var defaultTimeZone: TimeZone { TimeZone(identifier: defaultTimeZoneIdentifier) ?? .gmt }
    /// The queue used when a task gives none.
    public static let defaultQueue = "default"
    /// The payload key the enqueuer fills with the tick's time.
    public static let tickPayloadKey = "tick"
    /// Replaced by the scheduler's `HOOPOE_NAMESPACE` in the payload's strings when a tick is enqueued; the only
    /// variable a payload may use (the environment's others may hold secrets, which a payload would carry into the
    /// stream, the history and every output).
    public static let namespaceToken = "${HOOPOE_NAMESPACE}"

    /// Every task in file order, disabled ones included (they are validated too).
    public let tasks: [ScheduledTask]

    /// The tasks to schedule.
    public var enabledTasks: [ScheduledTask] { tasks.filter(\.enabled) }

    /// Wraps tasks that are already validated (tests, programmatic schedules).
    public init(tasks: [ScheduledTask]) {
        self.tasks = tasks
    }

    /// Parses and validates the file's text.
    /// - Parameters:
    ///   - yaml: the file's contents.
    ///   - source: the file's name for messages.
    /// - Throws: ``ScheduleFileError`` listing every problem.
    public init(yaml: String, source: String = ScheduleFile.defaultPath) throws(ScheduleFileError) {
        tasks = try ScheduleFileParser(source: source).parse(yaml)
    }

    /// As ``init(yaml:source:)``, with another default zone (tests: one the zone database lacks).
    init(yaml: String, defaultTimeZone: String) throws(ScheduleFileError) {
        tasks = try ScheduleFileParser(source: ScheduleFile.defaultPath, defaultTimeZone: defaultTimeZone).parse(yaml)
    }

    /// Reads, parses and validates a file.
    /// - Throws: ``ScheduleFileError`` (`unreadable` when the file cannot be read, or is a directory).
    public static func load(contentsOf url: URL) throws(ScheduleFileError) -> ScheduleFile {
        if let problem = MountedFile.directoryProblem(atPath: url.path) {
            throw ScheduleFileError(source: url.path, problems: [.init(.unreadable, task: nil, taskNumber: nil, key: nil, line: nil, message: problem)])
        }
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw ScheduleFileError(source: url.path, problems: [
                .init(.unreadable, task: nil, taskNumber: nil, key: nil, line: nil, message: "cannot read the file: \(error.localizedDescription)")
            ])
        }
        return try ScheduleFile(yaml: text, source: url.path)
    }
}
