import Foundation
import HoopoeCore
import HoopoeJSON

/// The production ``ScheduledJobSink``: enqueues a tick through the engine's enqueue script with a
/// once-key per task and tick, `hoopoe:{<queue>}:once:schedule:<task>:<tick>`, so the tick becomes
/// exactly one job however many schedulers race for it. The job's payload is the task's payload plus
/// `tick` (Unix seconds).
public struct JobQueueTickSink: ScheduledJobSink {
    private let jobs: JobQueue
    /// How long a tick's once-key is remembered (24 h; see ``JobScheduler`` for what that bounds).
    public let remember: Duration

    /// - Parameters:
    ///   - jobs: the engine.
    ///   - remember: the once-key's lifetime.
    public init(jobs: JobQueue, remember: Duration = .seconds(86_400)) {
        self.jobs = jobs
        self.remember = remember
    }

    public func enqueueTick(task: ScheduledTask, tick: Date) async throws -> Bool {
        let seconds = Int64(tick.timeIntervalSince1970.rounded(.down))
        var payload: [String: JSONValue] = [:]
        if case .object(let members) = task.payload { payload = members }
        payload[ScheduleFile.tickPayloadKey] = .integer(seconds)
        let result = try await jobs.enqueue(
            type: task.type, payload: .object(payload),
            options: EnqueueOptions(queue: task.queue, onceKey: "schedule:\(task.name):\(seconds)", onceFor: remember))
        return result.createdID != nil
    }
}
