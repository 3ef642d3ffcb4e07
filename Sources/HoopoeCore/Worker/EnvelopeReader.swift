import Foundation
import HoopoeJSON

/// The worker's verdict on a stream entry's envelope: runnable (its header), or not (why, naming the field).
///
/// Two readers give it and must agree: the one-pass ``EnvelopeScan`` (the hot path, no `JSONDecoder`) for the
/// usual shape, and the full decoder (``CheckedEnvelope``) for everything else. Both hand the same numbers to
/// ``EnvelopeRules``, so a field out of range is refused the same way whichever reader saw it.
enum EnvelopeVerdict {
    case valid(JobHeader)
    /// Not runnable. `envelope` is the decoded envelope when the JSON was readable (kept in the dead set in
    /// place of the raw text); nil when only the raw text can be kept. `id` and `type` are what the envelope
    /// says they are, when that much could be read (so a malformed job keeps its id in the dead set).
    case invalid(reason: String, envelope: JobEnvelope?, id: String?, type: String?)
}

enum EnvelopeReader {
    /// Judges `bytes`, read from `queue`'s stream. `fast: false` skips the one-pass scan (tests compare the two).
    static func read(_ bytes: [UInt8], queue: String, fast: Bool = true) -> EnvelopeVerdict {
        if fast, var header = EnvelopeScan.scan(bytes, streamQueue: queue) {
            if let reason = EnvelopeRules.violation(header.fields) {
                let envelope = (try? JSONDecoder().decode(CheckedEnvelope.self, from: Data(bytes)))?.envelope
                return .invalid(reason: reason, envelope: envelope, id: header.id, type: header.type)
            }
            header.fillQueue(queue)
            return .valid(consume header)  // moved, not copied
        }
        return readFully(bytes, queue: queue)
    }

    /// ``read(_:queue:fast:)`` for what the one-pass scan does not take: the full decoder. Out of line, so the scan's
    /// path compiles as it did before the overlong-number check came here (inlined, it cost the usual job ~38
    /// instructions; callgrind, session 62).
    @inline(never)
    private static func readFully(_ bytes: [UInt8], queue: String) -> EnvelopeVerdict {
        if JSONNumberLength.hasOverlongNumber(bytes) {
            // Before any decoder: Foundation's traps on some such numbers (``JSONNumberLength``), and `Identity`
            // reads no number.
            let identity = Identity.read(bytes)
            return .invalid(
                reason: "invalid envelope: \(JSONNumberLength.Overlong())", envelope: nil, id: identity?.id, type: identity?.type)
        }
        let checked: CheckedEnvelope
        do {
            checked = try JSONDecoder().decode(CheckedEnvelope.self, from: Data(bytes))
        } catch let error as CheckedEnvelope.FieldError {
            let identity = Identity.read(bytes)
            return .invalid(reason: "invalid envelope: \(error.message)", envelope: nil, id: identity?.id, type: identity?.type)
        } catch {
            // The decoder's error names nothing when the text is not JSON it reads: what is wrong is read from the
            // text, and the id and type, when no decoder reads them, from its members before the break.
            let problem: String
            if case .failure(let found) = JSONTextProblem.check(bytes) { problem = found.description } else { problem = Worker.describe(error) }
            let identity = Identity.read(bytes)
            let scanned: (id: String?, type: String?) = identity == nil ? EnvelopeIdentityScan.scan(bytes) : (nil, nil)
            return .invalid(
                reason: "not a valid job envelope: \(problem)", envelope: nil, id: identity?.id ?? scanned.id, type: identity?.type ?? scanned.type)
        }
        let envelope = checked.envelope
        if let reason = EnvelopeRules.violation(checked.fields) {
            return .invalid(reason: reason, envelope: envelope, id: envelope.id, type: envelope.type)
        }
        var header = JobHeader(fields: checked.fields, envelope: envelope)
        header.fillQueue(queue)
        return .valid(header)
    }
}

/// The `id` and `type` of an envelope whose other fields are broken, each when it is a string; and what the dead set
/// needs to settle it as the enqueue left it: its `unique_key` (a string) and `notify` (a boolean).
struct Identity: Decodable {
    let id: String?
    let type: String?
    let uniqueKey: String?
    let notify: Bool?

    private enum Keys: String, CodingKey {
        case id, type, notify
        case uniqueKey = "unique_key"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        id = try? c.decodeIfPresent(String.self, forKey: .id)
        type = try? c.decodeIfPresent(String.self, forKey: .type)
        uniqueKey = try? c.decodeIfPresent(String.self, forKey: .uniqueKey)
        notify = try? c.decodeIfPresent(Bool.self, forKey: .notify)
    }

    /// What can be read of `bytes` this way; nil when they are not a JSON object.
    static func read(_ bytes: [UInt8]) -> Identity? {
        try? JSONDecoder().decode(Identity.self, from: Data(bytes))
    }
}

/// An envelope decoded by `JSONDecoder` with its numbers as read (doubles), so ``EnvelopeRules`` judges exactly
/// what was sent, and the ``JobEnvelope`` built from it with those numbers clamped (never trapping). A field of
/// the wrong JSON type (`"attempt":"0"`) is a ``FieldError`` naming it.
struct CheckedEnvelope: Decodable {
    let fields: EnvelopeRules.Fields
    let envelope: JobEnvelope

    struct FieldError: Error {
        let message: String
    }

    private typealias Keys = JobEnvelope.CodingKeys

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        let id = try Self.string(c, .id, required: true) ?? ""
        let type = try Self.string(c, .type, required: true) ?? ""
        let payload = try c.decode(JSONValue.self, forKey: .payload)
        // queue, attempt and enqueued_at may be missing but not null (the schema's types have no null).
        let queue = try Self.string(c, .queue, nullable: false) ?? ""
        let attempt = try Self.number(c, .attempt, nullable: false)
        let maxAttempts = try Self.number(c, .maxAttempts)
        let timeout = try Self.number(c, .timeout)
        let enqueuedAt = try Self.number(c, .enqueuedAt, nullable: false)
        let runAt = try Self.number(c, .runAt)
        let uniqueKey = try Self.string(c, .uniqueKey)
        let uniqueFor = try Self.number(c, .uniqueFor)
        fields = EnvelopeRules.Fields(
            id: id, type: type, queue: queue, attempt: attempt, maxAttempts: maxAttempts, timeout: timeout,
            enqueuedAt: enqueuedAt, runAt: runAt, uniqueKey: uniqueKey, uniqueFor: uniqueFor)
        var envelope = JobEnvelope(
            id: id, type: type, queue: queue, payload: payload, attempt: Self.clamped(attempt ?? 0),
            maxAttempts: maxAttempts.map(Self.clamped), enqueuedAt: enqueuedAt ?? 0, runAt: runAt, uniqueKey: uniqueKey,
            uniqueFor: uniqueFor, timeout: timeout, lastError: try Self.string(c, .lastError))
        do {
            envelope.notify = try c.decodeIfPresent(Bool.self, forKey: .notify)
        } catch DecodingError.typeMismatch {
            throw FieldError(message: "notify must be true, false or null (got \(try Self.kind(c, .notify)))")
        }
        envelope.deadReason = try Self.string(c, .deadReason)
        envelope.diedAt = try Self.number(c, .diedAt)
        // Written by Hoopoe on retries and only shown: a list of another shape is dropped, never a reason to bury.
        envelope.failedAttempts = (try? c.decodeIfPresent([FailedAttempt].self, forKey: .failedAttempts)) ?? nil
        envelope.otherFields = try JobEnvelope.otherFields(decoder)
        self.envelope = envelope
    }

    /// A whole number for an `Int` field that cannot trap: fractions dropped, the rest clamped.
    static func clamped(_ value: Double) -> Int {
        guard value.isFinite else { return value > 0 ? Int.max : 0 }
        return Int(max(-9e18, min(9e18, value)))
    }

    private static func string(_ c: KeyedDecodingContainer<Keys>, _ key: Keys, required: Bool = false, nullable: Bool = true) throws -> String? {
        if !required, !c.contains(key) { return nil }
        if !required, nullable, try c.decodeNil(forKey: key) { return nil }
        do {
            return try c.decode(String.self, forKey: key)
        } catch DecodingError.typeMismatch {
            throw FieldError(message: "\(key.rawValue) must be a string (got \(try kind(c, key)))")
        } catch DecodingError.valueNotFound {
            throw FieldError(message: "\(key.rawValue) must be a string (got null)")
        }
    }

    private static func number(_ c: KeyedDecodingContainer<Keys>, _ key: Keys, nullable: Bool = true) throws -> Double? {
        if try !c.contains(key) || (nullable && c.decodeNil(forKey: key)) { return nil }
        do {
            return try c.decode(Double.self, forKey: key)
        } catch DecodingError.typeMismatch {
            throw FieldError(message: "\(key.rawValue) must be a number (got \(try kind(c, key)))")
        } catch DecodingError.valueNotFound {
            throw FieldError(message: "\(key.rawValue) must be a number (got null)")
        }
    }

    /// What a mismatched value is, in JSON's words, e.g. `a string "0"`.
    private static func kind(_ c: KeyedDecodingContainer<Keys>, _ key: Keys) throws -> String {
        switch try c.decode(JSONValue.self, forKey: key) {
        case .string(let text): "a string \(EnvelopeRules.quoted(text, limit: 20, quote: "\""))"
        case .bool: "true or false"
        case .array: "an array"
        case .object: "an object"
        case .integer, .double: "a number"
        case .null: "null"
        }
    }
}
