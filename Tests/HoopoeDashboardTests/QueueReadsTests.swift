import Foundation
import HTTPTypes
import HoopoeCore
import HoopoeDashboard
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// A queue whose stream key holds another type (an operator's `SET` on it, another application's key: `WRONGTYPE`)
/// failed every page that reads each queue, whole: "Redis did not answer this page's reads" (503), whatever the other
/// queues held. Each page now shows the healthy queues and names that one in its row, in the words of `hoopoe queues`
/// ("cannot be read: … WRONGTYPE … (queue mail: key …)").
@Suite struct QueueReadsTests {
    /// Two queues with a ready and a scheduled job each, then `mail`'s stream key overwritten with a string.
    private func twoQueuesOneWrongTyped(name: String = #function) async throws -> (DashboardHarness, readyID: String) {
        let harness = try DashboardHarness(name: name)
        var readyID = ""
        for queue in ["default", "mail"] {
            let id = "ready-\(queue)"
            _ = try await harness.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: queue, id: id))
            if queue == "default" { readyID = id }
            _ = try await harness.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: queue, runAt: Date() + 3600))
        }
        let stream = harness.jobs.keys("mail").stream
        _ = try await harness.redis.pipeline([RedisCommand("DEL", stream), RedisCommand("SET", stream, "oops")])
        return (harness, readyID)
    }

    /// The row of `queue` in a table of queues (`data-queue="…"`).
    private func row(_ page: String, _ queue: String) -> String {
        page.components(separatedBy: "<tr").first { $0.contains("data-queue=\"\(queue)\"") } ?? ""
    }

    /// What `hoopoe queues` says of the queue: the reply, and the queue and the key Redis names neither of.
    private func namesTheKey(_ text: String, _ harness: DashboardHarness) -> Bool {
        text.contains("cannot be read:") && text.contains("WRONGTYPE") && text.contains("(queue mail: key \(harness.jobs.keys("mail").stream))")
    }

    @Test func overviewAndQueuesShowTheOthersAndNameItInItsRow() async throws {
        let (harness, _) = try await twoQueuesOneWrongTyped()
        for path in ["/", "/queues"] {
            let page = try await harness.get(path)
            #expect(page.status == .ok, "\(path): \(page.text)")
            let mail = row(page.text, "mail")
            #expect(namesTheKey(mail, harness), "\(path): \(mail)")
            #expect(!mail.contains("<form"), "\(path): no Pause for a queue whose numbers are unknown: \(mail)")
            let other = row(page.text, "default")
            #expect(other.contains("<td class=\"num\">1</td>") && !other.contains("cannot be read"), "\(path): \(other)")
        }
        #expect(try await harness.get("/queues").text.contains("action=\"/queues/pause\""), "default keeps its Pause")
    }

    @Test func busySearchJobAndClearNameIt() async throws {
        let (harness, readyID) = try await twoQueuesOneWrongTyped()
        let busy = try await harness.get("/busy")
        #expect(busy.status == .ok && namesTheKey(row(busy.text, "mail"), harness), "\(busy.text)")

        let search = try await harness.get("/search?type=diag.record")
        #expect(search.status == .ok, "\(search.text)")
        #expect(search.text.contains(readyID), "default's jobs are found: \(search.text)")
        #expect(search.text.contains("queue mail cannot be read:") && search.text.contains("WRONGTYPE"), "\(search.text)")

        // Looked for in every queue: found in default, mail named when it is not found anywhere.
        #expect(try await harness.get("/job?id=\(readyID)").text.contains("ready (waiting for a worker)"))
        let missing = try await harness.get("/job?id=no-such-job")
        #expect(missing.status == .ok && missing.text.contains("queue mail cannot be read:"), "\(missing.text)")
        let inMail = try await harness.get("/job?id=no-such-job&queue=mail")
        #expect(inMail.status == .ok && inMail.text.contains("could not be looked for") && inMail.text.contains("queue mail cannot be read:"), "\(inMail.text)")

        let clear = try await harness.get("/queues/clear?queue=mail")
        #expect(clear.status == .ok && namesTheKey(clear.text, harness) && !clear.text.contains("<form class=\"clear-queue\""), "\(clear.text)")
    }

    /// The scheduled and dead pages read the scheduled and dead sets: a stream key of another type leaves them whole;
    /// a scheduled set of another type is said in the picker and on its queue's page.
    @Test func scheduledAndDeadPagesNameAWrongTypedSet() async throws {
        let (harness, _) = try await twoQueuesOneWrongTyped()
        let scheduled = try await harness.get("/scheduled?queue=mail")
        #expect(scheduled.status == .ok && scheduled.text.contains("mail (1)"), "the stream is not read here: \(scheduled.text)")

        let set = harness.jobs.keys("default").scheduled
        _ = try await harness.redis.pipeline([RedisCommand("DEL", set), RedisCommand("SET", set, "oops")])
        let page = try await harness.get("/scheduled?queue=default")
        #expect(page.status == .ok, "\(page.text)")
        #expect(page.text.contains("queue default cannot be read:") && page.text.contains("WRONGTYPE"), "\(page.text)")
        #expect(page.text.contains(">cannot be read</span>") && page.text.contains("mail (1)"), "the picker: \(page.text)")
        #expect(try await harness.get("/scheduled?queue=mail").text.contains("mail (1)"))

        let dead = harness.jobs.keys("mail").dead
        _ = try await harness.redis.pipeline([RedisCommand("DEL", dead), RedisCommand("SET", dead, "oops")])
        let deadPage = try await harness.get("/dead?queue=mail")
        #expect(deadPage.status == .ok && deadPage.text.contains("queue mail cannot be read:"), "\(deadPage.text)")
        #expect(try await harness.get("/dead?queue=default").status == .ok)
    }
}
