import Foundation
import HoopoeCore
import HoopoeJSON
import HoopoeJobs
import Testing
import TestSupport

/// A gift's follow-up jobs are named after it (`gift.expire:<user_gift_id>`, `gift.reminder:<user_gift_id>`), and a
/// job id has at most 128 characters: so a gift id has at most 100 (``DomainIdentifier/maxLength``). The longest
/// allowed id goes through `gift.granted` with both follow-ups scheduled; one more character is refused, naming the
/// field, before anything is scheduled.
@Suite struct GiftIdLengthTests {
    @Test func aGiftIdOf100CharactersGoesThroughAndOf101IsRefusedNamingTheField() async throws {
        let h = try await DomainHarness()
        try await h.setClock(GiftJobsTests.noon)
        let worker = try await h.startWorker()
        defer { worker.signal(SIGTERM) }
        let longest = String(repeating: "g", count: 100)
        let tooLong = String(repeating: "h", count: 101)
        let expiresAt = Int64(GiftJobsTests.noon.timeIntervalSince1970) + 29 * 3600
        for gift in [longest, tooLong] {
            try await h.enqueue(GiftGrantedJob.type, .object([
                "user_id": "176", "user_gift_id": .string(gift), "expires_at": .integer(expiresAt), "phone": "09121234567",
            ]))
        }
        try await h.waitUntilIdle()
        let expire = try #require(try await h.jobs.find(id: "gift.expire:\(longest)", queue: "default"))
        #expect(expire.envelope.id.count == 112)
        guard case .scheduled = expire.state else { Issue.record("gift.expire is \(expire.state)"); return }
        #expect(try await h.jobs.find(id: "gift.reminder:\(longest)", queue: "default") != nil, "the reminder is scheduled too")

        let dead = try await h.dead()
        #expect(dead.count == 1, "\(dead.map { $0.deadReason ?? "" })")
        #expect(dead.first?.deadReason?.contains("user_gift_id") == true, "\(dead.first?.deadReason ?? "")")
        #expect(try await h.jobs.find(id: "gift.expire:\(tooLong)", queue: "default") == nil)
    }

    @Test func theLimitIs100() throws {
        #expect(DomainIdentifier.isValid(String(repeating: "1", count: 100)))
        #expect(!DomainIdentifier.isValid(String(repeating: "1", count: 101)))
        #expect(throws: DomainIdentifier.Invalid.self) { try DomainIdentifier(validating: String(repeating: "a", count: 101)) }
    }
}
