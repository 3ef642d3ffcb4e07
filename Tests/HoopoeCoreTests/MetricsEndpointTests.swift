import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// `hoopoe worker --metrics-port`: the output parses with Prometheus's own text-format parser
/// (prometheus_client), and the counters move when jobs run.
@Suite struct MetricsEndpointTests {
    /// Scrapes `/metrics` and returns `hoopoe_jobs_total` samples as "type/outcome" → value.
    private func scrape(port: Int) async throws -> [String: Double] {
        let parse = """
            import json, sys, urllib.request
            from prometheus_client.parser import text_string_to_metric_families
            text = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=5).read().decode()
            out = {"_families": [f.name for f in text_string_to_metric_families(text)]}
            for family in text_string_to_metric_families(text):
                for s in family.samples:
                    if s.name == "hoopoe_jobs_total":
                        out[s.labels["type"] + "/" + s.labels["outcome"]] = s.value
            print(json.dumps(out))
            """
        let child = try ChildProcess("/usr/bin/env", ["python3", "-c", parse, String(port)])
        guard await child.wait(timeout: .seconds(20)) == 0 else { throw TestSupportError("scrape failed: \(child.output)") }
        let object = try JSONSerialization.jsonObject(with: Data(child.output.utf8)) as? [String: Any] ?? [:]
        var result: [String: Double] = [:]
        for (key, value) in object { if let number = value as? Double { result[key] = number } }
        if let families = object["_families"] as? [String] { for name in families { result["family:" + name] = 1 } }
        return result
    }

    @Test func prometheusOutputParsesAndCountersMove() async throws {
        let h = try EngineHarness()
        let port = Int.random(in: 20_000...60_000)
        let worker = try ChildProcess(BuiltProducts.hoopoe, ["worker", "--metrics-port", String(port)], environment: [
            "REDIS_URL": try TestRedis.url(), "HOOPOE_NAMESPACE": h.namespace, "LOG_LEVEL": "warning",
        ])
        defer { worker.signal(SIGKILL) }
        var before: [String: Double] = [:]
        #expect(try await h.eventually { (before = (try? await scrape(port: port)) ?? [:]); return !before.isEmpty }, "\(worker.output)")
        #expect(before["diag.record/processed"] == nil)

        let key = "\(h.namespace):m"
        _ = try await h.jobs.enqueueBatch((0..<25).map { (type: "diag.record", payload: h.diag(key: key, member: "m\($0)"), options: EnqueueOptions()) })
        try await h.jobs.enqueue(type: "no.such.type", payload: .object([:]))
        #expect(try await h.eventually { try await h.recorded(key).count == 25 })
        var after: [String: Double] = [:]
        #expect(try await h.eventually {
            after = try await scrape(port: port)
            return after["diag.record/processed"] == 25 && after["no.such.type/dead"] == 1
        }, "\(after)")
        #expect(after["family:hoopoe_job_duration_seconds"] == 1)
        #expect(after["family:hoopoe_queue_depth"] == 1 && after["family:hoopoe_jobs_in_flight"] == 1)
    }
}
