import HoopoeCore
import HoopoeJSON

extension EventLog {
    /// How many of the newest events are read for one job's events: a bounded `XREVRANGE`, however long the stream.
    public static let jobEventWindow = 2000

    /// One job's events among the newest ``jobEventWindow``, newest first: those it wrote (their `job` field), those
    /// whose `job_id` is its id (`job.dead`; `reminder.queued`, which enqueued it) and, when its payload has a
    /// `message_id` (``messageID(of:)``), those about that message (`sms.status` from the delivery poll, a resend's
    /// `sms.sent`). The one rule for the dashboard's job page and `hoopoe job show`. Events carry no secret
    /// (jobs/EVENTS.md); phone numbers are the caller's to mask.
    public func events(of envelope: JobEnvelope) async throws -> [Recorded] {
        let messageID = Self.messageID(of: envelope)
        let needles = ["\"\(envelope.id)\""] + (messageID.map { ["\"\($0)\""] } ?? [])
        return try await recent(count: Self.jobEventWindow, mentioning: needles, writtenBy: envelope.id).filter { event in
            if event.job == envelope.id || event.data["job_id"] == .string(envelope.id) { return true }
            guard let messageID else { return false }
            return event.data["message_id"] == .string(messageID)
        }
    }

    /// The `message_id` of a job's payload (`sms.send`, `email.send`), which its message's events carry; nil when it
    /// has none.
    public static func messageID(of envelope: JobEnvelope) -> String? {
        switch envelope.payload["message_id"] {
        case .string(let text): text
        case .integer(let number): String(number)
        default: nil
        }
    }
}
