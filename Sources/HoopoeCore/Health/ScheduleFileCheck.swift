import Foundation

/// The schedule file a deployment health check looks at: where it is, and how to count its enabled tasks.
///
/// The counting is passed in because the engine does not read the schedule's YAML: HoopoeScheduler does, and
/// provides ``ScheduleFileCheck`` values for its `ScheduleFile` (`.at(url)`).
public struct ScheduleFileCheck: Sendable {
    /// The schedule file.
    public let url: URL
    /// The file's enabled tasks; throws when the file cannot be loaded (the error says why).
    public let enabledTasks: @Sendable () throws -> Int

    /// - Parameters:
    ///   - url: the schedule file.
    ///   - enabledTasks: counts the file's enabled tasks; called only when the file exists.
    public init(url: URL, enabledTasks: @escaping @Sendable () throws -> Int) {
        self.url = url
        self.enabledTasks = enabledTasks
    }
}
