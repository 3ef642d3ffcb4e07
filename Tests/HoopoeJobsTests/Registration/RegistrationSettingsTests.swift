import Foundation
import HoopoeCore
@testable import HoopoeJobs
import Testing

/// The retry window of `sendinblue.register` (at least a day, default 48 h) and its settings from the environment.
@Suite struct RegistrationSettingsTests {
    /// Sum of the shortest waits the policy can pick between `attempts` attempts.
    func shortestSpan(_ settings: RegistrationSettings, attempts: Int) -> Double {
        (1..<attempts).reduce(0) { $0 + settings.retryPolicy.delay(afterAttempt: $1, unit: 0) }
    }

    @Test func defaultsRetryForAtLeast48HoursAndNoLonger() throws {
        let settings = try RegistrationSettings(environment: EnvironmentReader([:]))
        #expect(settings == RegistrationSettings())
        #expect(settings.retryHours == 48)
        let attempts = settings.maxAttempts
        // Even when every wait is at its shortest, the attempts cover 48 hours; one attempt fewer would not.
        #expect(shortestSpan(settings, attempts: attempts) >= 48 * 3600)
        #expect(shortestSpan(settings, attempts: attempts - 1) < 48 * 3600)
        // Backoff: 30 s, then doubling, capped at an hour (±20 %).
        #expect(settings.retryPolicy.delay(afterAttempt: 1, unit: 0.5) == 30)
        #expect(settings.retryPolicy.delay(afterAttempt: 3, unit: 0.5) == 120)
        #expect(settings.retryPolicy.delay(afterAttempt: 40, unit: 0.5) == 3600)
        #expect(settings.alertPark == .seconds(3600))
    }

    @Test func theWindowFollowsTheEnvironment() async throws {
        let environment = [
            "REGISTRATION_RETRY_HOURS": "24", "REGISTRATION_RETRY_BASE_SECONDS": "10", "REGISTRATION_RETRY_MAX_SECONDS": "600",
            "REGISTRATION_STATUS_POLLS": "2", "REGISTRATION_STATUS_POLL_SECONDS": "0.5",
        ]
        let settings = try RegistrationSettings(environment: EnvironmentReader(environment))
        var expected = RegistrationSettings()
        (expected.retryHours, expected.retryBase, expected.retryCap, expected.statusPolls, expected.statusPollInterval) = (24, 10, 600, 2, 0.5)
        #expect(settings == expected)
        #expect(shortestSpan(settings, attempts: settings.maxAttempts) >= 24 * 3600)
        #expect(shortestSpan(settings, attempts: settings.maxAttempts - 1) < 24 * 3600)
        // The job handler uses exactly these.
        let harness = try await DomainHarness(environment: environment)
        let job = SendinblueRegisterJob(services: try harness.services())
        #expect(job.maxAttempts == settings.maxAttempts)
        #expect(job.redactedPayloadKeys == ["password"])
    }

    @Test(arguments: [
        ("REGISTRATION_RETRY_HOURS", "12"), ("REGISTRATION_RETRY_HOURS", "two days"), ("REGISTRATION_RETRY_BASE_SECONDS", "0"),
        ("REGISTRATION_RETRY_MAX_SECONDS", "5"), ("REGISTRATION_STATUS_POLLS", "0"), ("REGISTRATION_STATUS_POLL_SECONDS", "-1"),
    ])
    func aBadValueNamesItsVariable(variable: String, value: String) {
        do {
            _ = try RegistrationSettings(environment: EnvironmentReader([variable: value]))
            Issue.record("\(variable)=\(value) was accepted")
        } catch {
            #expect(error.key == variable)
        }
    }

    /// After a lost add-credits answer, a rise of a requested kind means the add happened; no rise means send again.
    @Test func creditCheckAfterALostAnswer() {
        let before = CreditBalance(sms: 0, email: 300)
        #expect(before.showsAdd(of: 450, email: 1200, after: CreditBalance(sms: 450, email: 1500)))
        // Some already spent: still added, not sent again.
        #expect(before.showsAdd(of: 450, email: 1200, after: CreditBalance(sms: 450, email: 900)))
        #expect(before.showsAdd(of: 0, email: 1200, after: CreditBalance(sms: 0, email: 301)))
        // Nothing rose: the add did not happen.
        #expect(!before.showsAdd(of: 450, email: 1200, after: CreditBalance(sms: 0, email: 300)))
        #expect(!before.showsAdd(of: 450, email: 1200, after: CreditBalance(sms: 0, email: 250)))
        // Only requested kinds count.
        #expect(!before.showsAdd(of: 0, email: 1200, after: CreditBalance(sms: 10, email: 300)))
    }
}
