import Foundation
import HoopoeCore
import HoopoeJSON
import HoopoeJobs
import Redis
import TestSupport

/// The queue the reminders' `sms.send` jobs go to in these tests (`REMINDER_SMS_QUEUE`): no worker reads it, so
/// the tests count what was released without needing the `sms.send` handler.
let reminderSMSQueue = "reminder-sms"

/// The environment of every reminders test.
let reminderEnvironment = ["REMINDER_SMS_QUEUE": reminderSMSQueue, "SMS_QUIET_HOURS": "22-08", "REMINDER_OFFSETS_DAYS": "10,3,1,0"]

/// `year-month-day hour:minute` in Tehran.
func tehran(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 0, _ minute: Int = 0) -> Date {
    var parts = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute)
    parts.timeZone = LocalCalendar.tehran.timeZone
    return LocalCalendar.tehran.gregorian.date(from: parts)!
}

extension DomainHarness {
    /// The `sms.send` jobs waiting in `queue` (stream and scheduled), oldest first.
    func smsJobs(queue: String = reminderSMSQueue) async throws -> [JobEnvelope] {
        let k = jobs.keys(queue)
        let stream = try await redis.send("XRANGE", k.stream, "-", "+").array ?? []
        var found = stream.compactMap { entry -> JobEnvelope? in
            guard let bytes = entry.array?.last?.array?.last?.bytes else { return nil }
            return try? JobEnvelope.decode(bytes)
        }
        let scheduled = try await redis.send("HVALS", k.scheduledJobs).array ?? []
        found += scheduled.compactMap { $0.bytes.flatMap { try? JobEnvelope.decode($0) } }
        return found
    }

    /// Runs a handler in this process with a fresh context (as job `id`: the same id for a retry of one job).
    func run<H: JobHandler>(_ handler: H, _ payload: JSONValue, id: String = UUID().uuidString) async throws {
        let decoded = try JSONDecoder().decode(H.Payload.self, from: Data(payload.encoded()))
        try await handler.run(decoded, context: context(type: H.type, id: id))
    }
}

/// The last second of a Tehran day: what a date-only `expires_at` such as `2024-12-15` means.
func tehranDayEnd(_ year: Int, _ month: Int, _ day: Int) -> Date {
    tehran(year, month, day).addingTimeInterval(86_399)
}
