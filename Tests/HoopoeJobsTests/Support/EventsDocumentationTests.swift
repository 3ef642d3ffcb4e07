import Foundation
import HoopoeCore
import HoopoeJSON
@testable import HoopoeJobs
import Redis
import Testing
import TestSupport

/// jobs/EVENTS.md names every field of every event with its JSON type. These tests make the domain jobs emit their
/// events (in process, against the test Redis and the fakes) and check each one against that table: a field the
/// page does not list, or a type it does not say, fails — so the page cannot drift from the code again (issue 15
/// item 10: `at` shown as an integer, `outcome: created`, an integer `user_id` coming back as a string).
@Suite("jobs/EVENTS.md matches the events the jobs emit", .serialized)
struct EventsDocumentationTests {
    /// Event type → field → the JSON types the page allows.
    static func documentedFields() throws -> [String: [String: Set<String>]] {
        let text = try String(contentsOf: BuiltProducts.projectRoot.appendingPathComponent("jobs/EVENTS.md"), encoding: .utf8)
        let field = try NSRegularExpression(pattern: #"`([a-z_]+)` \(([^)]*)\)"#)
        var table: [String: [String: Set<String>]] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 4 else { continue }
            let types = cells[1].split(separator: "/").map { $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "`")) }
            let spec = cells[3]
            var fields: [String: Set<String>] = [:]
            for match in field.matches(in: spec, range: NSRange(spec.startIndex..., in: spec)) {
                let name = String(spec[Range(match.range(at: 1), in: spec)!])
                let words = String(spec[Range(match.range(at: 2), in: spec)!]).lowercased()
                var allowed: Set<String> = []
                for (word, kinds) in [("string", ["string"]), ("integer", ["integer"]), ("number", ["integer", "double"]),
                                      ("boolean", ["bool"]), ("array", ["array"]), ("object", ["object"])] where words.hasPrefix(word) {
                    allowed.formUnion(kinds)
                }
                if words.contains("or null") { allowed.insert("null") }
                if !allowed.isEmpty { fields[name] = allowed }
            }
            for type in types { table[type, default: [:]].merge(fields) { $0.union($1) } }
        }
        return table
    }

    static func kind(_ value: JSONValue) -> String {
        switch value {
        case .string: "string"
        case .integer: "integer"
        case .double: "double"
        case .bool: "bool"
        case .array: "array"
        case .object: "object"
        case .null: "null"
        }
    }

    @Test("every event type of the code is on the page with exactly its fields, and every event on the page is in the code")
    func pageAndCodeNameTheSameEvents() throws {
        // Event names have a dot; the page's first table (`type`, `data`, `at`) describes the entry itself.
        let documented = try Self.documentedFields().filter { $0.key.contains(".") }
        var code: [String: Set<String>] = [:]
        for type in DomainEvents.all { code[type.name, default: []].formUnion(type.fieldNames) }
        // job.dead is the engine's, written by its dead-set script (HoopoeCoreTests/JobOutcomeTests checks it).
        #expect(Set(documented.keys).subtracting(["job.dead"]) == Set(code.keys),
                "on the page only: \(Set(documented.keys).subtracting(code.keys).sorted()); in the code only: \(Set(code.keys).subtracting(documented.keys).sorted())")
        for (name, fields) in code.sorted(by: { $0.key < $1.key }) {
            let page = Set(documented[name]?.keys.map { $0 } ?? [])
            #expect(page == fields, "\(name): on the page only \(page.subtracting(fields).sorted()), in the code only \(fields.subtracting(page).sorted())")
        }
    }

    @Test("DomainEvents.all lists every event struct of HoopoeJobs")
    func catalogIsComplete() throws {
        let root = BuiltProducts.projectRoot.appendingPathComponent("Sources/HoopoeJobs")
        let files = FileManager.default.enumerator(atPath: root.path)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
        let declaration = try NSRegularExpression(pattern: #"struct (\w+): DomainEvent\b"#)
        var declared = Set<String>()
        for file in files {
            let text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
            for match in declaration.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                declared.insert(String(text[Range(match.range(at: 1), in: text)!]))
            }
        }
        #expect(declared.count > 20)
        #expect(declared == Set(DomainEvents.all.map { String(describing: $0) }))
    }

    @Test("every field of every event the domain jobs emit is on the page, with its type; at is a float in text; ids are strings")
    func emittedEventsMatchThePage() async throws {
        let h = try await DomainHarness(environment: reminderEnvironment.merging([
            "REMINDER_EMAIL_TEMPLATE_ID": "17", "REMINDER_EMAIL_QUEUE": "reminder-email"]) { $1 })
        let services = try h.services()
        // Reminders: a late upsert (SMS + email released at once), an already expired one, a renewal, a delete.
        try await h.setClock(tehran(2024, 12, 14, 10, 0).addingTimeInterval(0.25))
        try await h.run(SubscriptionUpsertJob(services: services), ["user_id": 176, "phone": "09121234567", "first_name": "Sara",
                                                                   "expires_at": "2024-12-15", "receipt_id": "R-1", "email": "sara@example.com"])
        try await h.run(SubscriptionUpsertJob(services: services), ["user_id": 177, "phone": "09121234567", "first_name": "Ali",
                                                                   "expires_at": "2024-12-15T09:30:00+03:30", "receipt_id": "R-2"])
        // Email: sent, and refused.
        let email = try #require(try await h.smsJobs(queue: "reminder-email").first?.payload ?? nil)
        try await h.run(EmailSendJob(services: services), email)
        try? await h.run(EmailSendJob(services: services), ["message_id": "m-bad", "email": "a@b.ir", "template_id": 5000, "params": [:]])
        try await h.setClock(tehran(2024, 12, 15, 10))
        try await h.run(ExpirationReminderJob(services: services), ["tick": 1])
        try await h.run(SubscriptionUpsertJob(services: services), ["user_id": 176, "phone": "09121234567", "first_name": "Sara",
                                                                   "expires_at": "2025-01-15", "receipt_id": "R-3"])
        try await h.run(SubscriptionDeleteJob(services: services), ["user_id": 176])
        // Gifts, free credit, thresholds, balances.
        try await h.run(GiftGrantedJob(services: services), ["user_id": 176, "user_gift_id": 24, "expires_at": .integer(Int64(tehran(2024, 12, 16).timeIntervalSince1970))])
        try await h.run(GiftGrantedJob(services: services), ["user_id": 176, "user_gift_id": 25, "expires_at": .integer(Int64(tehran(2024, 12, 16).timeIntervalSince1970))])
        try await h.setClock(tehran(2024, 12, 16, 1))
        try await h.run(GiftExpireJob(services: services), ["user_id": 176, "user_gift_id": 24])
        try await h.run(FreeCreditRequestJob(services: services), ["user_id": 176, "request_id": 1, "amount": 10])
        try await h.run(FreeCreditRequestJob(services: services), ["user_id": 176, "request_id": 2])
        try await h.run(CreditThresholdSetJob(services: services), ["user_id": 42, "threshold_id": 7, "threshold": 500, "phone": "09121234567", "first_name": "Sara"])
        try await h.run(CreditBalanceJob(services: services), ["user_id": 42, "credits": .double(320.5)])
        try await h.run(CreditThresholdDeleteJob(services: services), ["user_id": 42, "threshold_id": 7])

        let documented = try Self.documentedFields()
        let events = try await h.events()
        let seen = Set(events.map(\.type))
        for type in ["subscription.upserted", "subscription.deleted", "reminder.queued", "reminder.skipped", "email.sent", "email.failed",
                     "gift.expired", "gift.rejected", "freecredit.granted", "freecredit.rejected", "credit.threshold.saved",
                     "credit.threshold.deleted", "credit.balance.recorded"] {
            #expect(seen.contains(type), "the scenario did not emit \(type)")
        }
        for event in events {
            let fields = try #require(documented[event.type], "jobs/EVENTS.md has no row for \(event.type)")
            guard case .object(let data) = event.data else { Issue.record("\(event.type): data is not an object"); continue }
            for (name, value) in data {
                guard let allowed = fields[name] else { Issue.record("\(event.type).\(name) is not on jobs/EVENTS.md (with a type)"); continue }
                #expect(allowed.contains(Self.kind(value)), "\(event.type).\(name) is \(Self.kind(value)), the page says \(allowed.sorted())")
            }
            for id in ["user_id", "user_gift_id", "request_id", "threshold_id"] {
                // A string, or null where the page says so (`reminder.queued`'s `threshold_id`, EventsNullFieldsTests).
                guard let value = data[id], !(Self.kind(value) == "null" && fields[id]?.contains("null") == true) else { continue }
                #expect(Self.kind(value) == "string", "\(event.type).\(id) must be a string")
            }
        }
        #expect(events.first { $0.type == "subscription.upserted" }?.data["outcome"] == "new", "the page's outcome value")
        #expect(events.first { $0.type == "subscription.upserted" }?.data["user_id"] == "176", "an integer id comes back as a string")
        // `at` is text with a fraction: a reader parsing it as an integer would fail on this one.
        let raw = try await h.redis.send("XRANGE", "\(h.namespace):events", "-", "+", "COUNT", "1")
        let fields = raw.array?.first?.array?.last?.array?.compactMap(\.string) ?? []
        let at = try #require(fields.firstIndex(of: "at").map { fields[$0 + 1] })
        #expect(at.hasSuffix(".250") && Double(at) != nil && Int(at) == nil, "\(at)")
    }
}
