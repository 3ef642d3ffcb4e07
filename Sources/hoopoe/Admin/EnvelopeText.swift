import HoopoeCore
import HoopoeJSON

/// A job's envelope for people (`dead show`, `job show`) and for `--json`, phone numbers masked.
enum EnvelopeText {
    /// `key: value` lines: what a person needs to decide about a job, then its payload.
    static func lines(_ envelope: JobEnvelope) -> [String] {
        var lines = [
            "id:          \(envelope.id)",
            "type:        \(envelope.type)",
            "queue:       \(envelope.queue)",
            "attempts:    \(envelope.attempt)" + (envelope.maxAttempts.map { " of \($0)" } ?? ""),
        ]
        if envelope.enqueuedAt > 0 { lines.append("enqueued:    \(TimeText.isoWithRelative(envelope.enqueuedAt))") }
        if let runAt = envelope.runAt { lines.append("run at:      \(TimeText.isoWithRelative(runAt))") }
        if let diedAt = envelope.diedAt { lines.append("died:        \(TimeText.isoWithRelative(diedAt))") }
        if let reason = envelope.deadReason { lines.append("dead reason: \(PhoneMask.mask(reason))") }
        if let error = envelope.lastError, error != envelope.deadReason { lines.append("last error:  \(PhoneMask.mask(error))") }
        if let unique = envelope.uniqueKey { lines.append("unique key:  \(PhoneMask.mask(unique))") }
        if let timeout = envelope.timeout { lines.append("timeout:     \(timeout) s") }
        lines.append("payload:     \(envelope.payload.masked.text)")
        return lines
    }

    /// The envelope as its wire JSON (snake_case, see `jobs/PROTOCOL.md`), with text fields masked.
    static func json(_ envelope: JobEnvelope) -> JSONValue {
        (JSONValue.parse(envelope.encoded()) ?? .null).masked
    }
}
