import Foundation
import HTTPTypes
import HoopoeCore
import HoopoeDashboard
import HoopoeJSON
import Testing

/// `--base-path`: behind a proxy on a sub-path, every route answers under it and every link, form action, asset URL
/// and redirect the dashboard sends carries it.
@Suite struct BasePathTests {
    @Test func aPrefixIsAPlainPathOrRefused() {
        #expect(BasePath("hoopoe")?.value == "/hoopoe")
        #expect(BasePath("/hoopoe/")?.value == "/hoopoe")
        #expect(BasePath("/ops/hoopoe-1.x_~")?.value == "/ops/hoopoe-1.x_~")
        #expect(BasePath("")?.value == "" && BasePath("/")?.value == "")
        for bad in ["/a//b", "/../x", "/./x", "/a b", "/a?x=1", "/a\"b", "/a#b", "/a%2Fb", "/é"] {
            #expect(BasePath(bad) == nil, "\(bad)")
        }
    }

    /// Every `href`, `action` and `src` of `page` that is a path (not `#…` or a full URL).
    private func paths(_ page: String) -> [String] {
        let pattern = try! NSRegularExpression(pattern: " (?:href|action|src)=\"([^\"]*)\"")
        return pattern.matches(in: page, range: NSRange(page.startIndex..., in: page)).compactMap { match in
            Range(match.range(at: 1), in: page).map { String(page[$0]) }
        }.filter { $0.hasPrefix("/") }
    }

    @Test func everyLinkFormAndAssetOfEveryPageCarriesThePrefix() async throws {
        let harness = try DashboardHarness(basePath: BasePath("/hoopoe")!)
        let id = try await harness.bury(type: "sms.send", reason: "provider timeout")
        try await harness.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "default", runAt: Date() + 3600))
        for path in ["/", "/queues", "/busy", "/scheduled", "/dead", "/dead?queue=default&error=timeout", "/periodic", "/search", "/providers", "/job?id=\(id)"] {
            let reply = try await harness.get("/hoopoe" + path)
            #expect(reply.status == .ok, "\(path): \(reply.status)")
            let links = paths(reply.text)
            #expect(links.count >= 12, "\(path): the navigation, assets and search form at least")
            #expect(links.allSatisfy { $0.hasPrefix("/hoopoe/") }, "\(path): \(links.filter { !$0.hasPrefix("/hoopoe/") })")
        }
        #expect(try await harness.get("/hoopoe/").status == .ok)
        #expect(try await harness.get("/hoopoe/assets/app.css").status == .ok)
        #expect(try await harness.get("/dead").status == .notFound, "only under the prefix")
        #expect(try await harness.get("/assets/app.css").status == .notFound)
    }

    @Test func redirectsAfterActionsCarryThePrefix() async throws {
        let harness = try DashboardHarness(basePath: BasePath("/hoopoe")!)
        let id = try await harness.bury()
        try await harness.bury()
        let deleted = try await harness.post("/hoopoe/dead/action", "csrf=\(harness.token.value)&queue=default&do=delete&id=\(id)")
        #expect(deleted.status == .seeOther)
        #expect(deleted.headers[.location]?.hasPrefix("/hoopoe/dead?queue=default&notice=Deleted%201") == true, "\(String(describing: deleted.headers[.location]))")
        let bulk = try await harness.post("/hoopoe/dead/action", "csrf=\(harness.token.value)&queue=default&do=retry-all")
        #expect(bulk.headers[.location]?.hasPrefix("/hoopoe/dead/progress?run=") == true, "\(String(describing: bulk.headers[.location]))")
        let progress = try await harness.get(try #require(bulk.headers[.location]))
        #expect(progress.status == .ok && paths(progress.text).allSatisfy { $0.hasPrefix("/hoopoe/") })
        #expect(try await harness.post("/hoopoe/queues/pause", "queue=default").status == .forbidden, "the token is still required")
    }

    @Test func atTheRootLinksAreRootPaths() async throws {
        let harness = try DashboardHarness()
        let page = try await harness.get("/")
        #expect(page.text.contains(" href=\"/dead\"") && page.text.contains(" href=\"/assets/app.css\""))
    }
}
