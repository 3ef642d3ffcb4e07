import Foundation

extension Worker {
    /// What this worker's heartbeat says of it, each beat (``Heartbeat``'s `details`): `busy` (jobs running),
    /// `queues`, `concurrency`, its ``WorkerState`` in ``ProcessRecord/stateField`` (a quiet worker serves no queue:
    /// ``ProcessRecord/serves(_:)``), and in ``ProcessRun/field`` the jobs running with the start of each run
    /// (``ProcessRun/listedLimit`` oldest at most), for the dashboard's Busy page and `hoopoe queues`.
    ///
    /// The state is written every beat: without it a worker quieted by SIGTSTP beat on listing its queues, and
    /// `hoopoe enqueue`, the health check and the dashboard counted it as serving them while its jobs waited.
    ///
    /// Why the heartbeat: it is written anyway, every 5 s, on its own connection (decision 0073); a record of each run's
    /// start in Redis would be a command more on every job's path. The job's path pays nothing for it: a run's start is
    /// the clock reading its timeout already counts from (``RunningJob/started``), and the running jobs are the ones
    /// ``WorkerLifecycle`` keeps anyway; a beat copies them under its lock (as `busy` has always been read, a beat), a
    /// list as long as the concurrency, and converts and sorts them after. `busy` is counted in that same instant, so
    /// a reader can tell a list that was cut (``ProcessRecord/listsEveryRun``).
    ///
    /// The starts are this host's wall clock (seconds since 1970) at the time of the beat, less how long each run has
    /// run by the monotonic clock: a wall clock stepped meanwhile moves every start of the beat alike.
    public var heartbeatFields: [String: String] {
        let running = lifecycle.runningJobs
        let wallNow = Date().timeIntervalSince1970
        let now = ContinuousClock.now
        let runs = running.map { job in
            ProcessRun(queue: job.queue, entryID: job.key, startedAt: wallNow - (now - job.started).seconds)
        }
        return [
            "busy": String(running.count), "queues": options.queues.names.joined(separator: ","), "concurrency": String(options.concurrency),
            ProcessRecord.stateField: state.description, ProcessRun.field: ProcessRun.field(runs),
        ]
    }
}
