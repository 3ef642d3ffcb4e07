import Foundation
import HoopoeJSON
import Testing
import TestSupport

@testable import HoopoeJobs

/// The low-credit reminders' cache of child emails, store by store: an email is kept only while a threshold names its
/// auth key (session 44).
@Suite("Reminders: the child email cache", .serialized)
struct CreditThresholdStoreTests {
    /// User `u`'s threshold `t`, naming auth key `key-a`.
    static let record = #"{"threshold":100,"phone":"09121234567","first_name":"Reza","auth_key":"key-a"}"#

    /// A store on a fresh harness with ``record`` saved (the harness returned to be kept alive for the test).
    static func storeWithThreshold() async throws -> (DomainHarness, CreditThresholdStore) {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let store = CreditThresholdStore(services: try harness.services())
        try await store.save(user: "u", thresholdID: "t", record: record, authKey: "key-a")
        return (harness, store)
    }

    /// The sweep resolves an auth key over HTTP; a threshold deleted or given another key meanwhile must not get its
    /// email written back after it. Before, the write was unconditional and the email stayed for good.
    @Test("an email resolved for a key no threshold of the user names any more is not remembered")
    func aResolvedEmailIsKeptOnlyWhileAThresholdNamesItsKey() async throws {
        let (harness, store) = try await Self.storeWithThreshold()
        defer { withExtendedLifetime(harness) {} }
        let looked = try await store.lookUpChildEmail(authKey: "key-a")
        #expect(looked.email == nil && !looked.mark.isEmpty, "never asked; marked by its save")
        try await store.rememberChildEmail(user: "u", authKey: "key-a", email: "a@example.com", mark: looked.mark)
        #expect(try await store.childEmail(authKey: "key-a") == "a@example.com")

        // Deleted while the sweep's request was out: its answer is not remembered.
        let before = try await store.lookUpChildEmail(authKey: "key-a").mark
        #expect(try await store.delete(user: "u", thresholdID: "t", jobID: "d1"))
        #expect(try await store.childEmail(authKey: "key-a") == nil)
        try await store.rememberChildEmail(user: "u", authKey: "key-a", email: "a@example.com", mark: before)
        #expect(try await store.childEmail(authKey: "key-a") == nil)

        // Given another key meanwhile: the old key's answer is not remembered, the new key's is.
        try await store.save(user: "u", thresholdID: "t", record: Self.record.replacingOccurrences(of: "key-a", with: "key-b"), authKey: "key-b")
        try await store.rememberChildEmail(user: "u", authKey: "key-a", email: "a@example.com", mark: before)
        try await store.rememberChildEmail(user: "u", authKey: "key-b", email: "", mark: try await store.lookUpChildEmail(authKey: "key-b").mark)
        #expect(try await store.childEmail(authKey: "key-a") == nil)
        #expect(try await store.childEmail(authKey: "key-b") == "", "an unknown key is remembered as unknown")
    }

    /// The same key saved again while the sweep's request for it was out asks for a fresh resolve: the request's answer,
    /// a 404's "unknown" above all, is not written back (it stood until the next save: the user's fixed account went
    /// unread). The next sweep's lookup reads the new mark and its answer is kept.
    @Test("an answer for a key saved again since the sweep looked it up is not remembered")
    func anAnswerForAKeySavedAgainMeanwhileIsNotRemembered() async throws {
        let (harness, store) = try await Self.storeWithThreshold()
        defer { withExtendedLifetime(harness) {} }
        let looked = try await store.lookUpChildEmail(authKey: "key-a")
        try await store.save(user: "u", thresholdID: "t", record: Self.record, authKey: "key-a")
        #expect(try await store.rememberChildEmail(user: "u", authKey: "key-a", email: "", mark: looked.mark) == false)
        #expect(try await store.childEmail(authKey: "key-a") == nil, "resolved afresh by the next sweep")
        let again = try await store.lookUpChildEmail(authKey: "key-a")
        #expect(again.mark != looked.mark)
        #expect(try await store.rememberChildEmail(user: "u", authKey: "key-a", email: "a@example.com", mark: again.mark))
        #expect(try await store.childEmail(authKey: "key-a") == "a@example.com")
        // Deleted, the key's mark goes with its email: nothing of the auth key is kept.
        #expect(try await store.delete(user: "u", thresholdID: "t", jobID: "d1"))
        #expect(try await store.lookUpChildEmail(authKey: "key-a").mark == "")
    }

    /// A threshold deleted while it named an auth key takes the balance read from that key's account with it: before,
    /// a threshold saved afterwards with another key was evaluated against the old account's balance whenever the
    /// sweep could not read the new one (its Brevo budget spent, a 429), and an SMS quoted another account's credit.
    @Test("a deleted threshold's balance is not used for a threshold saved later with another key")
    func aDeletedThresholdsBalanceIsNotUsedForALaterOneWithAnotherKey() async throws {
        let (harness, store) = try await Self.storeWithThreshold()
        defer { withExtendedLifetime(harness) {} }
        let mark = try await store.lookUpChildEmail(authKey: "key-a").mark
        #expect(try await store.recordBalance(user: "u", credits: "50", authKey: "key-a", mark: mark))
        #expect(try await store.delete(user: "u", thresholdID: "t", jobID: "d1"))
        let later = Self.record.replacingOccurrences(of: "key-a", with: "key-b").replacingOccurrences(of: "100", with: "200")
        try await store.save(user: "u", thresholdID: "t", record: later, authKey: "key-b")
        #expect(try await store.evaluate("u", now: Date()).isEmpty, "no balance of key-b's account is known yet")
        #expect(try await store.outbox().isEmpty)
        // The new account's balance, once read, is what is compared.
        let markB = try await store.lookUpChildEmail(authKey: "key-b").mark
        #expect(try await store.recordBalance(user: "u", credits: "150", authKey: "key-b", mark: markB))
        #expect(try await store.evaluate("u", now: Date()).map(\.action) == ["fired"])
    }
}
