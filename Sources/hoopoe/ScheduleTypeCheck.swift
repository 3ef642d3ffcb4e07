import HoopoeCore
import HoopoeJSON
import HoopoeScheduler

/// What `hoopoe scheduler` checks of each task against the job types this build runs, before its first tick.
///
/// A payload the task's handler cannot decode is refused (exit 78): every tick would fail the same way, with nothing
/// said until the dead set filled. A type this build does not run is only warned about: a schedule may feed workers
/// of another build (the Hoopoe library in a service of its own); `hoopoe enqueue`, which is given one job by hand,
/// refuses it.
enum ScheduleTypeCheck {
    /// Warnings (types this build does not run) and errors (payloads their handler refuses), each naming the task.
    static func check(_ tasks: [ScheduledTask], registry: JobRegistry) -> (warnings: [String], errors: [String]) {
        var warnings: [String] = []
        var errors: [String] = []
        for task in tasks {
            guard registry.types.contains(task.type) else {
                let hint = EditDistance.suggestion(for: task.type, among: registry.types).map { " (did you mean \($0)?)" } ?? ""
                warnings.append(
                    "task '\(task.name)': type '\(task.type)' is not one this build's workers run\(hint); its jobs go to the dead set unless a worker of another build runs them")
                continue
            }
            // As the job will carry it: the task's payload (its namespace token filled in) and its tick.
            if let problem = registry.payloadProblem(type: task.type, payload: task.jobPayload(namespace: "hoopoe", tick: 0).encoded()) {
                errors.append("task '\(task.name)': payload: \(problem)")
            }
        }
        return (warnings, errors)
    }
}
