/// What a periodic task does about ticks it missed while no scheduler was running (or all were late).
///
/// A tick is *missed* when it is found due more than the grace period after its time (see ``TickPlanner``): no
/// scheduler ran then, or none reached Redis (an outage longer than the grace period counts too). Without a missed tick,
/// every tick found in time runs. With one, ``once`` enqueues a single job, for the latest due tick (an on-time one if
/// there is one), and ``skip`` enqueues at most the latest on-time tick.
public enum CatchUpPolicy: String, Sendable, Hashable, CaseIterable {
    /// One job stands for all the missed ticks: only the latest due tick is enqueued. Right for work that
    /// looks at the current state (send the reminders that are due now), where running it once catches up.
    case once
    /// Missed ticks are dropped; the task resumes at its next tick, or at the latest tick that fell due within the
    /// grace period, once (never a burst of them). Right for work that is pointless late
    /// (a poll whose answer is stale by the next tick anyway).
    case skip
}
