/// The outcome of one health check.
///
/// Three levels, not two, because some findings deserve a person's attention without making a probe
/// restart the pod: a warning never changes the exit code.
public enum HealthStatus: String, Sendable, Hashable, Comparable, CaseIterable {
    /// Nothing to do.
    case ok
    /// Worth a look; the system still works (an eviction policy, a growing dead set).
    case warn
    /// The system does not do its job (no worker, jobs waiting too long, Redis unusable).
    case fail

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rank < rhs.rank }

    private var rank: Int {
        switch self {
        case .ok: 0
        case .warn: 1
        case .fail: 2
        }
    }
}
