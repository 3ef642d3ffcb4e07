/// The payload of the periodic sweeps: `{tick: <Unix seconds>}` as the scheduler enqueues it (other keys ignored).
public struct ReminderTick: Decodable, Sendable {
    /// The scheduled time of this run; informational (the sweep reads "now" from the domain clock).
    public var tick: Double
}
