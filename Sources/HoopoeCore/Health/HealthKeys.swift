/// The Redis keys the health check writes, built in one place (see `jobs/PROTOCOL.md`).
public struct HealthKeys: Sendable, Hashable {
    /// The key prefix.
    public let namespace: String

    /// - Parameter namespace: the key prefix (`hoopoe`).
    public init(namespace: String = "hoopoe") { self.namespace = namespace }

    /// Hash of what the previous run saw: `at` (Unix seconds), `queue:<name>` → the dead set's size, `death_days` →
    /// three UTC days (`2025-03-01,2025-03-02,2025-03-03`) and `deaths:<name>` → the jobs buried on each of them by
    /// then (`0,4,0`). Kept so each run can report how many jobs were put in the dead sets since the one before.
    public var dead: String { "\(namespace):health:dead" }
    /// The set one canary's `diag.record` job adds its member to (plus `…:count` and `…:attempt` hashes, written by
    /// the job): one a probe, named by its member, so concurrent probes do not disturb each other, and the keys of a
    /// canary that runs after its probe gave up expire a day later (the job's `ttl_seconds`). With one key for every
    /// probe, each run's `EXPIRE` pushed the late one's member back by a day, and a probe more often than daily kept
    /// it for ever.
    public func canary(_ member: String) -> String { "\(namespace):health:canary:\(member)" }
    /// The key the liveness check writes (a second's `SET … PX`) when it finds no fresh heartbeat of its process: that
    /// write refused (`OOM`, `NOREPLICAS`, `MISCONF`) says Redis refuses the heartbeat too, not that the process is gone.
    /// The deployment check writes it on every run (its `redis` check): refused, Redis refuses every enqueue too.
    public func writeProbe(_ host: String) -> String { "\(namespace):health:write-probe:\(host)" }
}
