import Foundation
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// `hoopoe queues` agrees with the dashboard on a queue whose keys were written under a name no queue may have: listed,
/// its name cut to 40 characters, with a note saying why no worker serves it ("name_problem" in --json).
@Suite struct QueuesInvalidNameTests {
    @Test func aQueueNamedAgainstTheRulesIsListedWithWhy() async throws {
        let h = try CLIHarness()
        let long = String(repeating: "q", count: 3000)
        for name in ["<b>q x</b>", long, "mail"] {
            _ = try await h.redis.send(
                "XADD", "\(h.namespace):{\(name)}:stream", "*", "job",
                #"{"id":"j","type":"diag.record","queue":"mail","payload":{},"attempt":0,"enqueued_at":1795400000}"#)
        }
        let (status, text) = try await h.run(["queues"])
        #expect(status == 0, "\(text)")
        #expect(text.contains("<b>q x</b>: not a queue name (it may only contain"), "\(text)")
        #expect(text.contains(String(repeating: "q", count: 40) + "…: not a queue name (it must be at most 64 characters (got 3000))"), "\(text)")
        #expect(!text.contains(String(repeating: "q", count: 41)), "the name is cut")
        #expect(text.contains("no worker can serve it"), "\(text)")
        #expect(!text.contains("mail: not a queue name"), "\(text)")

        let (_, json) = try await h.json(["queues", "--json"])
        guard case .array(let queues)? = json["queues"] else { Issue.record("\(json)"); return }
        let problems = Dictionary(queues.compactMap { queue in queue["name"]?.stringValue.map { ($0, queue["name_problem"] ?? JSONValue.null) } }) { first, _ in first }
        #expect(problems["mail"] == JSONValue.null, "\(problems)")
        #expect(problems["<b>q x</b>"]?.stringValue?.hasPrefix("may only contain") == true, "\(problems)")
        #expect(problems[long]?.stringValue == "must be at most 64 characters (got 3000)", "\(problems)")
    }
}
