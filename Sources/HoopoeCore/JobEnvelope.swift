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
    /// The fields this release does not know (an enqueuer's `trace_id`, a later release's field), as they came: a
    /// retry, a hand-back and the dead set write them back, so a field a service added survives every rewrite of its
    /// job (jobs/PROTOCOL.md: unknown fields are kept). Nil when there are none.
    public var otherFields: [String: JSONValue]?

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
        otherFields = try Self.otherFields(decoder)
    }

    /// The fields of the object `decoder` reads that are not ``CodingKeys``; nil when there are none.
    static func otherFields(_ decoder: any Decoder) throws -> [String: JSONValue]? {
        let all = try decoder.container(keyedBy: OtherKey.self)
        var others: [String: JSONValue] = [:]
        for key in all.allKeys where CodingKeys(stringValue: key.stringValue) == nil {
            others[key.stringValue] = try all.decode(JSONValue.self, forKey: key)
        }
        return others.isEmpty ? nil : others
    }

    /// Any key: what ``otherFields`` are read with.
    private struct OtherKey: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// The envelope as compact JSON bytes (sorted keys, so equal jobs are equal bytes); empty when the payload holds
    /// a number JSON cannot carry (NaN, an infinity).
    ///
    /// Written by ``ScratchJSONWriter`` with ``JSONTextWriting``'s rules, byte for byte what `JSONEncoder` with sorted
    /// keys and unescaped slashes writes (the protocol's bytes, jobs/PROTOCOL.md), at a fraction of its cost (decision
    /// 0034).
    public func encoded() -> [UInt8] {
        (try? write(payloadJSON: nil)) ?? []
    }

    /// The envelope as ``encoded()`` writes it, with `payloadJSON` — a payload already encoded as JSON (by
    /// ``encodePayload(_:)``) — as its `payload`: a typed payload is encoded once, straight into the envelope's
    /// bytes, not through a ``JSONValue``. This envelope's own `payload` is not written.
    func encoded(payloadJSON: [UInt8]) -> [UInt8] {
        (try? write(payloadJSON: payloadJSON)) ?? []
    }

    /// Every field present, in the sorted order of their keys (`CodingKeys`); nil optionals are left out, as the
    /// synthesized `Encodable` leaves them out.
    private func write(payloadJSON: [UInt8]?) throws(JSONNotEncodable) -> [UInt8] {
        try ScratchJSONWriter.write { (out: inout ScratchJSONWriter) throws(JSONNotEncodable) in
            try write(payloadJSON: payloadJSON, into: &out)
        }
    }

    private func write(
        payloadJSON: [UInt8]?, into out: inout some JSONTextWriting
    ) throws(JSONNotEncodable) {
        typealias Key = EnvelopeKeyBytes
        out.append(UInt8(ascii: "{"))
        // ``otherFields`` go in among the known keys, in the same sorted order.
        var keys = KeyOrder(others: otherFields.map { $0.sorted { $0.key < $1.key }[...] } ?? [])
        try keys.key(Key.attempt, "attempt", into: &out)
        out.integer(Int64(attempt))
        if let deadReason { try keys.key(Key.deadReason, "dead_reason", into: &out); out.string(deadReason) }
        if let diedAt { try keys.key(Key.diedAt, "died_at", into: &out); try out.number(diedAt) }
        try keys.key(Key.enqueuedAt, "enqueued_at", into: &out)
        try out.number(enqueuedAt)
        if let failedAttempts {
            try keys.key(Key.failedAttempts, "failed_attempts", into: &out)
            out.append(UInt8(ascii: "["))
            for (index, failure) in failedAttempts.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                out.append(UInt8(ascii: "{"))
                out.rawKey(Key.at, first: true)
                try out.number(failure.at)
                out.rawKey(Key.attempt, first: false)
                out.integer(Int64(failure.attempt))
                out.rawKey(Key.error, first: false)
                out.string(failure.error)
                out.append(UInt8(ascii: "}"))
            }
            out.append(UInt8(ascii: "]"))
        }
        try keys.key(Key.id, "id", into: &out)
        out.string(id)
        if let lastError { try keys.key(Key.lastError, "last_error", into: &out); out.string(lastError) }
        if let maxAttempts { try keys.key(Key.maxAttempts, "max_attempts", into: &out); out.integer(Int64(maxAttempts)) }
        if let notify { try keys.key(Key.notify, "notify", into: &out); out.bool(notify) }
        try keys.key(Key.payload, "payload", into: &out)
        if let payloadJSON { out.raw(payloadJSON) } else { try out.value(payload) }
        try keys.key(Key.queue, "queue", into: &out)
        out.string(queue)
        if let runAt { try keys.key(Key.runAt, "run_at", into: &out); try out.number(runAt) }
        if let timeout { try keys.key(Key.timeout, "timeout", into: &out); try out.number(timeout) }
        try keys.key(Key.type, "type", into: &out)
        out.string(type)
        if let uniqueFor { try keys.key(Key.uniqueFor, "unique_for", into: &out); try out.number(uniqueFor) }
        if let uniqueKey { try keys.key(Key.uniqueKey, "unique_key", into: &out); out.string(uniqueKey) }
        try keys.rest(into: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// Writes the known keys with the commas between them, and ``otherFields`` in their sorted places among them. An
    /// envelope without other fields (nearly every one) pays a test a key: the writer is on every enqueue's path.
    private struct KeyOrder {
        var others: ArraySlice<(key: String, value: JSONValue)>
        var first = true

        /// The key `quoted` (named `name`), after any other field that sorts before it.
        @inline(__always)
        mutating func key(_ quoted: [UInt8], _ name: String, into out: inout some JSONTextWriting) throws(JSONNotEncodable) {
            if !others.isEmpty { try others(before: name, into: &out) }
            out.rawKey(quoted, first: first)
            first = false
        }

        /// The other fields left after the last known key.
        mutating func rest(into out: inout some JSONTextWriting) throws(JSONNotEncodable) {
            try others(before: nil, into: &out)
        }

        private mutating func others(before name: String?, into out: inout some JSONTextWriting) throws(JSONNotEncodable) {
            while let other = others.first, name.map({ other.key < $0 }) ?? true {
                if !first { out.append(UInt8(ascii: ",")) }
                out.string(other.key)
                out.append(UInt8(ascii: ":"))
                try out.value(other.value)
                others = others.dropFirst()
                first = false
            }
        }
    }

    /// A payload as the JSON ``encoded()`` would write for it (sorted keys, slashes unescaped).
    static func encodePayload(_ payload: some Encodable) throws -> [UInt8] {
        Array(try encoder.encode(payload))
    }

    /// Decodes an envelope from JSON bytes; one with a number longer than ``JSONNumberLength/maxCharacters`` is
    /// refused (``JSONNumberLength/Overlong``) before the decoder, which traps on some.
    public static func decode(_ bytes: [UInt8]) throws -> JobEnvelope {
        if JSONNumberLength.hasOverlongNumber(bytes) { throw JSONNumberLength.Overlong() }
        return try JSONDecoder().decode(JobEnvelope.self, from: Data(bytes))
    }

    /// Encodes typed payloads (``encodePayload(_:)``); the envelope itself is written by ``CompactJSONWriter``.
    private static let encoder: JSONEncoder = {
        // Configured once here and never mutated after: safe to share across threads.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}

/// Each envelope key as written, quoted and followed by its colon (`"id":`): ``JobEnvelope/encoded()`` appends them
/// without escaping or sorting at run time.
private enum EnvelopeKeyBytes {
    static let attempt = quoted("attempt")
    static let deadReason = quoted(JobEnvelope.CodingKeys.deadReason.rawValue)
    static let diedAt = quoted(JobEnvelope.CodingKeys.diedAt.rawValue)
    static let enqueuedAt = quoted(JobEnvelope.CodingKeys.enqueuedAt.rawValue)
    static let failedAttempts = quoted(JobEnvelope.CodingKeys.failedAttempts.rawValue)
    static let id = quoted("id")
    static let lastError = quoted(JobEnvelope.CodingKeys.lastError.rawValue)
    static let maxAttempts = quoted(JobEnvelope.CodingKeys.maxAttempts.rawValue)
    static let notify = quoted("notify")
    static let payload = quoted("payload")
    static let queue = quoted("queue")
    static let runAt = quoted(JobEnvelope.CodingKeys.runAt.rawValue)
    static let timeout = quoted("timeout")
    static let type = quoted("type")
    static let uniqueFor = quoted(JobEnvelope.CodingKeys.uniqueFor.rawValue)
    static let uniqueKey = quoted(JobEnvelope.CodingKeys.uniqueKey.rawValue)
    // FailedAttempt's keys.
    static let at = quoted("at")
    static let error = quoted("error")

    private static func quoted(_ key: String) -> [UInt8] { Array("\"\(key)\":".utf8) }
}

/// Job ids: 26 characters of Crockford base32, time-ordered (48 bits of milliseconds, 80 random bits),
/// like a ULID, so ids sort by creation and need no coordination.
public enum JobID {
    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    /// A new id.
    public static func make(now: Date = Date()) -> String {
        // Clamped: a clock far off (or a caller's odd Date) must not trap the conversion; 48 bits hold the time.
        let milliseconds = now.timeIntervalSince1970 * 1000
        var time = milliseconds.isFinite ? UInt64(min(max(0, milliseconds), Double(1 << 48 - 1))) : 0
        return String(unsafeUninitializedCapacity: 26) { bytes in
            for index in stride(from: 9, through: 0, by: -1) {
                bytes[index] = alphabet[Int(time & 31)]
                time >>= 5
            }
            // 16 random bytes, 5 bits of each used: from a pool, not one `getrandom` call per 8 bytes (RandomBytePool).
            withUnsafeTemporaryAllocation(byteCount: 16, alignment: 8) { random in
                RandomBytePool.fill(random)
                for index in 10..<26 { bytes[index] = alphabet[Int(random[index - 10] & 31)] }
            }
            return 26
        }
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
