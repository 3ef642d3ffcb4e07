import HoopoeCore
import Redis

/// Every queue an operator may ask about. ``JobQueue/knownQueues()`` finds queues that workers serve or
/// that have a stream; a queue that so far holds only delayed jobs (or only dead ones) has neither, and
/// an admin command must still find its jobs.
enum QueueDiscovery {
    /// Known queues plus those with a scheduled or dead set, sorted.
    static func all(_ jobs: JobQueue) async throws -> [String] {
        var names = Set(try await jobs.knownQueues())
        var cursor = "0"
        repeat {
            let reply = try await jobs.redis.send("SCAN", cursor, "MATCH", "\(jobs.namespace):{*}:*", "COUNT", "1000")
            cursor = reply.array?.first?.string ?? "0"
            for key in reply.array?.last?.array ?? [] {
                guard let key = key.string, key.hasSuffix("}:scheduled") || key.hasSuffix("}:dead"),
                    let open = key.firstIndex(of: "{"), let close = key.lastIndex(of: "}"), open < close
                else { continue }
                names.insert(String(key[key.index(after: open)..<close]))
            }
        } while cursor != "0"
        return names.sorted()
    }
}
