import Foundation
import HoopoeCore
import Redis
import TestSupport
import Testing

/// Every worker exports the same per-queue gauges, so a `sum()` over N workers read N times a queue's depth; each
/// queue gauge's `# HELP` says to aggregate with `max by (queue)` (as README's Metrics does), and the worker's own
/// `hoopoe_jobs_in_flight` does not.
@Suite struct MetricsQueueGaugeHelpTests {
    @Test func theQueueGaugesSayHowToAggregateThem() async throws {
        let h = try EngineHarness()
        let port = try RedisServer.freePort()
        let worker = try ChildProcess(BuiltProducts.hoopoe, ["worker", "--metrics-port", String(port)], environment: [
            "REDIS_URL": try TestRedis.url(), "HOOPOE_NAMESPACE": h.namespace, "LOG_LEVEL": "warning",
        ])
        defer { worker.signal(SIGKILL) }
        var text = ""
        #expect(try await h.eventually(timeout: .seconds(30)) {
            let curl = try ChildProcess("/usr/bin/env", ["curl", "-sf", "--max-time", "5", "http://127.0.0.1:\(port)/metrics"])
            guard await curl.wait(timeout: .seconds(10)) == 0 else { return false }
            text = curl.output
            return text.contains("# HELP hoopoe_queue_depth ")
        }, "\(worker.output)")
        let help = Dictionary(
            text.split(separator: "\n").filter { $0.hasPrefix("# HELP ") }.map { line in
                let parts = line.dropFirst(7).split(separator: " ", maxSplits: 1)
                return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
            }, uniquingKeysWith: { first, _ in first })
        for gauge in ["depth", "in_flight", "scheduled", "dead", "latency_seconds", "paused"] {
            #expect(help["hoopoe_queue_\(gauge)"]?.contains("aggregate with max by (queue), not sum") == true, "\(gauge): \(help)")
        }
        #expect(help["hoopoe_jobs_in_flight"]?.contains("max by") == false, "this worker's own: it sums")
        worker.signal(SIGTERM)
        _ = await worker.wait(timeout: .seconds(30))
    }
}
