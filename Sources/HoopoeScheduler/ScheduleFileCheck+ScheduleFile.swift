import Foundation
import HoopoeCore

extension ScheduleFileCheck {
    /// The health check of the schedule file at `url`, read as ``ScheduleFile`` reads it.
    public static func at(_ url: URL) -> ScheduleFileCheck {
        ScheduleFileCheck(url: url) { try ScheduleFile.load(contentsOf: url).enabledTasks.count }
    }
}
