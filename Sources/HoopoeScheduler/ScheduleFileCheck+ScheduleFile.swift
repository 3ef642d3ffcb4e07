import Foundation
import HoopoeCore

extension ScheduleFileCheck {
    /// The health check of the schedule file at `url`, read as ``ScheduleFile`` reads it.
    /// - Parameters:
    ///   - url: the file.
    ///   - named: whether the user named it (`--schedule`); a named file that is missing fails the check.
    ///   - lastTicks: where the schedulers keep the tasks' last ticks; nil checks only that a scheduler is alive.
    public static func at(_ url: URL, named: Bool = true, lastTicks: RedisLastTickStore? = nil) -> ScheduleFileCheck {
        var progress: (@Sendable () async throws -> ScheduleProgress)?
        if let lastTicks {
            progress = { @Sendable () async throws -> ScheduleProgress in
                try await lastTicks.progress(of: ScheduleFile.load(contentsOf: url).enabledTasks)
            }
        }
        return ScheduleFileCheck(
            url: url, named: named, enabledTasks: { try ScheduleFile.load(contentsOf: url).enabledTasks.count }, progress: progress)
    }
}
