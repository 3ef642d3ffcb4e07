import Foundation
import HTTPTypes
import HoopoeCore
import HoopoeDashboard
import Redis
import TestSupport
import Testing

/// A queue whose keys were written by hand under a name no queue may have (a raw `XADD` to `<ns>:{<b>q x</b>}:stream`,
/// or a 3,000-character name) is listed on Overview and Queues with a note saying so, its name cut, and no link or
/// action: its links led to "No queue can be named", and Pause answered 400.
@Suite struct InvalidQueueNameTests {
    static let long = String(repeating: "q", count: 3000)

    @Test func aQueueNamedAgainstTheRulesIsListedWithANoteAndNoActions() async throws {
        let harness = try DashboardHarness()
        for name in ["<b>q x</b>", Self.long, "mail"] {
            _ = try await harness.redis.send(
                "XADD", "\(harness.jobs.namespace):{\(name)}:stream", "*", "job",
                #"{"id":"j","type":"diag.record","queue":"mail","payload":{},"attempt":0,"enqueued_at":1795400000}"#)
        }
        for path in ["/", "/queues"] {
            let page = try await harness.get(path).text
            let rows = page.components(separatedBy: "<tr").filter { $0.contains("data-queue=") }
            let markup = try #require(rows.first { $0.contains("&lt;b&gt;q x&lt;/b&gt;") }, "\(path) lists it: \(page)")
            #expect(markup.contains("not a queue name (it may only contain"), "\(path): \(markup)")
            #expect(!markup.contains("href=") && !markup.contains("<form"), "\(path): no link, no action: \(markup)")
            #expect(!page.contains("<b>q x</b>"), "escaped")
            let long = try #require(rows.first { $0.contains(String(repeating: "q", count: 40) + "…") }, "\(path): \(page)")
            #expect(long.contains("must be at most 64 characters (got 3000)") && !long.contains(String(repeating: "q", count: 41)), "\(path): \(long)")
            #expect(!long.contains("href=") && !long.contains("<form"), "\(path): \(long)")
            let mail = try #require(rows.first { $0.contains("data-queue=\"mail\"") })
            #expect(mail.contains("href=\"/dead?queue=mail\"") && !mail.contains("not a queue name"), "a valid queue keeps its links: \(mail)")
        }
        #expect(try await harness.get("/queues").text.contains("action=\"/queues/pause\""), "mail keeps its Pause")
        // The dead page's picker offers no link that would lead to "No queue can be named".
        let dead = try await harness.get("/dead").text
        #expect(!dead.contains("q x") && !dead.contains(String(repeating: "q", count: 40)), "\(dead)")
    }

    /// The scheduled page's picker offered every known name, a key-like string (`a:scheduled`) or one with a space
    /// among them, and chose the first when it sorted first: its link led to "No queue can be named". As the dead page
    /// and the Queues page's actions, it lists only names a queue may have.
    @Test func theScheduledPickerListsOnlyValidNames() async throws {
        let harness = try DashboardHarness()
        for name in ["a q", "a:scheduled", "mail"] {
            _ = try await harness.redis.send("ZADD", "\(harness.jobs.namespace):{\(name)}:scheduled", "1", "j")
        }
        let page = try await harness.get("/scheduled").text
        let picker = page.components(separatedBy: "<p class=\"queues\">").dropFirst().first?.components(separatedBy: "</p>").first ?? ""
        #expect(picker.contains("<strong>mail (1)</strong>"), "mail, the one valid name, is the page shown: \(page)")
        #expect(!picker.contains("a q") && !picker.contains("a:scheduled"), "\(picker)")
        #expect(!page.contains("No queue can be named"), "\(page)")
    }
}
