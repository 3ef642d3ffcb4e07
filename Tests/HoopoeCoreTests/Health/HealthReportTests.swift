import HoopoeCore
import HoopoeJSON
import Testing

/// The report's verdict and its documented JSON shape, without Redis.
struct HealthReportTests {
    @Test func verdictFollowsTheWorstFinding() {
        let ok = HealthFinding(name: "a", status: .ok, message: "fine")
        let warn = HealthFinding(name: "b", status: .warn, message: "look")
        let fail = HealthFinding(name: "c", status: .fail, message: "broken")
        #expect(HealthReport(findings: [ok, warn]).verdict == .healthy)
        #expect(HealthReport(findings: [ok, fail]).verdict == .unhealthy)
        #expect(HealthReport(findings: [ok], reachable: false).verdict == .unreachable)
        #expect([HealthVerdict.healthy, .unhealthy, .unreachable].map(\.exitCode) == [0, 1, 2])
    }

    @Test func jsonHasStatusAndChecksWithNumbersBesideTheName() throws {
        let report = HealthReport(findings: [
            HealthFinding(name: "redis", status: .ok, message: "PONG", numbers: ["round_trip_ms": 0.25]),
            HealthFinding(name: "workers", status: .fail, message: "none", numbers: ["live_workers": 0]),
        ])
        let json = report.json
        #expect(json["status"] == .string("unhealthy"))
        let checks = try #require(json["checks"]?.arrayValue)
        #expect(checks.count == 2)
        #expect(checks[0]["name"] == .string("redis"))
        #expect(checks[0]["status"] == .string("ok"))
        #expect(checks[0]["round_trip_ms"] == .double(0.25))
        #expect(checks[1]["live_workers"] == .integer(0), "whole numbers are integers")
        #expect(JSONValue.parse(json.encoded()) == json)
    }
}
