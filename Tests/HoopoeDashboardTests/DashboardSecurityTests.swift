import Foundation
import HTTPTypes
import HoopoeCore
import HoopoeDashboard
import HoopoeJSON
import Hummingbird
import Testing

/// What the Security section promises: basic auth when a password is set, a CSRF token on every action
/// (403 and nothing changed without it), read-only refusing actions, payloads escaped, secrets and phones hidden.
@Suite struct DashboardSecurityTests {
    @Test func aPostWithoutTheTokenIsRefusedAndChangesNothing() async throws {
        let harness = try DashboardHarness()
        let id = try await harness.bury()
        for form in ["queue=default&do=retry&id=\(id)", "queue=default&do=retry&id=\(id)&csrf=wrong", "queue=default&do=delete-all&csrf="] {
            let reply = try await harness.post("/dead/action", form)
            #expect(reply.status == .forbidden, "\(form)")
        }
        #expect(try await harness.deadCount() == 1)
        #expect(try await harness.streamLength() == 0)
        // The same form with the page's token is carried out: the job is back on its queue.
        let reply = try await harness.post("/dead/action", "csrf=\(harness.token.value)&queue=default&do=retry&id=\(id)")
        #expect(reply.status == .seeOther)
        #expect(try await harness.deadCount() == 0)
        #expect(try await harness.streamLength() == 1)
    }

    /// A GET needs no token: an offset no set reaches must get a page, not trap the process in its arithmetic.
    @Test func anOffsetPastAnyNumberGetsAPageNotACrash() async throws {
        let harness = try DashboardHarness()
        _ = try await harness.bury()
        try await harness.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "default", runAt: Date() + 3600))
        for offset in ["9223372036854775807", "9223372036854775800", "4611686018427387904", "-9223372036854775808"] {
            for page in ["/scheduled?queue=default&offset=", "/dead?queue=default&offset=", "/dead?queue=default&type=diag.record&offset="] {
                let reply = try await harness.get(page + offset)
                #expect(reply.status == .ok, "\(page)\(offset): \(reply.status)")
            }
        }
        // The store's own ranges saturate too, for callers other than the dashboard.
        #expect(try await harness.jobs.store.scheduledEntries(queue: "default", offset: .max, limit: 50).isEmpty)
        #expect(try await harness.jobs.store.deadEntries(queue: "default", offset: .max - 3, limit: 50).isEmpty)
    }

    @Test func formsCarryTheToken() async throws {
        let harness = try DashboardHarness()
        try await harness.bury()
        let page = try await harness.get("/dead")
        #expect(page.text.contains("name=\"csrf\" value=\"\(harness.token.value)\""))
    }

    @Test func aPasswordGuardsEveryPage() async throws {
        let harness = try DashboardHarness(password: "s3cret")
        for path in ["/", "/queues", "/dead", "/assets/app.css", "/job?id=x"] {
            let reply = try await harness.get(path)
            #expect(reply.status == .unauthorized, "\(path)")
            #expect(reply.headers[.wwwAuthenticate]?.hasPrefix("Basic") == true)
        }
        let wrong = "Basic " + Data("admin:guess".utf8).base64EncodedString()
        #expect(try await harness.get("/", headers: [.authorization: wrong]).status == .unauthorized)
        let right = "Basic " + Data("anyone:s3cret".utf8).base64EncodedString()
        #expect(try await harness.get("/", headers: [.authorization: right]).status == .ok)
        // A POST without the password is refused before its token is even looked at.
        #expect(try await harness.post("/dead/action", "csrf=\(harness.token.value)&queue=default&do=delete-all").status == .unauthorized)
    }

    @Test func readOnlyHidesAndRefusesEveryAction() async throws {
        let harness = try DashboardHarness(readOnly: true)
        let id = try await harness.bury()
        let page = try await harness.get("/dead")
        #expect(page.status == .ok)
        #expect(!page.text.contains("method=\"post\""))
        #expect(!page.text.contains("name=\"csrf\""))
        let job = try await harness.get("/job?queue=default&id=\(id)")
        #expect(!job.text.contains("method=\"post\""))
        let reply = try await harness.post("/dead/action", "csrf=\(harness.token.value)&queue=default&do=delete&id=\(id)")
        #expect(reply.status == .forbidden)
        #expect(reply.text.contains("read-only"), "refused as read-only, the token being right: \(reply.text)")
        #expect(try await harness.deadCount() == 1)
    }

    @Test func aScriptInAPayloadRendersAsText() async throws {
        let harness = try DashboardHarness()
        let attack = "<script>document.title='pwned'</script><img src=x onerror=alert(1)>"
        let id = try await harness.bury(payload: .object(["note": .string(attack)]), reason: "failed on \(attack)")
        for path in ["/job?id=\(id)", "/dead?queue=default"] {
            let page = try await harness.get(path)
            #expect(page.status == .ok)
            #expect(!page.text.contains("<script>document"), "\(path)")
            #expect(!page.text.contains("<img src=x"), "\(path)")
            #expect(page.text.contains("&lt;script&gt;document.title="), "\(path)")
        }
    }

    @Test func secretsAndPhonesNeverReachAPage() async throws {
        let harness = try DashboardHarness()
        let id = try await harness.bury(
            type: "sendinblue.register",
            payload: .object(["password": "hunter2-secret", "mobile": "09121234567", "email": "a@example.com"]), reason: "call 09121234567")
        for path in ["/job?id=\(id)", "/job?queue=default&id=\(id)", "/dead?queue=default"] {
            let page = try await harness.get(path)
            #expect(page.status == .ok)
            #expect(!page.text.contains("hunter2-secret"), "\(path)")
            #expect(!page.text.contains("09121234567"), "\(path)")
        }
        let job = try await harness.get("/job?id=\(id)")
        #expect(job.text.contains("0912****567"))
        #expect(job.text.contains("a***@example.com") && !job.text.contains("a@example.com"), "an email address is personal data: masked")
    }

    @Test func pagesSendHeadersThatStopFramingAndInlineScript() async throws {
        let harness = try DashboardHarness()
        let page = try await harness.get("/")
        #expect(page.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
        #expect(page.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
        #expect(page.headers[.cacheControl] == "no-store")
    }
}
