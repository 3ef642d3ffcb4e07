/// The overall answer of a health check, and the exit code a probe sees.
///
/// `unreachable` is separate from `unhealthy` because the fix is elsewhere (the network, Redis itself),
/// and an orchestrator may want to treat "cannot tell" differently from "broken".
public enum HealthVerdict: String, Sendable, Hashable {
    /// Every check is ok or warn. Exit 0.
    case healthy
    /// At least one check failed. Exit 1.
    case unhealthy
    /// Redis did not answer (refused, timed out, authentication refused). Exit 2.
    case unreachable

    /// The process exit code for this verdict: 0, 1 or 2.
    public var exitCode: Int32 {
        switch self {
        case .healthy: 0
        case .unhealthy: 1
        case .unreachable: 2
        }
    }
}
