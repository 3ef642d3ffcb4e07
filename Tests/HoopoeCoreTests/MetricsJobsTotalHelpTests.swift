import Foundation
import HoopoeCore
import Redis
import TestSupport
import Testing

/// `hoopoe_jobs_total{outcome="handed_back"}` counts only the jobs a worker's runners held when shutdown ran out of
/// time; the prefetched jobs a pause or a shutdown hands back unrun are not attempts and are not counted. Its `# HELP`
/// and README's Metrics say so (they were silent), and README lists every outcome the help names.
@Suite struct MetricsJobsTotalHelpTests {
    @Test func theHelpAndTheReadmeSayWhatHandedBackCounts() async throws {
        let h = try EngineHarness()
        let port = try RedisServer.freePort()
        let worker = try ChildProcess(BuiltProducts.hoopoe, ["worker", "--metrics-port", String(port)], environment: [
            "REDIS_URL": try TestRedis.url(), "HOOPOE_NAMESPACE": h.namespace, "LOG_LEVEL": "warning",
        ])
        defer { worker.signal(SIGKILL) }
        // The counter, and so its help, exists once a job settled.
        try await h.jobs.enqueue(type: "diag.record", payload: h.diag(key: "\(h.namespace):help", member: "m"))
        var text = ""
        #expect(try await h.eventually(timeout: .seconds(30)) {
            let curl = try ChildProcess("/usr/bin/env", ["curl", "-sf", "--max-time", "5", "http://127.0.0.1:\(port)/metrics"])
            guard await curl.wait(timeout: .seconds(10)) == 0 else { return false }
            text = curl.output
            return text.contains("# HELP hoopoe_jobs_total ")
        }, "\(worker.output)")
        let help = try #require(text.split(separator: "\n").first { $0.hasPrefix("# HELP hoopoe_jobs_total ") }).dropFirst("# HELP hoopoe_jobs_total ".count)
        #expect(help.contains("handed_back: jobs its runners held when shutdown ran out of time"), "\(help)")
        #expect(help.contains("jobs prefetched and handed back unrun (at a pause or a shutdown) are not attempts and are not counted"), "\(help)")

        let readme = try String(contentsOf: BuiltProducts.projectRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let start = try #require(readme.range(of: "\n## Metrics\n"))
        let rest = readme[start.upperBound...]
        let section = rest[..<(rest.range(of: "\n## ")?.lowerBound ?? rest.endIndex)].replacingOccurrences(of: "\n", with: " ")
        let outcomes = try #require(help.firstRange(of: "outcome (").map { help[$0.upperBound...].prefix { $0 != ")" } })
        for outcome in outcomes.split(separator: ", ") {
            #expect(section.contains(outcome), "README's Metrics does not list \(outcome)")
        }
        #expect(section.contains("`handed_back` counts the jobs the worker's runners held when shutdown ran out of time"), "\(section)")
        #expect(section.contains("jobs prefetched and handed back unrun, at a pause or a shutdown, are not attempts and are not counted"), "\(section)")
        worker.signal(SIGTERM)
        _ = await worker.wait(timeout: .seconds(30))
    }
}
