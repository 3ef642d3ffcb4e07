import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// A worker's queue whose stream key holds another type (`SET` on it: `WRONGTYPE`) failed the gauges' whole read: every
/// queue's gauges kept their last values (0 at start) and `hoopoe_queue_metrics_up` said 0, Redis "did not answer".
/// Now that queue's `hoopoe_queue_unreadable` is 1, and the other queues are read as usual.
@Suite struct MetricsWrongTypedQueueTests {
    /// One scrape's samples as `name{label=value,...}`.
    private func scrape(port: Int) async throws -> [String: Double] {
        let parse = """
            import json, re, sys, urllib.request
            text = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=5).read().decode()
            found = re.findall(r'^(hoopoe_[a-z_]+)(?:\\{([^}]*)\\})? (\\S+)$', text, re.M)
            print(json.dumps({name + "{" + labels.replace('\"', '') + "}": float(value) for name, labels, value in found}))
            """
        let child = try ChildProcess("/usr/bin/env", ["python3", "-c", parse, String(port)])
        guard await child.wait(timeout: .seconds(20)) == 0 else { throw TestSupportError("scrape failed: \(child.output)") }
        return try JSONSerialization.jsonObject(with: Data(child.output.utf8)) as? [String: Double] ?? [:]
    }

    @Test func aWrongTypedQueueIsMarkedAndTheOthersAreRead() async throws {
        let h = try EngineHarness()
        _ = try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(runAt: Date() + 3600))
        let stream = h.jobs.keys("mail").stream
        _ = try await h.redis.send("SET", stream, "oops")
        let port = try RedisServer.freePort()
        let worker = try ChildProcess(BuiltProducts.hoopoe, ["worker", "--queues", "default,mail", "--metrics-port", String(port)], environment: [
            "REDIS_URL": try TestRedis.url(), "HOOPOE_NAMESPACE": h.namespace, "LOG_LEVEL": "warning",
        ])
        defer { worker.signal(SIGKILL) }
        var samples: [String: Double] = [:]
        #expect(try await eventually { (samples = (try? await scrape(port: port)) ?? samples); return samples["hoopoe_queue_metrics_up{}"] == 1 },
            "\(samples) \(worker.output)")
        #expect(samples["hoopoe_queue_scheduled{queue=default}"] == 1, "\(samples)")
        #expect(samples["hoopoe_queue_unreadable{queue=mail}"] == 1 && samples["hoopoe_queue_unreadable{queue=default}"] == 0, "\(samples)")

        // Mended: read again at the next scrape.
        _ = try await h.redis.send("DEL", stream)
        #expect(try await eventually { (samples = (try? await scrape(port: port)) ?? samples); return samples["hoopoe_queue_unreadable{queue=mail}"] == 0 },
            "\(samples)")
        worker.signal(SIGTERM)
        _ = await worker.wait(timeout: .seconds(30))
    }
}
