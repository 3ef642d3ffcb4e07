import Foundation
import HoopoeCore
import HoopoeJSON
@testable import HoopoeJobs
import ProviderFakes
import Providers
import Redis
import Testing
import TestSupport

/// `sendinblue.register` when a Brevo success cannot be read (a proxy's 200 page): not credits of 0 (which added them a
/// second time) and not "no such child" (which created it again and failed for good on `duplicate_parameter`), but a
/// failed read, retried until Brevo answers.
@Suite struct RegistrationForeignAnswerTests {
    static let page = FakeFault.reply(.text(200, "<html><body>Service temporarily unavailable</body></html>"))

    static func payload(_ user: String, email: String) throws -> SendinblueRegisterJob.Payload {
        let json: JSONValue = [
            "user_id": .string(user), "email": .string(email), "first_name": "Josh", "last_name": "Cruise", "company": "C",
            "password": "Pw-foreign-1", "plan": ["credit": ["email": 1200, "sms": 450], "ip": "123.65.8.22"],
        ]
        return try JSONDecoder().decode(SendinblueRegisterJob.Payload.self, from: Data(json.encoded()))
    }

    static func expectRetry(_ failure: JobFailure?, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let failure, case .retry = failure.disposition else {
            Issue.record("expected a retry, got \(String(describing: failure))", sourceLocation: sourceLocation)
            return
        }
    }

    @Test func anUnreadableBalanceAfterALostAddDoesNotAddTheCreditsAgain() async throws {
        let h = try await DomainHarness()
        let job = SendinblueRegisterJob(services: try h.services())
        let payload = try Self.payload("u-balance", email: "balance@example.com")
        await h.control.enqueue(.succeedThenDrop, for: .brevoAddCredits)
        Self.expectRetry(try await h.failure(of: job, payload, id: "job-1", attempt: 1))
        #expect(await h.control.requests(to: .brevoAddCredits).count == 1)

        // The balance read after the lost answer gets a page: the credits are not sent again on its say-so.
        await h.control.enqueue(Self.page, for: .brevoGetChild)
        Self.expectRetry(try await h.failure(of: job, payload, id: "job-1", attempt: 2))
        #expect(await h.control.requests(to: .brevoAddCredits).count == 1, "credits sent again on an unreadable balance")

        #expect(try await h.failure(of: job, payload, id: "job-1", attempt: 3) == nil)
        let child = try #require(try await h.events("sendinblue.registered").first?.data["child_id"]?.int64Value)
        let credits = try #require(await h.control.brevoChildCredits(id: child))
        #expect(credits.sms == 450 && credits.email == 1200, "credits: \(credits)")
        #expect(await h.control.requests(to: .brevoAddCredits).count == 1)
    }

    @Test func anUnreadableChildrenPageAfterALostCreateDoesNotCreateAgain() async throws {
        let h = try await DomainHarness()
        let job = SendinblueRegisterJob(services: try h.services())
        let payload = try Self.payload("u-list", email: "list@example.com")
        await h.control.enqueue(.succeedThenDrop, for: .brevoCreateChild)
        Self.expectRetry(try await h.failure(of: job, payload, id: "job-1", attempt: 1))

        await h.control.enqueue(Self.page, for: .brevoListChildren)
        Self.expectRetry(try await h.failure(of: job, payload, id: "job-1", attempt: 2))
        #expect(await h.control.requests(to: .brevoCreateChild).count == 1, "created again on an unreadable list")
        #expect(try await h.events("sendinblue.failed").isEmpty)

        #expect(try await h.failure(of: job, payload, id: "job-1", attempt: 3) == nil)
        let event = try #require(try await h.events("sendinblue.registered").first).data
        #expect(event["adopted"] == true)
        #expect(await h.control.brevoChildEmails() == ["list@example.com"])
    }
}
