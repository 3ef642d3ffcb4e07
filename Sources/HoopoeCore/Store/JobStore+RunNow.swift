import Foundation
import Redis

extension JobStore {
    static let runNowScript = RedisScript(name: "run-now", embedded: PackageResources.run_now_lua)

    /// Moves one delayed job or retry of `queue` to its stream now, as the promoter moves a due one: one script, so a
    /// job is moved once however many promoters and operators act on it at the same moment.
    ///
    /// KEYS[1] scheduled · KEYS[2] scheduled:jobs · KEYS[3] stream · ARGV[1] job id
    /// Replies 1 moved · 0 not in the scheduled set · -1 in the set without an envelope (the id removed).
    ///
    /// The entry gets `promoted 1`, as a promoted job does: the worker does not hold it back for its envelope's
    /// `run_at`, which is still in the future. Its attempt, unique lock and everything else in the envelope are kept:
    /// a retry run now is the same retry, sooner.
    func runNow(id: String, queue: String) async throws -> RunNowResult {
        let k = keys(queue)
        let reply = try await redis.run(Self.runNowScript, keys: [k.scheduled, k.scheduledJobs, k.stream], arguments: [id])
        switch reply.int {
        case 1: return .moved
        case -1: return .noEnvelope
        default: return .notScheduled
        }
    }
}
