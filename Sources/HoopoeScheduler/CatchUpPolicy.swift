/// What a periodic task does about ticks it missed while no scheduler was running (or all were late).
///
/// A tick is *missed* when it is found due more than the grace period after its time (see ``TickPlanner``).
/// Ticks found in time always run, whatever the policy.
public enum CatchUpPolicy: String, Sendable, Hashable, CaseIterable {
    /// One job stands for all the missed ticks: only the latest due tick is enqueued. Right for work that
    /// looks at the current state (send the reminders that are due now), where running it once catches up.
    case once
    /// Missed ticks are dropped; the task resumes at its next tick. Right for work that is pointless late
    /// (a poll whose answer is stale by the next tick anyway).
    case skip
}
