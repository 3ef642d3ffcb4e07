/// The Redis keys the health check writes, built in one place (see `jobs/PROTOCOL.md`).
public struct HealthKeys: Sendable, Hashable {
    /// The key prefix.
    public let namespace: String

    /// - Parameter namespace: the key prefix (`hoopoe`).
    public init(namespace: String = "hoopoe") { self.namespace = namespace }

    /// Hash of the dead counts the previous run saw: `at` (Unix seconds) and `queue:<name>` → count.
    /// Kept so each run can report how much the dead set grew since the one before.
    public var dead: String { "\(namespace):health:dead" }
    /// Set the canary `diag.record` job adds its member to (plus `…:count` and `…:attempt` hashes,
    /// written by the job). Each run removes its own member, so concurrent probes do not disturb each other.
    public var canary: String { "\(namespace):health:canary" }
}
