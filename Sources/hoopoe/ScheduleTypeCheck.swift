import HoopoeCore
import HoopoeJSON
import HoopoeScheduler

/// What `hoopoe scheduler` checks of each task against the job types this build runs, before its first tick.
///
/// A payload the task's handler cannot decode is refused (exit 78): every tick would fail the same way, with nothing
/// said until the dead set filled. So is a payload too large for a job: the envelope a tick makes over the queue's
/// enqueue limit was refused at every tick, in the log only, and the scheduler passed every check and ran on (the
/// health check saw it a minute later). A type this build does not run is only warned about: a schedule may feed
/// workers of another build (the Hoopoe library in a service of its own); `hoopoe enqueue`, which is given one job by
/// hand, refuses it. Every message is masked (``PersonalDataMask``): a payload problem may quote a value.
enum ScheduleTypeCheck {
    /// Warnings (types this build does not run) and errors (payloads their handler refuses, or too large for a job),
    /// each naming the task.
    /// - Parameters:
    ///   - tasks: the schedule's tasks, disabled ones included (they are validated as the file is).
    ///   - registry: the job types this build runs.
    ///   - jobs: the engine the ticks are enqueued through: its namespace fills the payload's namespace token (so it
    ///     must be the namespace the scheduler runs with: a longer one makes a larger job), and it measures each tick's
    ///     envelope and holds it to its limit as each tick's enqueue does.
    static func check(_ tasks: [ScheduledTask], registry: JobRegistry, jobs: JobQueue) -> (warnings: [String], errors: [String]) {
        var warnings: [String] = []
        var errors: [String] = []
        for task in tasks {
            // Whatever the type: the limit holds for every enqueue, a type of another build's workers included.
            let bytes: Int
            do {
                bytes = try largestEnvelopeBytes(of: task, jobs: jobs)
            } catch {
                // What the enqueue refuses before measuring (a number JSON cannot carry): refused at every tick too.
                errors.append(PersonalDataMask.mask("task '\(task.name)': payload: \(error)"))
                continue
            }
            guard jobs.admits(envelopeBytes: bytes) else {
                errors.append(
                    PersonalDataMask.mask(
                        "task '\(task.name)': payload: a tick's job would be \(bytes) bytes (the payload and its tick in their envelope, "
                            + "the tick, the enqueue time and the queue's name at their widest), over the \(jobs.maxEnvelopeBytes)-byte limit "
                            + "of an enqueue: pass a reference (an id or a URL) instead of the data"))
                continue
            }
            guard registry.types.contains(task.type) else {
                let hint = EditDistance.suggestion(for: task.type, among: registry.types).map { " (did you mean \($0)?)" } ?? ""
                warnings.append(
                    PersonalDataMask.mask(
                        "task '\(task.name)': type '\(task.type)' is not one this build's workers run\(hint); its jobs go to the dead set unless a worker of another build runs them"
                    ))
                continue
            }
            // As the job will carry it: the task's payload (its namespace token filled in) and its tick.
            if let problem = registry.payloadProblem(type: task.type, payload: task.jobPayload(namespace: jobs.namespace, tick: 0).encoded()) {
                errors.append(PersonalDataMask.mask("task '\(task.name)': payload: \(problem)"))
            }
        }
        return (warnings, errors)
    }

    /// The tick written widest: the last second with 10 digits (2286-11-20). Every tick until then is as wide or
    /// narrower.
    static let widestTick: Int64 = 9_999_999_999

    /// An enqueue time written widest: 17 significant digits, the most `Double`'s shortest form takes, 10 of them whole
    /// seconds (`1767225600.1234567`, 18 characters).
    static let widestEnqueueTime: Double = 1_767_225_600.123_456_7

    /// A queue name at its widest (``EnvelopeRules/maxQueueLength`` characters, each one byte): a tick goes to the
    /// queue of the first scheduler to claim it (``JobQueueTickSink``), which another scheduler's file may name, so a
    /// payload that fits in this file's queue only may still be refused when another file's queue claims the tick.
    static let widestQueue = String(repeating: "q", count: EnvelopeRules.maxQueueLength)

    /// The size of the largest envelope a tick of `task` makes, measured by the engine's own enqueue
    /// (``JobQueue/envelopeBytes(type:payload:options:enqueuedAt:enqueuedBy:)``): the task's type, the payload of
    /// ``ScheduledTask/jobPayload(namespace:tick:)`` (the tick added, `jobs`' namespace filled in) and the options
    /// ``JobQueueTickSink`` enqueues with; the tick, the enqueue time and the queue at their widest, so a payload a
    /// few bytes under the limit today is not refused at a later tick, or in a queue another file claims the tick
    /// for. (It once rebuilt the envelope from the envelope's public fields, and could count otherwise than the enqueue
    /// writes.)
    /// - Throws: the enqueue's ``EnqueueError`` for a job it refuses before measuring.
    static func largestEnvelopeBytes(of task: ScheduledTask, jobs: JobQueue) throws -> Int {
        try jobs.envelopeBytes(
            type: task.type, payload: task.jobPayload(namespace: jobs.namespace, tick: widestTick),
            options: EnqueueOptions(queue: widestQueue, onceKey: "schedule:\(task.name):\(widestTick)", onceFor: .seconds(86_400)),
            enqueuedAt: widestEnqueueTime)
    }
}
