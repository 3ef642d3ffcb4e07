/// The Redis keys the health check writes, built in one place (see `jobs/PROTOCOL.md`).
public struct HealthKeys: Sendable, Hashable {
    /// The key prefix.
    public let namespace: String

    /// - Parameter namespace: the key prefix (`hoopoe`).
    public init(namespace: String = "hoopoe") { self.namespace = namespace }

    /// Hash of the dead counts the previous run saw: `at` (Unix seconds) and `queue:<name>` → count.
    /// Kept so each run can report how much the dead set grew since the one before.
    public var dead: String { "\(namespace):health:dead" }
    /// The set one canary's `diag.record` job adds its member to (plus `…:count` and `…:attempt` hashes, written by
    /// the job): one a probe, named by its member, so concurrent probes do not disturb each other, and the keys of a
    /// canary that runs after its probe gave up expire a day later (the job's `ttl_seconds`). With one key for every
    /// probe, each run's `EXPIRE` pushed the late one's member back by a day, and a probe more often than daily kept
    /// it for ever.
    public func canary(_ member: String) -> String { "\(namespace):health:canary:\(member)" }
    /// The key the liveness check writes (a second's `SET … PX`) when it finds no fresh heartbeat of its process: that
    /// write refused (`OOM`, `NOREPLICAS`, `MISCONF`) says Redis refuses the heartbeat too, not that the process is gone.
    public func writeProbe(_ host: String) -> String { "\(namespace):health:write-probe:\(host)" }
}
