import Foundation
import Redis

extension JobStore {
    static let cancelReadyScript = historyScript(name: "cancel-ready", embedded: PackageResources.cancel_ready_lua)
    static let cancelScheduledScript = historyScript(name: "cancel-scheduled", embedded: PackageResources.cancel_scheduled_lua)

    /// Cancels job `id`, as ``find(id:queue:)`` found it, if it is waiting; a running job is not interrupted.
    /// Its unique lock is released only if this job holds it, and `record` (outcome `cancelled`) is added to the
    /// queue's job history in the same script. Not trimmed here: the CLI does not know the workers' caps, and the
    /// next settle of the queue trims.
    func cancel(id: String, _ found: FoundJob, queue: String, record: HistoryRecord) async throws -> CancelResult {
        let k = keys(queue)
        let unique = k.unique(found.envelope.uniqueKey ?? "-")
        let history = String(decoding: record.encoded(), as: UTF8.self)
        switch found.state {
        case .scheduled:
            // KEYS[1] scheduled · KEYS[2] scheduled:jobs · KEYS[3] unique:<key> · KEYS[4] history (legacy sorted set)
            // KEYS[5] history:jobs · KEYS[6] history:ids · ARGV[1] job id · ARGV[2] history record
            // Returns 1 cancelled · 0 not there
            let n = try await redis.run(
                Self.cancelScheduledScript, keys: [k.scheduled, k.scheduledJobs, unique, k.legacyHistory, k.historyJobs, k.historyIDs],
                arguments: [id, history])
            return n.int == 1 ? .cancelled : .notFound
        case .ready:
            // KEYS[1] stream · KEYS[2] unique:<key> · KEYS[3] history (legacy sorted set) · KEYS[4] history:jobs
            // KEYS[5] history:ids · ARGV[1] group · ARGV[2] entry id · ARGV[3] job id · ARGV[4] history record
            // Returns 1 cancelled · 0 gone · -1 running (a worker holds it)
            let n = try await redis.run(
                Self.cancelReadyScript, keys: [k.stream, unique, k.legacyHistory, k.historyJobs, k.historyIDs],
                arguments: [QueueKeys.group, found.entryID!, id, history])
            return n.int == 1 ? .cancelled : n.int == -1 ? .running : .notFound
        case .running: return .running
        case .dead, .finished: return .notFound
        }
    }
}
