import Foundation
import HoopoeCore
@testable import HoopoeJobs
import TestSupport
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

    /// A window that needs more attempts than an envelope carries (1000) gets 1000: before, the job was buried at
    /// attempt 1001 as a corrupt envelope, short of its window and without `sendinblue.failed`.
    @Test(arguments: [("48", "120"), ("168", "600"), ("720", "1800")])
    func aWindowBeyondAnEnvelopesAttemptsGetsItsLimit(hours: String, cap: String) throws {
        let settings = try RegistrationSettings(environment: EnvironmentReader(["REGISTRATION_RETRY_HOURS": hours, "REGISTRATION_RETRY_MAX_SECONDS": cap]))
        #expect(settings.maxAttempts == EnvelopeRules.maxAttempts)
        // The shorter window is said at start-up; the defaults' is not.
        #expect(settings.spannedSeconds < Double(settings.retryHours) * 3600)
        var domain = try DomainSettings(environment: EnvironmentReader([
            "SMS_TEMPLATES_FILE": BuiltProducts.projectRoot.appendingPathComponent("jobs/sms_templates.yaml").path,
        ]))
        #expect(!DomainJobs.startupWarnings(domain).contains { $0.contains("REGISTRATION_RETRY_MAX_SECONDS") })
        domain.registration = settings
        #expect(DomainJobs.startupWarnings(domain).contains { $0.contains("REGISTRATION_RETRY_MAX_SECONDS=\(cap): a job's 1000 attempts span about") })
    }

    /// The waits between creation-status reads fit in the attempt (600 s) whatever the settings: the defaults' 1, 2,
    /// 4 s; the longest settings (10 reads from 60 s) stop at 60 + 120 s instead of sleeping 8½ hours into a timeout.
    @Test func statusReadsWaitWithinTheAttempt() {
        #expect(SendinblueRegisterJob.statusWaits(first: 1, reads: 4) == [1, 2, 4])
        #expect(SendinblueRegisterJob.statusWaits(first: 60, reads: 10) == [60, 120])
        #expect(SendinblueRegisterJob.statusWaits(first: 1, reads: 10) == [1, 2, 4, 8, 16, 32, 64])
        #expect(SendinblueRegisterJob.statusWaits(first: 0, reads: 10).count == 9)
        #expect(SendinblueRegisterJob.statusWaits(first: 5, reads: 1).isEmpty)
        #expect(SendinblueRegisterJob.statusWaits(first: 300, reads: 3).isEmpty, "one read, then a retry")
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

    /// Each range deploy/hoopoe.env.example states for a `REGISTRATION_*` variable (`(24…720 hours)`, `0 to 60`) is
    /// the one the worker enforces: its top accepted, one more refused. The file once said 0 to 31536000 for a setting
    /// refused above 60, and an operator who followed it got a worker that would not start.
    @Test func theRangesTheEnvironmentExampleStatesAreTheOnesEnforced() throws {
        let example = try String(contentsOf: BuiltProducts.projectRoot.appendingPathComponent("deploy/hoopoe.env.example"), encoding: .utf8)
        var comment: [Substring] = []
        var checked: [String] = []
        for line in example.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("#") { comment.append(line); continue }
            defer { comment = [] }
            guard line.hasPrefix("REGISTRATION_"), let name = line.split(separator: "=").first.map(String.init),
                let range = comment.joined(separator: " ").firstMatch(of: /(\d+)(?: to |…)(\d+)/)
            else { continue }
            let top = Int(range.2)!
            func accepted(_ value: Int) -> Bool { (try? RegistrationSettings(environment: EnvironmentReader([name: String(value)]))) != nil }
            #expect(accepted(top), "\(name)=\(top), the top of the range the example states, is refused")
            #expect(!accepted(top + 1), "\(name)=\(top + 1), past the range the example states, is accepted")
            #expect(accepted(Int(range.1)!), "\(name)=\(range.1), the bottom of the range, is refused")
            checked.append(name)
        }
        #expect(checked.contains("REGISTRATION_STATUS_POLL_SECONDS") && checked.count >= 3, "\(checked)")
    }
}
