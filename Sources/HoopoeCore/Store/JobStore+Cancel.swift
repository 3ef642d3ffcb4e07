import Redis

extension JobStore {
    static let cancelReadyScript = RedisScript(name: "cancel-ready", embedded: PackageResources.cancel_ready_lua)
    static let cancelScheduledScript = RedisScript(name: "cancel-scheduled", embedded: PackageResources.cancel_scheduled_lua)

    /// Cancels job `id`, as ``find(id:queue:)`` found it, if it is waiting; a running job is not interrupted.
    /// Its unique lock is released only if this job holds it.
    func cancel(id: String, _ found: FoundJob, queue: String) async throws -> CancelResult {
        let k = keys(queue)
        let unique = k.unique(found.envelope.uniqueKey ?? "-")
        switch found.state {
        case .scheduled:
            // KEYS[1] scheduled · KEYS[2] scheduled:jobs · KEYS[3] unique:<key> · ARGV[1] job id
            // Returns 1 cancelled · 0 not there
            let n = try await redis.run(Self.cancelScheduledScript, keys: [k.scheduled, k.scheduledJobs, unique], arguments: [id])
            return n.int == 1 ? .cancelled : .notFound
        case .ready:
            // KEYS[1] stream · KEYS[2] unique:<key> · ARGV[1] group · ARGV[2] entry id · ARGV[3] job id
            // Returns 1 cancelled · 0 gone · -1 running (a worker holds it)
            let n = try await redis.run(Self.cancelReadyScript, keys: [k.stream, unique], arguments: [QueueKeys.group, found.entryID!, id])
            return n.int == 1 ? .cancelled : n.int == -1 ? .running : .notFound
        case .running: return .running
        case .dead, .finished: return .notFound
        }
    }
}
