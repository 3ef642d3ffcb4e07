import Foundation
import HoopoeJSON
import Testing
import TestSupport

@testable import HoopoeJobs

/// The low-credit reminders' cache of child emails, store by store: an email is kept only while a threshold names its
/// auth key (session 44).
@Suite("Reminders: the child email cache", .serialized)
struct CreditThresholdStoreTests {
    /// The sweep resolves an auth key over HTTP; a threshold deleted or given another key meanwhile must not get its
    /// email written back after it. Before, the write was unconditional and the email stayed for good.
    @Test("an email resolved for a key no threshold of the user names any more is not remembered")
    func aResolvedEmailIsKeptOnlyWhileAThresholdNamesItsKey() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let store = CreditThresholdStore(services: try harness.services())
        let record = #"{"threshold":100,"phone":"09121234567","first_name":"Reza","auth_key":"key-a"}"#
        try await store.save(user: "u", thresholdID: "t", record: record, authKey: "key-a")
        try await store.rememberChildEmail(user: "u", authKey: "key-a", email: "a@example.com")
        #expect(try await store.childEmail(authKey: "key-a") == "a@example.com")

        // Deleted while the sweep's request was out: its answer is not remembered.
        #expect(try await store.delete(user: "u", thresholdID: "t"))
        #expect(try await store.childEmail(authKey: "key-a") == nil)
        try await store.rememberChildEmail(user: "u", authKey: "key-a", email: "a@example.com")
        #expect(try await store.childEmail(authKey: "key-a") == nil)

        // Given another key meanwhile: the old key's answer is not remembered, the new key's is.
        try await store.save(user: "u", thresholdID: "t", record: record.replacingOccurrences(of: "key-a", with: "key-b"), authKey: "key-b")
        try await store.rememberChildEmail(user: "u", authKey: "key-a", email: "a@example.com")
        try await store.rememberChildEmail(user: "u", authKey: "key-b", email: "")
        #expect(try await store.childEmail(authKey: "key-a") == nil)
        #expect(try await store.childEmail(authKey: "key-b") == "", "an unknown key is remembered as unknown")
    }
}
