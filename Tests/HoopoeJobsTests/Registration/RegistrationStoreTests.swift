import Foundation
import HoopoeCore
import HoopoeJSON
@testable import HoopoeJobs
import ProviderFakes
import Redis
import Testing
import TestSupport

/// `sendinblue.registered` goes on the events stream, then the user is marked registered: two writes in two
/// Redis Cluster slots, so not one `MULTI`. A worker that dies between them leaves every step done but the mark
/// missing; the retry must write the event again (never lose it), mark the user, and call Brevo for nothing.
@Suite struct RegistrationStoreTests {
    @Test func aCrashBetweenTheEventAndTheMarkRepeatsTheEventAndNeverCallsBrevoAgain() async throws {
        let h = try await DomainHarness()
        let services = try h.services()
        let store = RegistrationStore(services: services, userID: "u-crash")
        // Every step done, the event already out (the dead worker wrote it), the mark missing.
        try await store.update(set: ["child_id": "77", "auth_key": "xkeysib-child", "created": "1", "credits_done": "1", "ip_done": "1"])
        try await services.events.emit(
            SendinblueRegistered(userID: "u-crash", childID: 77, adopted: false, authKeyStored: true), at: Date())
        let payload: JSONValue = [
            "user_id": "u-crash", "email": "crash@example.com", "first_name": "Josh", "last_name": "Cruise", "company": "C",
            "password": "Pw-crash-1", "plan": ["credit": ["email": 1200, "sms": 450], "ip": "123.65.8.22"],
        ]
        try await h.run(SendinblueRegisterJob(services: services), payload)
        let events = try await h.events("sendinblue.registered")
        #expect(events.count == 2, "written again by the retry")
        #expect(events.last?.data["child_id"] == .integer(77) && events.last?.data["user_id"] == "u-crash")
        #expect(try await store.load().registered, "and now marked")
        #expect(await h.control.requests().isEmpty, "no Brevo call: every step was done")
        // Marked: a further job for the user does nothing, and writes no third event.
        try await h.run(SendinblueRegisterJob(services: services), payload)
        #expect(try await h.events("sendinblue.registered").count == 2)
    }

    /// A run recovered after its earlier run's lease lapsed finds that run's lock: it must not share it (the lock was
    /// re-entrant by job id, so a stalled earlier run waking up could add the credits a second time), and it waits
    /// for the lock to lapse in one retry. Another job holding it is working on the user now: a minute.
    @Test func aRecoveredRunDoesNotShareItsEarlierRunsLock() async throws {
        let h = try await DomainHarness()
        let services = try h.services()
        let store = RegistrationStore(services: services, userID: "u-lock")
        #expect(try await store.lock(holder: "job-1:1", for: .seconds(660)))
        let json: JSONValue = [
            "user_id": "u-lock", "email": "lock@example.com", "first_name": "Josh", "last_name": "Cruise", "company": "C",
            "password": "Pw-lock-1", "plan": ["credit": ["email": 1200, "sms": 450], "ip": "123.65.8.22"],
        ]
        let payload = try JSONDecoder().decode(SendinblueRegisterJob.Payload.self, from: Data(json.encoded()))
        let job = SendinblueRegisterJob(services: services)
        let own = try #require(try await h.failure(of: job, payload, id: "job-1", attempt: 2)?.retryDelay)
        #expect((600...662).contains(own), "\(own)")
        let other = try #require(try await h.failure(of: job, payload, id: "job-2")?.retryDelay)
        #expect((58...61).contains(other), "\(other)")
        #expect(await h.control.requests().isEmpty, "no Brevo call while another run holds the user")
    }
}
