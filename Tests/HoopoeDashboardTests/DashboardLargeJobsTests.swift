import Foundation
import HoopoeCore
import HoopoeDashboard
import HoopoeJSON
import Testing

/// The dashboard's pages over stored jobs of the envelope limit's size: each reads a bounded number of bytes. Its own
/// suite, in the Makefile's HEAVY_SUITES: it writes 20 MB to the shared test Redis and reads 24 MiB back, which in the
/// parallel phase delayed other suites' commands past their timing bounds (a heartbeat test's beats).
@Suite struct DashboardLargeJobsTests {
    /// Large dead jobs (a plain `XADD` may write envelopes of 512 KiB): the filter stops at 16 MiB of them and offers
    /// to go on, and the search stops at its share and says so — neither pulls the whole set through the dashboard.
    @Test func largeDeadJobsStopTheFilterAndTheSearchAtTheirBytes() async throws {
        let harness = try DashboardHarness()
        let blob = String(repeating: "x", count: 500 * 1024)
        for n in 0..<40 { try await harness.bury(id: "big-\(n)", payload: ["blob": .string(blob)]) }
        let page = try await harness.get("/dead?queue=default&type=no.such.type")
        let looked = try #require(page.text.firstMatch(of: /among the (\d+) looked at/).flatMap { Int($0.1) })
        #expect((32...34).contains(looked), "16 MiB of 500 KiB jobs, and the one that crossed it: \(looked)")
        #expect(page.text.contains("offset=\(looked)") && page.text.contains("older »"))
        #expect(page.text.contains("(16 MiB of them)"))

        let search = try await harness.get("/search?type=no.such.type")
        #expect(search.text.contains("the search stopped before 1000 jobs of a place"), "\(search.text.suffix(600))")
        let small = try DashboardHarness(name: "small dead jobs")
        try await small.bury(id: "small-1")
        #expect(try await !small.get("/search?type=no.such.type").text.contains("the search stopped"))
    }
}
