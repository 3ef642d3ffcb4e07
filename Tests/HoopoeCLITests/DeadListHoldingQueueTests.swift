import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// `dead list`, `dead list --json` and `dead show` give the queue whose dead set holds a job, not the queue its envelope
/// names, and `dead list` cuts a long cell as it cuts REASON. Before, an entry XADDed to `default`'s stream naming
/// `"queue":"../../etc/passwd"` was listed under that name (which `--queue` refuses), and a job with a 300-character
/// queue or type widened that column of every row.
@Suite struct DeadListHoldingQueueTests {
    @Test func deadJobsShowTheQueueHoldingThemAndLongCellsAreCut() async throws {
        let h = try CLIHarness()
        let stream = h.jobs.keys("default").stream
        let longQueue = String(repeating: "q", count: 300)
        let longType = String(repeating: "t", count: 300)
        try await h.redis.send("XADD", stream, "*", "job", #"{"id":"claims-etc","type":"diag.record","queue":"../../etc/passwd","payload":{}}"#)
        try await h.redis.send("XADD", stream, "*", "job", #"{"id":"claims-long","type":"diag.record","queue":"\#(longQueue)","payload":{}}"#)
        try await h.redis.send("XADD", stream, "*", "job", #"{"id":"long-type","type":"\#(longType)","payload":{}}"#)
        let worker = try await h.startWorker(["--queues", "default"])
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").dead == 3 }, "\(worker.output.suffix(2000))")
        worker.signal(SIGTERM)
        _ = await worker.wait(timeout: .seconds(10))

        for arguments in [["dead", "list"], ["dead", "list", "--queue", "default"]] {
            let (status, list) = try await h.run(arguments)
            #expect(status == 0, "\(list)")
            let rows = list.split(separator: "\n").map(String.init)
            let row = try #require(rows.first { $0.hasPrefix("claims-etc ") }, "\(list)")
            #expect(row.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first == "default", "\(row)")
            #expect(!row.contains("../../etc/passwd "), "\(row)")
            #expect(!list.contains(String(repeating: "q", count: 80)), "\(list)")
            #expect(!list.contains(String(repeating: "t", count: 80)) && list.contains(String(repeating: "t", count: 79) + "…"), "\(list)")
            // No column padded by one job's long cell: the longest row is the one whose TYPE is cut to 80 characters.
            #expect(rows.allSatisfy { $0.count < 250 }, "\(rows.map(\.count))")
        }

        let (_, json) = try await h.json(["dead", "list", "--json"])
        let jobs = json["jobs"]?.arrayValue ?? []
        #expect(jobs.count == 3)
        #expect(jobs.allSatisfy { $0["queue"] == .string("default") }, "\(jobs.map { $0["queue"] ?? .null })")

        let (showStatus, show) = try await h.run(["dead", "show", "claims-etc"])
        #expect(showStatus == 0 && show.contains("queue:       default\n") && !show.contains("queue:       ../"), "\(show)")
        #expect(show.contains("'../../etc/passwd'"), "the reason keeps the claimed value: \(show)")
        let (_, shownJSON) = try await h.json(["dead", "show", "claims-etc", "--json"])
        #expect(shownJSON["queue"] == .string("default"), "\(shownJSON)")
        #expect(try await h.run(["dead", "show", "claims-long", "--queue", "default"]).status == 0)
    }
}
