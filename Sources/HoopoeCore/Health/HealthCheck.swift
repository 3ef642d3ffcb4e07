import Foundation
import Redis

/// Answers "is this Hoopoe installation doing its job?" (``HealthCheckOptions/Scope/deployment``) or "is this
/// process alive?" (``HealthCheckOptions/Scope/liveness``: `redis` and `process` only) with a ``HealthReport`` of
/// named checks.
///
/// The checks, in order: Redis answers on the pooled client and takes a write (`redis`) and answers on a connection
/// of its own (`redis_second_connection`); its version and eviction policy (`redis_version`, `maxmemory_policy`); the
/// topology (`topology`: every primary answers, cluster slots all served, replicas in sync, ``TopologyReport``);
/// live workers (`workers`) and, when the schedule has enabled tasks, a live scheduler (`scheduler`); each
/// queue's oldest ready job against ``HealthCheckOptions/maxLatency`` (`queue:<name>`; a queue no live worker
/// serves is a warning that says so, not a latency failure); the jobs put in the dead sets since the previous run
/// (`dead_jobs`); and, when asked, a job run end to end (`canary`).
///
/// The check lives here, not in the CLI, so it is tested against a real Redis without a process. The
/// first sign that Redis is unusable (no connection, a timeout) ends the run as `unreachable`: piling one
/// timeout on another would make a probe outlast its own deadline.
public struct HealthCheck: Sendable {
    /// The engine: Redis client and namespace.
    public let jobs: JobQueue
    /// Limits and optional checks.
    public let options: HealthCheckOptions

    /// - Parameters:
    ///   - jobs: the engine (its client should have short timeouts, see the CLI's `health-check`).
    ///   - options: limits and optional checks.
    public init(jobs: JobQueue, options: HealthCheckOptions = HealthCheckOptions()) {
        self.jobs = jobs
        self.options = options
    }

    /// The Redis keys this check writes.
    public var keys: HealthKeys { HealthKeys(namespace: jobs.namespace) }

    /// Runs every check and returns what they found. Never throws: a failure is a finding.
    public func run() async -> HealthReport {
        options.scope == .liveness ? await runLiveness() : await runDeployment()
    }

    /// The deployment checks, in order.
    private func runDeployment() async -> HealthReport {
        var findings: [HealthFinding] = []
        var topology: TopologyReport?
        do {
            try await step("redis", &findings) { [try await pingPooled(writes: true)] }
            findings.append(await pingDedicated())
            try await step("redis_version", &findings) { try await serverSettings() }
            topology = try await step("topology", &findings) { try await TopologyReport.probe(jobs.redis) }
            if let topology { findings.append(topology.finding) }
            let processes = try await step("heartbeats", &findings) { try await jobs.liveProcesses() } ?? []
            findings.append(workers(processes))
            try await step("scheduler", &findings) { try await scheduler(processes).map { [$0] } ?? [] }
            let read = try await step("queues", &findings) { try await queueInfos() }
            let infos = read?.infos ?? []
            let paused = await pausedQueueNames()
            // A queue Redis refused to read fails its own finding, in name order among the others.
            let queueFindings = latency(infos, processes: processes, paused: paused) + (read?.unreadable ?? [])
            findings.append(contentsOf: queueFindings.sorted { $0.name < $1.name })
            // Only from queues that were read: from none, it said "0 dead job(s)", ok, and saved that as the baseline,
            // so the next run reported every dead job as new.
            if let read { try await step("dead_jobs", &findings) { [try await deadGrowth(read.infos)] } }
            if options.canary {
                try await step("canary", &findings) { [try await canary(processes, paused: paused)] }
            }
        } catch {
            return HealthReport(findings: findings, reachable: false, topology: topology)
        }
        return HealthReport(findings: findings, topology: topology)
    }

    /// The liveness checks: `redis` (PING) and `process` (a fresh heartbeat of this process). Reads only; no
    /// `INFO`, no queue scan, so a probe stays cheap and needs few ACL permissions.
    ///
    /// Redis unreachable is a warning here, and the process passes (decision 0102): its heartbeat cannot be read, and a
    /// restart would not bring Redis back. As a failure (exit 2) it restarted every healthy worker and scheduler a few
    /// minutes into a Redis outage, and each restart drained mid-outage and met Kubernetes' restart backoff when Redis
    /// returned. The deployment check still says unreachable (exit 2): that one alerts a person.
    ///
    /// So is a Redis that answers but refuses writes (``RedisError/refusesWrites``: `MISCONF` after a failed save, which
    /// refuses `PING` too; `NOREPLICAS` with a replica gone; `OOM`): no process can write its heartbeat, and as a
    /// failure every worker and scheduler was restarted into it, drained mid-refusal.
    private func runLiveness() async -> HealthReport {
        var findings: [HealthFinding] = []
        do {
            try await step("redis", &findings, writeRefusalEndsTheRun: true) { [try await pingPooled()] }
            let processes = try await step("heartbeats", &findings, writeRefusalEndsTheRun: true) { try await jobs.liveProcesses() }
            if let processes {
                let process = alive(processes)
                // No fresh heartbeat: gone, or refused its writes. Under `maxmemory` nothing above was refused (`PING`
                // and the prune's `ZREM` are taken), and every process was failed, restarted into the same refusal. A
                // write of the kind a beat makes tells them apart.
                if process.status == .fail {
                    try await step("redis", &findings, writeRefusalEndsTheRun: true) {
                        try await jobs.redis.send("SET", keys.writeProbe(options.host), "1", "PX", "1000")
                    }
                }
                findings.append(process)
            }
        } catch {
            let cause = findings.last.map { "\($0.name): \($0.message)" } ?? "no answer"
            let refusesWrites = error.refusesWrites
            // One `redis` finding: a PING that answered before the heartbeats' read timed out is not reported as well.
            findings.removeLast(findings.isEmpty ? 0 : 1)
            findings.removeAll { $0.name == "redis" }
            findings.append(HealthFinding(
                name: "redis", status: .warn,
                message: refusesWrites
                    ? "refuses writes (\(cause)); this process is not judged while no heartbeat can be written: restarting it would not mend Redis"
                    : "unreachable (\(cause)); this process is not judged while Redis is away: restarting it would not bring Redis back"))
        }
        return HealthReport(findings: findings)
    }

    /// Redis stopped answering (or, for the liveness check, refuses writes: `refusesWrites`); the run ends.
    struct Unreachable: Error {
        var refusesWrites = false
    }

    /// Runs one check. An error reply becomes a failed finding named `name` and the run goes on;
    /// an unreachable Redis becomes a failed finding and ends the run, as does a refused write when
    /// `writeRefusalEndsTheRun` (the liveness check).
    @discardableResult
    private func step<T>(
        _ name: String, _ findings: inout [HealthFinding], writeRefusalEndsTheRun: Bool = false, _ body: () async throws -> T
    ) async throws(Unreachable) -> T? {
        do {
            let value = try await body()
            if let produced = value as? [HealthFinding] { findings.append(contentsOf: produced) }
            return value
        } catch let error as RedisError where writeRefusalEndsTheRun && error.refusesWrites {
            findings.append(HealthFinding(name: name, status: .fail, message: "\(error)"))
            throw Unreachable(refusesWrites: true)
        } catch let error as RedisError where error.isUnreachable || error.isMomentaryRefusal {
            // A server that answers only `LOADING` (reading its data after a restart), `MASTERDOWN` or `CLUSTERDOWN`
            // serves nothing yet: unreachable, as a closed port is. As an error reply it failed the liveness probe,
            // which restarted every healthy worker while a large Redis loaded (decision 0102's restart loop).
            findings.append(HealthFinding(name: name, status: .fail, message: error.isMomentaryRefusal ? "\(error) (not serving yet)" : error.operatorLine))
            throw Unreachable()
        } catch {
            findings.append(HealthFinding(name: name, status: .fail, message: "\(error)"))
            return nil
        }
    }
}

extension Duration {
    /// Milliseconds as a Double, for round-trip numbers.
    var milliseconds: Double {
        let (s, attoseconds) = components
        return Double(s) * 1000 + Double(attoseconds) / 1e15
    }
}

/// Rounds for display and JSON: two decimals are plenty for milliseconds and seconds.
func rounded2(_ value: Double) -> Double { (value * 100).rounded() / 100 }

/// `value` rounded to a whole number, for a message: `Int(_:)` trapped on a value no Int holds (a sum of hand-written
/// heartbeat fields of `Int.max`, a baseline time of `-inf`), and took the health check down; such a value is written
/// as it is.
func wholeText(_ value: Double) -> String {
    Int(exactly: value.rounded()).map(String.init) ?? "\(value)"
}
