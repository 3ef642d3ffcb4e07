import Foundation
import HoopoeCore
import HoopoeJSON
@testable import HoopoeJobs
import ProviderFakes
import TestSupport
import Testing

/// `sendinblue.register`'s `user_id` follows the reminder jobs' rule (``ReminderValidation/userID(_:)``): 1 to 200
/// characters on one line. Before, only an empty one was refused, and a 100,000-character one keyed the registration's
/// progress and lock and went into its events.
@Suite struct SendinblueRegisterUserIDTests {
    static func payload(userID: String) throws -> SendinblueRegisterPayload {
        let object: [String: Any] = [
            "user_id": userID, "email": "a@example.com", "first_name": "A", "last_name": "B", "company": "C",
            "password": "secret-value", "plan": ["credit": 1],
        ]
        return try JSONDecoder().decode(SendinblueRegisterPayload.self, from: JSONSerialization.data(withJSONObject: object))
    }

    @Test(arguments: [String(repeating: "7", count: 100_000), String(repeating: "u", count: 201), "u1\nu2", "u1\r\nu2"])
    func aUserIDBreakingTheRuleIsRefusedBeforeAnyCall(userID: String) throws {
        let problem = try #require(try Self.payload(userID: userID).problem)
        #expect(problem == "user_id must be a non-empty string or number (at most 200 characters)", "\(problem)")
        #expect(!problem.contains("secret-value"))
    }

    @Test func aUserIDWithinTheRuleIsTaken() throws {
        #expect(try Self.payload(userID: String(repeating: "u", count: 200)).problem == nil)
        #expect(try Self.payload(userID: "کاربر-۴۲").problem == nil)
        #expect(try Self.payload(userID: " ").problem == "user_id is empty")
    }

    /// The refusal's `sendinblue.failed` carried the over-long id whole: 100,000 characters onto the events stream. It
    /// carries the first 64 and `…`; an id within the rule, whole (here refused for its language).
    @Test func theRefusalsEventCarriesAnOverLongUserIDCut() async throws {
        let h = try await DomainHarness()
        let job = SendinblueRegisterJob(services: try h.services())
        let long = "u-" + String(repeating: "7", count: 100_000)
        let refused = try await h.failure(of: job, try Self.payload(userID: long))
        #expect(refused?.disposition == .permanent, "\(String(describing: refused))")
        let withinRule = String(repeating: "w", count: 200)
        var otherProblem = try Self.payload(userID: withinRule)
        otherProblem.language = "fa"
        _ = try await h.failure(of: job, otherProblem)

        let shown = try await h.waitForEvents("sendinblue.failed", count: 2).compactMap { $0.data["user_id"]?.stringValue }
        #expect(shown.first == String(long.prefix(64)) + "…", "\(shown.first?.count ?? 0) characters")
        #expect(shown.last == withinRule)
        #expect(await h.control.requests().isEmpty, "a refused payload reached Brevo")
    }
}
