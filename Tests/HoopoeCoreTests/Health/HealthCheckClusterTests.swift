import Foundation
import HoopoeCore
import Redis
import TestSupport
import Testing

/// The health check on a Redis Cluster whose URL names a seed that is gone for good (a node replaced): the URL lists
/// several so that one being down does not matter (docs/operating.md).
@Suite struct HealthCheckClusterTests {
    @Test func theSecondConnectionGoesWhereTheMapSaysNotToTheFirstSeed() async throws {
        let servers = try ClusterServers.shared()
        let redis = try RedisClient(url: "redis-cluster://127.0.0.1:1,\(servers.seeds)")
        defer { redis.close() }
        let jobs = JobQueue(redis: redis, namespace: TestRedis.uniquePrefix())
        let report = await HealthCheck(jobs: jobs, options: HealthCheckOptions()).run()
        let finding = try #require(report.finding("redis_second_connection"), "\(report.findings)")
        #expect(finding.status == .ok, "\(finding.message)")
    }
}
