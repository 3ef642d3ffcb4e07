import Foundation

/// The schedule file a deployment health check looks at: where it is, whether the user named it, how to count its
/// enabled tasks, and how to read where they stand.
///
/// The counting and the reading are passed in because the engine does not read the schedule's YAML: HoopoeScheduler
/// does, and provides ``ScheduleFileCheck`` values for its `ScheduleFile` (`.at(url)`).
public struct ScheduleFileCheck: Sendable {
    /// The schedule file.
    public let url: URL
    /// Whether the user named the file (`--schedule`). A named file that is missing fails the check; a missing default
    /// (`jobs/schedule.yaml`, relative to the working directory) means no scheduler is needed.
    public let named: Bool
    /// The file's enabled tasks; throws when the file cannot be loaded (the error says why).
    public let enabledTasks: @Sendable () throws -> Int
    /// Where the enabled tasks stand; nil skips that part of the check (only a live scheduler is required).
    public let progress: (@Sendable () async throws -> ScheduleProgress)?

    /// - Parameters:
    ///   - url: the schedule file.
    ///   - named: whether the user named the file (default true).
    ///   - enabledTasks: counts the file's enabled tasks; called only when the file exists.
    ///   - progress: reads where the enabled tasks stand; called only when a live scheduler exists.
    public init(
        url: URL, named: Bool = true, enabledTasks: @escaping @Sendable () throws -> Int,
        progress: (@Sendable () async throws -> ScheduleProgress)? = nil
    ) {
        self.url = url
        self.named = named
        self.enabledTasks = enabledTasks
        self.progress = progress
    }
}
