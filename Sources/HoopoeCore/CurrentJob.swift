/// The job whose handler runs in this task, as a task-local value: what the handler writes on the way names it
/// without a parameter threaded through every call between (the events a domain job writes carry it as `job`; the
/// jobs it enqueues, as ``JobEnvelope/enqueuedBy``).
///
/// Set by whoever runs the handler and wants its writes attributed (the domain jobs' wrapper does, decision 0091),
/// not by the engine for every job: a job that writes nothing should pay nothing. Inherited by child tasks and
/// `Task { }`, not by `Task.detached`.
public enum CurrentJob {
    @TaskLocal public static var id: String?
}
