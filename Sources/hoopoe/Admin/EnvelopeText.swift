import HoopoeCore
import HoopoeJSON

/// A job's envelope for people (`dead show`, `job show`) and for `--json`, always through ``PayloadRedaction``:
/// the type's secret payload keys removed, phone numbers and email addresses masked, each line one line (``PrintableText``).
struct EnvelopeText {
    let redaction: PayloadRedaction

    /// `key: value` lines: what a person needs to decide about a job, then its payload.
    func lines(_ original: JobEnvelope) -> [String] {
        let envelope = redaction.redacted(original)
        var lines = [
            "id:          \(envelope.id)",
            "type:        \(envelope.type)",
            "queue:       \(envelope.queue)",
            "attempts:    \(envelope.attempt)" + (envelope.maxAttempts.map { " of \($0)" } ?? ""),
        ]
        if envelope.enqueuedAt > 0 { lines.append("enqueued:    \(TimeText.isoWithRelative(envelope.enqueuedAt))") }
        if let parent = envelope.enqueuedBy { lines.append("enqueued by: \(parent) (hoopoe job show \(parent))") }
        if let runAt = envelope.runAt { lines.append("run at:      \(TimeText.isoWithRelative(runAt))") }
        if let diedAt = envelope.diedAt { lines.append("died:        \(TimeText.isoWithRelative(diedAt))") }
        if let reason = envelope.deadReason { lines.append("dead reason: \(reason)") }
        if let error = envelope.lastError, error != envelope.deadReason { lines.append("last error:  \(error)") }
        if let unique = envelope.uniqueKey { lines.append("unique key:  \(unique)") }
        if let timeout = envelope.timeout { lines.append("timeout:     \(timeout) s") }
        lines.append("payload:     \(envelope.payload.text)")
        return lines.map(PrintableText.oneLine)
    }

    /// The envelope as its wire JSON (snake_case, see `jobs/PROTOCOL.md`), redacted.
    func json(_ envelope: JobEnvelope) -> JSONValue {
        JSONValue.parse(redaction.redacted(envelope).encoded()) ?? .null
    }
}
