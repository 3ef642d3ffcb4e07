import Foundation
import HoopoeCore
import HoopoeJSON
import HoopoeJobs
import ProviderFakes
import Redis
import Testing
import TestSupport

/// End to end: a real `hoopoe worker` process with the injected clock (HOOPOE_CLOCK_KEY) runs the subscription
/// jobs and the `reminders.expiration` ticks this test enqueues hour by hour, as the scheduler would. The released
/// `sms.send` jobs go to `REMINDER_SMS_QUEUE=reminder-sms`, which no worker reads, so they are counted there.
@Suite("Reminders: end to end", .serialized)
struct ReminderMonthSimulationTests {
    /// One subscription version: from its upsert until a renewal or a delete (or the end).
    struct Version {
        let user: String
        let expiry: Date
        let from: Date
        var until: Date
    }

    enum Step {
        case upsert(user: String, expires: JSONValue, expiry: Date)
        case delete(user: String)
    }

    @Test("a simulated month: every reminder exactly once, at 08:00 or later on its day, none in quiet hours, none after a renewal or delete")
    func simulatedMonth() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let calendar = LocalCalendar.tehran
        let start = tehran(2024, 12, 1, 0)
        let end = tehran(2025, 1, 2, 0)
        func unix(_ date: Date) -> JSONValue { .integer(Int64(date.timeIntervalSince1970)) }
        // What happens when (the hour it is applied, before that hour's sweep).
        var steps: [Date: [Step]] = [:]
        func at(_ time: Date, _ step: Step) { steps[time, default: []].append(step) }
        at(start, .upsert(user: "u1", expires: "1403-09-25", expiry: tehranDayEnd(2024, 12, 15)))  // Jalali date
        at(start, .upsert(user: "u2", expires: unix(tehran(2024, 12, 4, 23, 30)), expiry: tehran(2024, 12, 4, 23, 30)))  // 10 past
        at(start, .upsert(user: "u3", expires: "2024-12-10", expiry: tehranDayEnd(2024, 12, 10)))
        at(start, .upsert(user: "u4", expires: "2024-12-20T10:00:00+03:30", expiry: tehran(2024, 12, 20, 10)))
        at(start, .upsert(user: "u11", expires: "2024-12-27", expiry: tehranDayEnd(2024, 12, 27)))
        at(start, .upsert(user: "u12", expires: "2025-01-01", expiry: tehranDayEnd(2025, 1, 1)))
        for (index, day) in [5, 13, 17, 24, 31].enumerated() {
            at(start, .upsert(user: "u\(6 + index)", expires: .string(String(format: "2024-12-%02d 18:00", day)), expiry: tehran(2024, 12, day, 18)))
        }
        // u11 sent again with the same expiry (a retry by the service): nothing doubles.
        at(tehran(2024, 12, 17, 10), .upsert(user: "u11", expires: "2024-12-27", expiry: tehranDayEnd(2024, 12, 27)))
        // u3 renews on Dec 8 at noon (offsets 10 and 3 were released; 1 and 0 must never go out).
        at(tehran(2024, 12, 8, 12), .upsert(user: "u3", expires: "2025-01-09T12:00:00+03:30", expiry: tehran(2025, 1, 9, 12)))
        // u4 cancels on Dec 12.
        at(tehran(2024, 12, 12, 14), .delete(user: "u4"))
        // u5 subscribes late on Dec 18 at 15:00 for Dec 21: 10 is past, 3 is today (released at once), then 1 and 0.
        at(tehran(2024, 12, 18, 15), .upsert(user: "u5", expires: "2024-12-21", expiry: tehranDayEnd(2024, 12, 21)))
        // u13 upserted at 23:00 (quiet hours) with its offset-10 day being today: released at 08:00 the next morning.
        at(tehran(2024, 12, 20, 23), .upsert(user: "u13", expires: "2024-12-30", expiry: tehranDayEnd(2024, 12, 30)))

        let worker = try await harness.startWorker(["--concurrency", "4"])
        var versions: [Version] = []
        var hour = start
        var sweeps = 0
        while hour < end {
            try await harness.setClock(hour)
            if let due = steps[hour] {
                for step in due {
                    switch step {
                    case .upsert(let user, let expires, let expiry):
                        let current = versions.lastIndex(where: { $0.user == user && $0.until == end })
                        if current.map({ versions[$0].expiry != expiry }) ?? true {
                            if let current { versions[current].until = hour }
                            versions.append(Version(user: user, expiry: expiry, from: hour, until: end))
                        }
                        try await harness.enqueue("subscription.upsert", [
                            "user_id": .string(user), "phone": "09121234567", "first_name": "Sara", "plan": "gold",
                            "expires_at": expires, "receipt_id": .string("R-\(user)"),
                        ])
                    case .delete(let user):
                        if let index = versions.lastIndex(where: { $0.user == user && $0.until == end }) { versions[index].until = hour }
                        try await harness.enqueue("subscription.delete", ["user_id": .string(user)])
                    }
                }
                try await harness.waitUntilIdle(timeout: .seconds(60))
            }
            try await harness.enqueue("reminders.expiration", ["tick": .integer(Int64(hour.timeIntervalSince1970)), "task": "reminders.expiration"])
            try await harness.waitUntilIdle(timeout: .seconds(60))
            sweeps += 1
            hour = hour.addingTimeInterval(3600)
        }
        worker.signal(SIGTERM)
        #expect(await worker.wait(timeout: .seconds(30)) == 0, "\(worker.output)")
        #expect(sweeps == 32 * 24)

        // The expected releases, from the rules: a reminder belongs to the local day `offset` days before the expiry
        // day; of the offsets whose day had begun at the upsert only the nearest goes out (the "late" rule), the
        // others are skipped; it goes out at the upsert or the first hourly sweep on or after its day outside quiet
        // hours, if the version is still current then and the expiry has not passed.
        let quiet = QuietHours.default
        var expected: [String: Date] = [:]
        var daysLeft: [String: Int] = [:]
        for version in versions {
            let expiryDay = calendar.startOfDay(version.expiry)
            let begun = [10, 3, 1, 0].filter { calendar.adding(days: -$0, to: expiryDay) <= calendar.startOfDay(version.from) }
            for offset in [10, 3, 1, 0] {
                let day = calendar.adding(days: -offset, to: expiryDay)
                if begun.contains(offset) && offset != begun.last { continue }
                var release = max(day, version.from)
                while quiet.contains(release, in: calendar) { release = release.addingTimeInterval(3600) }
                guard release < version.until, release < version.expiry else { continue }
                let id = "reminder.expiration:\(version.user):\(Int64(version.expiry.timeIntervalSince1970)):\(offset)"
                expected[id] = release
                daysLeft[id] = calendar.daysBetween(release, version.expiry)
            }
        }

        let queued = try await harness.events("reminder.queued")
        let released = Dictionary(grouping: queued, by: { $0.data["message_id"]?.stringValue ?? "" })
        #expect(released.values.allSatisfy { $0.count == 1 }, "each reminder released exactly once")
        #expect(Set(released.keys) == Set(expected.keys))
        for event in queued {
            let id = event.data["message_id"]?.stringValue ?? ""
            let time = Date(timeIntervalSince1970: event.at)
            #expect(!quiet.contains(time, in: calendar), "released in quiet hours: \(id) at \(time)")
            #expect(expected[id] == time, "\(id) released at \(time), expected \(String(describing: expected[id]))")
        }
        // None after a renewal or a delete: u3's old Dec 10 expiry (upserted inside offset 10's window: released late,
        // at 08:00 on Dec 1) stops at offset 3, u4 at offset 10.
        let oldU3 = Int64(tehranDayEnd(2024, 12, 10).timeIntervalSince1970)
        #expect(queued.filter { $0.data["user_id"] == "u3" && $0.data["expires_at"] == .integer(oldU3) }.map { $0.data["offset"] } == [10, 3])
        #expect(queued.filter { $0.data["user_id"] == "u4" }.map { $0.data["offset"] } == [10])
        #expect(queued.contains { $0.data["user_id"] == "u3" && $0.data["offset"] == 10 && $0.data["expires_at"] != .integer(oldU3) })

        // The sms.send jobs: one per release, minus those cancelled by the renewal/delete while still waiting here
        // (no sms.send worker reads this queue, so every released job was still waiting).
        let jobs = try await harness.smsJobs()
        let jobIDs = jobs.compactMap { $0.payload["message_id"]?.stringValue }
        #expect(Set(jobIDs).count == jobIDs.count, "no message enqueued twice")
        let cancelled = queued.filter {
            ($0.data["user_id"] == "u3" && $0.data["expires_at"] == .integer(oldU3)) || $0.data["user_id"] == "u4"
        }.compactMap { $0.data["message_id"]?.stringValue }
        #expect(Set(jobIDs) == Set(released.keys).subtracting(cancelled))
        let upserts = try await harness.events("subscription.upserted")
        #expect(upserts.first { $0.data["user_id"] == "u3" && $0.data["outcome"] == "renewed" }?.data["cancelled_jobs"] == 2)
        #expect(try await harness.events("subscription.deleted").first?.data["cancelled_jobs"] == 1)
        // Days left on the SMS: the offset when sent on the reminder's day (u13's came the morning after: 9).
        for job in jobs {
            let id = job.payload["message_id"]?.stringValue ?? ""
            #expect(job.payload["tokens"]?["token"]?.stringValue == daysLeft[id].map(String.init))
        }
        #expect(jobs.first { $0.payload["user_id"] == "u13" }?.payload["tokens"]?["token"] == "9")
        #expect(try await harness.dead().isEmpty)
        // What waits in the scheduled set: only the sweeps quiet hours put off to their end (one a night: their run is
        // in real time, hours away), no sweep that failed and waits for a retry.
        let waiting = try await harness.jobs.store.scheduledEntries(queue: "default", offset: 0, limit: 1000)
        #expect(!waiting.isEmpty && waiting.allSatisfy { $0.envelope?.type == "reminders.expiration" && $0.envelope?.attempt == 0 && $0.envelope?.lastError == nil },
                "no sweep failed and waits for a retry: \(waiting.map { $0.envelope.map { "\($0.type) attempt \($0.attempt)" } ?? "?" })")
        #expect(waiting.count <= 33, "one put-off sweep a night (32 days touch 33): \(waiting.count)")
    }

    @Test("every reminder job type sends a bad payload to the dead set with the reason")
    func badPayloads() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let worker = try await harness.startWorker()
        let bad: [(String, JSONValue, String)] = [
            ("subscription.upsert", ["user_id": "1", "phone": "09121234567", "first_name": "A", "expires_at": "2024-12-01"], "receipt_id"),
            ("subscription.upsert", ["user_id": "1", "phone": "09121234567", "first_name": "A", "expires_at": "next week", "receipt_id": "R"], "expires_at"),
            ("subscription.delete", ["user": "1"], "user_id"),
            ("reminders.expiration", ["tick": "soon"], "tick"),
            ("credit.threshold.set", ["user_id": "1", "threshold_id": "t", "phone": "09121234567", "first_name": "A", "auth_key": "xkeysib-secret"], "threshold"),
            ("credit.threshold.delete", ["user_id": "1"], "threshold_id"),
            ("credit.balance", ["user_id": "1", "credits": "lots"], "credits"),
            ("reminders.low_credit", [:], "tick"),
        ]
        for (type, payload, _) in bad { try await harness.enqueue(type, payload, options: EnqueueOptions(maxAttempts: 1)) }
        let done = try await eventually(timeout: .seconds(30)) { try await harness.dead().count == bad.count }
        worker.signal(SIGTERM)
        #expect(await worker.wait(timeout: .seconds(30)) == 0, "\(worker.output)")
        #expect(done)
        let dead = try await harness.dead()
        for (type, payload, field) in bad {
            // credit.threshold.set's dead copy lacks auth_key (redacted), so it is found by type alone.
            let match = dead.first { $0.type == type && ($0.payload == payload || type == "credit.threshold.set") }
            #expect(match?.lastError?.contains(field) == true, "\(type): \(match?.lastError ?? "not dead")")
        }
        let threshold = dead.first { $0.type == "credit.threshold.set" }
        #expect(threshold?.payload["auth_key"] == nil, "the Brevo auth key is not kept in the dead set")
        #expect(threshold?.payload["user_id"] == "1")
        #expect(try await harness.events("reminder.queued").isEmpty)
    }

    @Test("the scheduler's reminders.expiration task reaches the worker, which releases the due reminder")
    func schedulerDriven() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        // Upserted the day before offset 10's day, so the sweep releases it, not the upsert (which releases an offset
        // whose day has begun at once: this test then passed before the scheduler had run at all).
        try await harness.setClock(tehran(2024, 12, 4, 10))
        let worker = try await harness.startWorker()
        try await harness.enqueue("subscription.upsert", [
            "user_id": "s1", "phone": "09121234567", "first_name": "Sara", "plan": "gold", "expires_at": "2024-12-15", "receipt_id": "R9",
        ])
        try await harness.waitUntilIdle()
        #expect(try await harness.events("reminder.queued").isEmpty, "nothing due yet")
        try await harness.setClock(tehran(2024, 12, 5, 10))
        let scheduler = try harness.startScheduler(schedule: """
            tasks:
              - name: reminders.expiration
                cron: "*/2 * * * * *"
                type: reminders.expiration
                catch_up: skip
            """)
        let queued = try await harness.waitForEvents("reminder.queued", timeout: .seconds(60))
        scheduler.signal(SIGTERM)
        #expect(await scheduler.wait(timeout: .seconds(30)) == 0, "\(scheduler.output)")
        worker.signal(SIGTERM)
        #expect(await worker.wait(timeout: .seconds(30)) == 0, "\(worker.output)")
        #expect(queued.count == 1)
        #expect(queued.first?.data["user_id"] == "s1")
        #expect(queued.first?.data["offset"] == 10)
        #expect(try await harness.smsJobs().count == 1)
    }

    @Test("with sms.send on the same queue, both reminders reach the fake Kavenegar as lookups and end in sms.sent")
    func throughSMSSend() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment.merging(["REMINDER_SMS_QUEUE": "default"]) { $1 })
        try await harness.setClock(tehran(2024, 12, 5, 10))
        let worker = try await harness.startWorker()
        try await harness.enqueue("subscription.upsert", [
            "user_id": "k1", "phone": "09121234567", "first_name": "Sara", "expires_at": "1403-09-25", "receipt_id": "R77",
        ])
        try await harness.enqueue("credit.threshold.set", [
            "user_id": "k1", "threshold_id": "t1", "threshold": 100, "phone": "09121234567", "first_name": "Sara",
        ])
        try await harness.enqueue("credit.balance", ["user_id": "k1", "credits": 20])
        try await harness.waitUntilIdle()
        try await harness.enqueue("reminders.expiration", ["tick": 1])
        try await harness.enqueue("reminders.low_credit", ["tick": 1])
        let sent = try await harness.waitForEvents("sms.sent", count: 2, timeout: .seconds(60))
        worker.signal(SIGTERM)
        #expect(await worker.wait(timeout: .seconds(30)) == 0, "\(worker.output)")
        #expect(Set(sent.compactMap { $0.data["purpose"]?.stringValue }) == ["reminder.expiration", "reminder.low_credit"])
        let lookups = await harness.control.requests(to: .kavenegarLookup).map(\.bodyText)
        #expect(lookups.count == 2)
        let expiration = try #require(lookups.first { $0.contains("template=expiration-reminder") })
        #expect(expiration.contains("token=10"))
        #expect(expiration.contains("token2=1403%2F09%2F25") || expiration.contains("token2=1403/09/25"))
        #expect(expiration.contains("R77"))
        let lowCredit = try #require(lookups.first { $0.contains("template=low-credit") })
        #expect(lowCredit.contains("token=20") && lowCredit.contains("token2=100"))
        #expect(try await harness.dead().isEmpty)
    }
}
