import Foundation

/// What running a job needs from its envelope, read by ``EnvelopeReader``: on the hot path by the one-pass
/// ``EnvelopeScan``, which leaves the payload as a range of the envelope's bytes and the full ``JobEnvelope``
/// undecoded until a failure rewrites it; otherwise from a fully decoded envelope (``CheckedEnvelope``).
///
/// One shape for both readers: ``fields`` holds the values as the envelope wrote them (numbers as JSON numbers),
/// which is what ``EnvelopeRules`` judges; the properties below are those values as a run uses them.
struct JobHeader {
    /// The envelope's fields as read; the queue is filled in from the stream when the envelope names none.
    var fields: EnvelopeRules.Fields
    /// Whether the caller waits for the outcome (``JobEnvelope/notify``).
    var notify = false
    /// Where the payload lies in the envelope bytes (nil: decode it from the whole envelope).
    var payload: Range<Int>?
    /// The fully decoded envelope, when it was: boxed, because a header is copied a few times a job and an
    /// envelope held inline made it ~450 bytes to copy each time (the scan's header never has one).
    private var decodedBox: DecodedEnvelope?

    private var decoded: JobEnvelope? {
        get { decodedBox?.envelope }
        set { decodedBox = newValue.map(DecodedEnvelope.init) }
    }

    private final class DecodedEnvelope: Sendable {
        let envelope: JobEnvelope
        init(_ envelope: JobEnvelope) { self.envelope = envelope }
    }

    /// From the one-pass scan: the fields, and where the payload lies.
    init(fields: EnvelopeRules.Fields, payload: Range<Int>) {
        self.fields = fields
        self.payload = payload
    }

    /// From the full decoder: the fields as read and the envelope built from them.
    init(fields: EnvelopeRules.Fields, envelope: JobEnvelope) {
        self.fields = fields
        notify = envelope.notify ?? false
        decoded = envelope
    }

    var id: String { fields.id }
    var type: String { fields.type }
    var queue: String { fields.queue }
    /// In range once ``EnvelopeRules`` accepted the fields; clamped so that it can never trap.
    var attempt: Int { fields.attempt.map(CheckedEnvelope.clamped) ?? 0 }
    var maxAttempts: Int? { fields.maxAttempts.map(CheckedEnvelope.clamped) }
    var enqueuedAt: Double { fields.enqueuedAt ?? 0 }
    var timeout: Double? { fields.timeout }
    var runAt: Double? { fields.runAt }
    var uniqueKey: String? { fields.uniqueKey }

    /// The header of a job read from `queue`'s stream: an envelope that names no queue belongs to that one.
    mutating func fillQueue(_ queue: String) {
        if fields.queue.isEmpty { fields.queue = queue }
        if var envelope = decoded, envelope.queue.isEmpty {
            envelope.queue = queue
            decoded = envelope
        }
    }

    /// The full envelope (decoded now if it was only scanned), its queue filled in; nil when `JSONDecoder`
    /// rejects what the scan accepted (the scan skips string escapes it does not decode), so that the
    /// caller keeps the raw text instead of an envelope rebuilt without its payload (withheld for a type that
    /// redacts: callers pass `rawType`).
    func envelope(_ job: FetchedJob) -> JobEnvelope? {
        if let decoded { return decoded }
        guard var envelope = (try? JSONDecoder().decode(CheckedEnvelope.self, from: Data(job.bytes)))?.envelope else { return nil }
        if envelope.queue.isEmpty { envelope.queue = job.queue }
        return envelope
    }
}
