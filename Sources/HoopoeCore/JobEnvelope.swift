import Foundation
import HoopoeJSON

/// A job as it travels through Redis: the wire format other services write (see `jobs/PROTOCOL.md`).
///
/// Field names are snake_case on the wire. Times are Unix seconds with a fraction, because every
/// language can produce them without a date library. Only `type` and `payload` are required from an
/// enqueuer that writes the stream directly; the engine fills in the rest (see ``init(from:)``).
public struct JobEnvelope: Codable, Sendable, Hashable {
    /// Unique id, chosen by the enqueuer (1–128 of `A-Z a-z 0-9 . _ : -`, ``EnvelopeRules``; the engine makes
    /// 26-character ULID-like ids).
    public var id: String
    /// The handler's name, e.g. `sms.send`. Stable: it is stored in Redis.
    public var type: String
    /// The queue it was enqueued on.
    public var queue: String
    /// The handler's input, any JSON value (an object by convention).
    public var payload: JSONValue
    /// Attempts already made (0 when new). The run in progress is attempt `attempt + 1`.
    public var attempt: Int
    /// Attempts allowed before the dead set; nil means the handler's default.
    public var maxAttempts: Int?
    /// When it was first enqueued (Unix seconds).
    public var enqueuedAt: Double
    /// When it may run (Unix seconds); nil means now.
    public var runAt: Double?
    /// Uniqueness key: a second enqueue with the same key is refused while this job is pending or running.
    public var uniqueKey: String?
    /// Seconds the unique lock lasts at most (it is released earlier when the job finishes).
    public var uniqueFor: Double?
    /// Seconds the handler may run before it is cancelled; nil means the handler's default.
    public var timeout: Double?
    /// True: when the job settles for good (done, discarded or dead), the worker pushes its outcome to the list
    /// ``QueueKeys/answer(_:)`` for a caller's `BLPOP` (decision 0006). Retries and early arrivals do not count.
    public var notify: Bool?
    /// The last failure's message, for retries and the dead set.
    public var lastError: String?
    /// Why it is in the dead set.
    public var deadReason: String?
    /// When it entered the dead set (Unix seconds).
    public var diedAt: Double?
    /// The newest earlier attempts that failed and were retried, oldest first (at most ``FailedAttempt/maxKept``);
    /// written by the worker on each retry, nil for a job never retried (and in envelopes from before it existed).
    public var failedAttempts: [FailedAttempt]?

    enum CodingKeys: String, CodingKey {
        case id, type, queue, payload, attempt, timeout, notify
        case maxAttempts = "max_attempts"
        case enqueuedAt = "enqueued_at"
        case runAt = "run_at"
        case uniqueKey = "unique_key"
        case uniqueFor = "unique_for"
        case lastError = "last_error"
        case deadReason = "dead_reason"
        case diedAt = "died_at"
        case failedAttempts = "failed_attempts"
    }

    /// - Parameters:
    ///   - id: unique id (``JobID/make()`` by default).
    ///   - type: the handler's name.
    ///   - queue: the queue.
    ///   - payload: the handler's input.
    public init(
        id: String = JobID.make(), type: String, queue: String = "default", payload: JSONValue = .object([:]),
        attempt: Int = 0, maxAttempts: Int? = nil, enqueuedAt: Double = Date().timeIntervalSince1970, runAt: Double? = nil,
        uniqueKey: String? = nil, uniqueFor: Double? = nil, timeout: Double? = nil, lastError: String? = nil
    ) {
        self.id = id
        self.type = type
        self.queue = queue
        self.payload = payload
        self.attempt = attempt
        self.maxAttempts = maxAttempts
        self.enqueuedAt = enqueuedAt
        self.runAt = runAt
        self.uniqueKey = uniqueKey
        self.uniqueFor = uniqueFor
        self.timeout = timeout
        self.lastError = lastError
    }

    /// Decodes leniently where leniency loses nothing: a missing `attempt` is 0, a missing `queue` is
    /// the queue the job was read from (set by the caller), a missing `enqueued_at` is 0 (unknown).
    /// `id`, `type` and `payload` are required; without them a job cannot be run or reported.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        type = try c.decode(String.self, forKey: .type)
        payload = try c.decode(JSONValue.self, forKey: .payload)
        queue = try c.decodeIfPresent(String.self, forKey: .queue) ?? ""
        attempt = try c.decodeIfPresent(Int.self, forKey: .attempt) ?? 0
        maxAttempts = try c.decodeIfPresent(Int.self, forKey: .maxAttempts)
        enqueuedAt = try c.decodeIfPresent(Double.self, forKey: .enqueuedAt) ?? 0
        runAt = try c.decodeIfPresent(Double.self, forKey: .runAt)
        uniqueKey = try c.decodeIfPresent(String.self, forKey: .uniqueKey)
        uniqueFor = try c.decodeIfPresent(Double.self, forKey: .uniqueFor)
        timeout = try c.decodeIfPresent(Double.self, forKey: .timeout)
        notify = try c.decodeIfPresent(Bool.self, forKey: .notify)
        lastError = try c.decodeIfPresent(String.self, forKey: .lastError)
        deadReason = try c.decodeIfPresent(String.self, forKey: .deadReason)
        diedAt = try c.decodeIfPresent(Double.self, forKey: .diedAt)
        // Only shown, never needed to run: a list of another shape is dropped rather than making the envelope unreadable.
        failedAttempts = (try? c.decodeIfPresent([FailedAttempt].self, forKey: .failedAttempts)) ?? nil
    }

    /// The envelope as compact JSON bytes (sorted keys, so equal jobs are equal bytes).
    public func encoded() -> [UInt8] {
        // Encoding a value of this shape cannot fail: every field is a string, number or JSONValue.
        (try? Array(JobEnvelope.encoder.encode(self))) ?? []
    }

    /// The envelope as ``encoded()`` writes it, with `payloadJSON` — a payload already encoded as JSON (by
    /// ``encodePayload(_:)``) — as its `payload`: a typed payload is encoded once, straight into the envelope's
    /// bytes, not through a ``JSONValue``. This envelope's own `payload` is not written.
    func encoded(payloadJSON: [UInt8]) -> [UInt8] {
        var header = self
        header.payload = .null
        let bytes = header.encoded()
        // `"payload":null` occurs once, as the key: inside a JSON string each `"` is escaped (`\"`), so the
        // sequence `payload":` cannot appear in one.
        guard let range = bytes.firstRange(of: Self.nullPayload) else { return bytes }
        var out = [UInt8]()
        out.reserveCapacity(bytes.count + payloadJSON.count)
        out += bytes[..<range.lowerBound]
        out += Self.payloadKey
        out += payloadJSON
        out += bytes[range.upperBound...]
        return out
    }

    /// A payload as the JSON ``encoded()`` would write for it (sorted keys, slashes unescaped).
    static func encodePayload(_ payload: some Encodable) throws -> [UInt8] {
        Array(try encoder.encode(payload))
    }

    private static let payloadKey = Array(#""payload":"#.utf8)
    private static let nullPayload = Array(#""payload":null"#.utf8)

    /// Decodes an envelope from JSON bytes.
    public static func decode(_ bytes: [UInt8]) throws -> JobEnvelope {
        try JSONDecoder().decode(JobEnvelope.self, from: Data(bytes))
    }

    private static let encoder: JSONEncoder = {
        // Configured once here and never mutated after: safe to share across threads.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}

/// Job ids: 26 characters of Crockford base32, time-ordered (48 bits of milliseconds, 80 random bits),
/// like a ULID, so ids sort by creation and need no coordination.
public enum JobID {
    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    /// A new id.
    public static func make(now: Date = Date()) -> String {
        var bytes = [UInt8](repeating: 0, count: 26)
        // Clamped: a clock far off (or a caller's odd Date) must not trap the conversion; 48 bits hold the time.
        let milliseconds = now.timeIntervalSince1970 * 1000
        var time = milliseconds.isFinite ? UInt64(min(max(0, milliseconds), Double(1 << 48 - 1))) : 0
        for index in stride(from: 9, through: 0, by: -1) {
            bytes[index] = alphabet[Int(time & 31)]
            time >>= 5
        }
        var random = SystemRandomNumberGenerator()
        for index in 10..<26 { bytes[index] = alphabet[Int(random.next() & 31)] }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The creation time (Unix milliseconds) an id of ``make(now:)``'s shape carries: 26 characters of the
    /// alphabet, the first 10 the time. Nil for any other id (a caller-chosen one). A caller-chosen id that happens to
    /// have this shape yields a time that means nothing; a lookup must treat it as a hint, never as a fact.
    public static func milliseconds(of id: String) -> UInt64? {
        let bytes = Array(id.utf8)
        guard bytes.count == 26 else { return nil }
        var time: UInt64 = 0
        for (index, byte) in bytes.enumerated() {
            guard let digit = alphabet.firstIndex(of: byte) else { return nil }
            if index < 10 { time = time << 5 | UInt64(digit) }
        }
        return time < 1 << 48 ? time : nil
    }
}
