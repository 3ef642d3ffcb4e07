/// A settle refused because the job's delivery is no longer pending to this worker: its lease lapsed here (the
/// process paused, or its link to Redis was cut, longer than the lease) and another worker recovered the job and runs
/// it. That worker writes the job's outcome; this run's is dropped (reschedule.lua, kill.lua).
///
/// Written anyway, a retry scheduled here ran the job a third time after the other run succeeded, and a burial put a
/// job that succeeded in the dead set, with a `job.dead` event and its unique lock released while it ran.
public struct DeliveryTakenOver: Error, CustomStringConvertible {
    /// The job's id.
    public let jobID: String
    /// Its queue.
    public let queue: String

    public var description: String {
        "job \(jobID) of queue \(queue) is held by another worker (its lease lapsed here and that worker recovered it): this run's outcome is dropped"
    }
}
