import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// `JobQueue.forget` on a real three-primary cluster: the queue's keys live on one node, the shared sets and hashes
/// naming it on another; the script runs on the queue's node (its keys, found by a scan of every primary, in one slot)
/// and the names go from theirs.
@Suite(.serialized) struct ClusterForgetTests {
    @Test func aQueueOnOneNodeIsForgottenAndItsNameOnAnother() async throws {
        let servers = try ClusterServers.shared()
        let redis = try RedisClient(url: servers.url)
        defer { redis.close() }
        let jobs = JobQueue(redis: redis, namespace: TestRedis.uniquePrefix("cluster-forget"))
        let shared = try servers.owner(ofSlot: HashSlot.of(jobs.global.queues))
        let queue = try servers.tag(onNode: (shared + 1) % 3, prefix: "f")
        let kept = try servers.tag(onNode: (shared + 2) % 3, prefix: "k")
        let k = jobs.keys(queue)
        _ = try await redis.send("XGROUP", "CREATE", k.stream, QueueKeys.group, "0", "MKSTREAM")
        _ = try await redis.send("SADD", jobs.global.queues, queue, kept)
        // More keys than the script takes: the rest go after it, on the queue's node too.
        _ = try await redis.pipeline((0..<1_200).map { RedisCommand("SET", k.unique("u-\($0)"), "j", "EX", "600") })
        _ = try await jobs.pause(queue: queue)
        try await jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: kept))

        try await jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: queue))
        #expect(try await jobs.forget(queue: queue) == .holdsJobs(QueueHoldings(ready: 1)))
        #expect(try await jobs.pausedQueues()[queue] != nil, "a refused forget keeps the pause")
        #expect(try await jobs.clear(queue: queue).cleared == 1)

        #expect(try await jobs.forget(queue: queue) == .forgotten(keys: 1 + 1_200, dropped: QueueHoldings()))
        let pattern = GlobPattern.literal("\(jobs.namespace):{\(queue)}:") + "*"
        for endpoint in servers.endpoints {
            let direct = RedisClient(configuration: RedisConfiguration(endpoint: endpoint))
            defer { direct.close() }
            #expect(try await direct.send("KEYS", pattern).array?.isEmpty == true, "\(endpoint) holds keys of \(queue)")
        }
        #expect(try await redis.send("SMEMBERS", jobs.global.queues).array?.compactMap(\.string) == [kept])
        #expect(try await jobs.pausedQueues().isEmpty)
        #expect(try await jobs.knownQueues() == [kept])
    }
}
