import Foundation
import HTTPTypes
import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// The busy page reads the jobs workers hold with `XPENDING`, then each one's envelope with `XRANGE`. It read an error
/// reply to either as no rows: a dashboard whose ACL user lacked `XPENDING` said "No job is held by a worker" while
/// workers held 60, where docs/operating.md says a page names a command the ACL refuses (the overview did).
@Suite struct BusyPageRedisErrorsTests {
    /// A user of the shared test Redis with every command but `denied`, and a dashboard reading through it.
    private func narrowDashboard(without denied: String, name: String = #function) async throws -> (DashboardHarness, cleanup: () async -> Void) {
        let admin = try TestRedis.client()
        let user = "dash-busy-\(UInt32.random(in: 0...UInt32.max))"
        try await admin.send(RedisCommand("ACL", ["SETUSER", user, "on", ">pw", "~*", "&*", "+@all", "-\(denied)"]))
        let url = try TestRedis.url().replacingOccurrences(of: "redis://", with: "redis://\(user):pw@")
        let narrow = try RedisClient(url: url)
        let harness = try DashboardHarness(redis: narrow, name: name)
        return (harness, {
            narrow.close()
            _ = try? await admin.send("ACL", "DELUSER", user)
            admin.close()
        })
    }

    /// One job held by consumer `w1` in the harness's default queue, delivered through `admin` (the full user).
    private func holdOneJob(_ harness: DashboardHarness) async throws {
        let admin = try TestRedis.client()
        defer { admin.close() }
        let keys = harness.jobs.keys("default")
        let id = UUID().uuidString
        _ = try await admin.send("XADD", keys.stream, "*", "job", #"{"id":"\#(id)","type":"diag.record","queue":"default","payload":{}}"#)
        _ = try await admin.pipeline([RedisCommand("XGROUP", "CREATE", keys.stream, QueueKeys.group, "0", "MKSTREAM")])
        _ = try await admin.send("XREADGROUP", "GROUP", QueueKeys.group, "w1", "COUNT", "1", "STREAMS", keys.stream, ">")
    }

    @Test(arguments: ["xpending", "xrange"])
    func aReadTheACLRefusesIsNamedNotShownAsNoJob(denied: String) async throws {
        let (harness, cleanup) = try await narrowDashboard(without: denied, name: "busyRefused-\(denied)")
        try await holdOneJob(harness)
        let page = try await harness.get("/busy")
        await cleanup()
        #expect(page.status == .serviceUnavailable, "\(page.text)")
        #expect(page.text.contains("refused") && page.text.contains(denied.uppercased()), "\(page.text)")
        #expect(!page.text.contains("No job is held by a worker"), "\(page.text)")
    }

    /// Before any worker created the group, `XPENDING` answers NOGROUP: nobody holds a job, and the page says so.
    @Test func aQueueNoWorkerServedYetHoldsNothing() async throws {
        let harness = try DashboardHarness()
        _ = try await harness.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "default"))
        #expect(try await harness.jobs.store.heldEntries(queue: "default", limit: 10).isEmpty)
        let page = try await harness.get("/busy")
        #expect(page.status == .ok && page.text.contains("No job is held by a worker"), "\(page.text)")
    }
}
