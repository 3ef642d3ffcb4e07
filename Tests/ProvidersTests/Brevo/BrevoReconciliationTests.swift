import ProviderFakes
import Providers
import Synchronization
import Testing

/// Create-child and add-credits are not idempotent; these are the reconciliation paths of docs/providers.md §4.2.
@Suite("Brevo reconciliation after unknown outcomes")
struct BrevoReconciliationTests {
    static let josh = BrevoNewChild(
        email: "josh.cruise@example.com", firstName: "Josh", lastName: "Cruise", companyName: "Your Company", password: "Pa55w0rd65")

    @Test func createdThenTimedOutIsFoundByEmail() async throws {
        try await withHarness { h in
            // The deadline must let the request reach the fake (which then creates the child) even on a
            // loaded machine, and end well before the fake's delayed answer.
            await h.control.enqueue(Harness.actedThenSlow, for: .brevoCreateChild)
            let brevo = h.brevo(timeouts: Harness.createThenTimeOut)
            let error = try #require(await providerError { try await brevo.createChild(Self.josh) })
            #expect(error.kind == .timeout)
            #expect(error.disposition == .retry(after: nil))
            #expect(error.outcomeUnknown)
            #expect(await h.control.brevoChildEmails() == ["josh.cruise@example.com"])

            // Reconcile with a client of normal patience: the short deadline was only for the create.
            let found = try await h.brevo().findChild(email: "Josh.Cruise@example.com")
            #expect(found.value?.id == 1_234_567)
        }
    }

    @Test func duplicateEmailAdoptsTheExistingChild() async throws {
        try await withHarness { h in
            let brevo = h.brevo()
            let first = try await brevo.createChild(Self.josh)
            let second = try await brevo.createChild(Self.josh)  // the fake answers 400 duplicate_parameter
            #expect(second.value == BrevoCreatedChild(authKey: nil, id: first.value.id, adopted: true))
            #expect(await h.control.brevoChildEmails().count == 1)
            let creates = await h.control.requests(to: .brevoCreateChild)
            #expect(creates.count == 2)
            #expect(await h.control.requests(to: .brevoListChildren).count == 1)
        }
    }

    @Test func duplicateWithoutAMatchIsPermanent() async throws {
        try await withHarness { h in
            await h.control.enqueue(.brevo(httpStatus: 400, code: "duplicate_parameter", message: "duplicate"), for: .brevoCreateChild)
            let error = try #require(await providerError { try await h.brevo().createChild(Self.josh) })
            #expect(error.code == "duplicate_parameter")
            #expect(error.disposition == .permanent)
        }
    }

    /// A search cut short by the hour's rate limit (429) goes on from where it stopped when given back the offset it
    /// reported: a reseller with thousands of children needs more pages than an hour allows, and a search restarted
    /// from 0 each time never reached them.
    /// The harness's Brevo client, with `count` children `<prefix>0@example.com`… created and the requests forgotten.
    static func withChildren(_ h: Harness, _ count: Int, named prefix: String) async throws -> BrevoClient {
        let brevo = h.brevo()
        for index in 0..<count {
            _ = try await brevo.createChild(
                BrevoNewChild(email: "\(prefix)\(index)@example.com", firstName: "F", lastName: "L", companyName: "C", password: "p"))
        }
        await h.control.clearRequests()
        return brevo
    }

    @Test func aSearchCutShortGoesOnWhereItStopped() async throws {
        try await withHarness { h in
            let brevo = try await Self.withChildren(h, 45, named: "r")
            await h.control.setBrevoRateLimit(limit: 100, remaining: 2, reset: 60)
            let reached = Mutex<[Int]>([])
            let error = try #require(await providerError {
                try await brevo.findChild(email: "r44@example.com") { offset in reached.withLock { $0.append(offset) } }
            })
            #expect(error.httpStatus == 429)
            #expect(reached.withLock { $0 } == [20, 40])
            await h.control.setBrevoRateLimit(limit: 100, remaining: 100, reset: 60)
            let found = try await brevo.findChild(email: "r44@example.com", from: 40)
            #expect(found.value?.email == "r44@example.com")
            let targets = await h.control.requests(to: .brevoListChildren).map(\.target)
            #expect(targets.map { $0.split(separator: "offset=").last.map(String.init) ?? "" } == ["0", "20", "40", "40"])
        }
    }

    @Test func findChildWalksPagesOf20() async throws {
        try await withHarness { h in
            let brevo = try await Self.withChildren(h, 45, named: "c")
            let found = try await brevo.findChild(email: "c44@example.com")
            #expect(found.value?.email == "c44@example.com")
            let missing = try await brevo.findChild(email: "nobody@example.com")
            #expect(missing.value == nil)
            let targets = await h.control.requests(to: .brevoListChildren).map(\.target)
            #expect(targets == [
                "/brevo/v3/reseller/children?limit=20&offset=0", "/brevo/v3/reseller/children?limit=20&offset=20",
                "/brevo/v3/reseller/children?limit=20&offset=40",
                "/brevo/v3/reseller/children?limit=20&offset=0", "/brevo/v3/reseller/children?limit=20&offset=20",
                "/brevo/v3/reseller/children?limit=20&offset=40",
            ])
        }
    }

    @Test func creationStatusPollsUntilCreated() async throws {
        try await withHarness { h in
            await h.control.setBrevoCreationPolls(2)
            let brevo = h.brevo()
            let created = try await brevo.createChild(Self.josh)
            let id = try #require(created.value.identifier)
            #expect(try await brevo.creationStatus(of: id).value == false)
            #expect(try await brevo.creationStatus(of: id).value == false)
            #expect(try await brevo.creationStatus(of: id).value == true)
        }
    }
}
