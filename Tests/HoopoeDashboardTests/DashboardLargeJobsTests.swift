import Foundation
import HoopoeCore
import HoopoeDashboard
import HoopoeJSON
import Redis
import Testing

/// The dashboard's pages over stored jobs of the envelope limit's size: each reads a bounded number of bytes. Its own
/// suite, in the Makefile's HEAVY_SUITES: it writes 20 MB to the shared test Redis and reads 24 MiB back, which in the
/// parallel phase delayed other suites' commands past their timing bounds (a heartbeat test's beats).
@Suite(.serialized) struct DashboardLargeJobsTests {
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

    /// A job page for an id the stream does not hold reads each place of the stream as far as its byte budget: it read
    /// a thousand entries from each, and of 500 KiB envelopes that was every byte of the stream, twice (the oldest and
    /// the newest), for any request, which any web page may make of a dashboard on loopback without a password.
    @Test func aJobLookupStopsAtItsBytesInALargeBacklog() async throws {
        let harness = try DashboardHarness()
        let stream = harness.jobs.keys("large").stream
        let blob = String(repeating: "x", count: 500 * 1024)
        for n in 0..<60 {
            let envelope = JobEnvelope(id: "large-\(n)", type: "diag.record", queue: "large", payload: ["blob": .string(blob)], enqueuedAt: 1)
            try await harness.redis.send("XADD", stream, "*", "job", String(decoding: envelope.encoded(), as: UTF8.self))
        }
        let before = try await outputBytes(harness)
        let page = try await harness.get("/job?id=not-in-the-stream&queue=large")
        let read = try await outputBytes(harness) - before
        #expect(page.text.contains("at most \(StreamSearch.placeByteBudget >> 20) MiB from each"), "\(page.text.suffix(800))")
        // Two places (the oldest and the newest: the id carries no time), 8 MiB each and the entry that crossed it; the
        // stream holds 30 MiB.
        #expect(read < 2 * (StreamSearch.placeByteBudget + 1_100_000), "\(read) bytes read")
        // A job of the stream is still found, from either end.
        #expect(page.text.contains("No job <code>not-in-the-stream</code>"))
        #expect(try await !harness.get("/job?id=large-2&queue=large").text.contains("No job <code>"))
        #expect(try await harness.jobs.find(id: "large-2", queue: "large", stream: .bounded)?.state == .ready)
        #expect(try await harness.jobs.find(id: "large-58", queue: "large", stream: .bounded)?.state == .ready)
    }

    /// Without a queue the lookup goes through every queue, and they share its bytes; an entry weighs all its fields (a
    /// worker reads the `job` field wherever it is: a small field after a large one made the entry cost a byte).
    @Test func aLookupInEveryQueueSharesItsBytes() async throws {
        let harness = try DashboardHarness()
        let blob = String(repeating: "x", count: 500 * 1024)
        let queues = ["big-a", "big-b", "big-c"]
        for queue in queues {
            for n in 0..<24 {
                let envelope = JobEnvelope(id: "\(queue)-\(n)", type: "diag.record", queue: queue, payload: ["blob": .string(blob)], enqueuedAt: 1)
                try await harness.redis.send(
                    "XADD", harness.jobs.keys(queue).stream, "*", "job", String(decoding: envelope.encoded(), as: UTF8.self), "note", "x")
            }
        }
        let before = try await outputBytes(harness)
        let page = try await harness.get("/job?id=not-in-any-stream")
        let read = try await outputBytes(harness) - before
        #expect(page.text.contains("No job <code>not-in-any-stream</code> in any of the 3 known queues"), "\(page.text.suffix(800))")
        let share = StreamSearch.placeByteBudget / queues.count
        // Three queues, two places each (the id carries no time), each its share and the entry that crossed it; the
        // streams hold 36 MiB.
        #expect(read < queues.count * 2 * (share + 600_000), "\(read) bytes read")
        #expect(try await harness.get("/job?id=big-b-23").text.contains("No job <code>") == false)
    }

    /// What the test Redis has sent to its clients, all of them (this suite runs alone: HEAVY_SUITES).
    private func outputBytes(_ harness: DashboardHarness) async throws -> Int {
        let info = try await harness.redis.send("INFO", "stats").string ?? ""
        let line = try #require(info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("total_net_output_bytes:") })
        return try #require(Int(line.dropFirst("total_net_output_bytes:".count)))
    }
}
