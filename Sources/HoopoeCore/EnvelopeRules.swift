/// The limits every field of a job envelope must respect (`jobs/schemas/envelope.schema.json`, `jobs/PROTOCOL.md`
/// and the clients state the same ones).
///
/// Why so strict: an envelope comes from any service, in any language, and its numbers end up in `Duration`s,
/// `Int` arithmetic and Redis scores. A value out of range used to trap the whole worker process (a `timeout` of
/// `1e308`), run nonsense (`timeout: -5` retried as "timed out after -5 seconds"), or schedule a job for the year
/// 58883 (milliseconds sent as seconds). Checking every field once, before use, with the same rule on every path
/// (the one-pass scan, the full decoder, enqueue), makes such a job a dead-set entry with a reason instead.
///
/// The checks are integer and double comparisons and byte-class scans: cheap enough for the worker's hot path.
public enum EnvelopeRules {
    /// The largest envelope, in bytes of UTF-8 JSON (512 KiB).
    public static let maxBytes = 524_288
    /// The room past the size limit a retry's envelope may take, for the fields a worker adds to it (`attempt`,
    /// `run_at`, `last_error`, `failed_attempts`): 8 KiB. Without it, a job enqueued near the limit went to the dead set
    /// at its first transient failure ("its retry's envelope would be … bytes"). A worker reads an envelope this much
    /// over the limit only when its `attempt` is above 0 (one Hoopoe rewrote); a new one is held to ``maxBytes``.
    public static let retryRoomBytes = 8192
    /// The longest `last_error` a retry keeps when its envelope would not fit ``retryRoomBytes`` otherwise.
    static let shortLastErrorLength = 300
    /// Longest `id`.
    public static let maxIDLength = 128
    /// Longest `type`.
    public static let maxTypeLength = 100
    /// Longest `queue`.
    public static let maxQueueLength = 64
    /// Largest `attempt` and `max_attempts`.
    public static let maxAttempts = 1000
    /// Largest `timeout`, in seconds (a day).
    public static let maxTimeout = 86_400.0
    /// Timestamps (`enqueued_at`, `run_at`) must be below this: larger ones are milliseconds sent as seconds.
    public static let timestampLimit = 1e11
    /// Longest `unique_key`, in Unicode scalars.
    public static let maxUniqueKeyLength = 200
    /// Largest `unique_for`, in seconds (30 days).
    public static let maxUniqueFor = 2_592_000.0
    /// The longest a unique lock or a once-key lasts, in seconds (10⁹, about 31.7 years): the enqueue script refuses a
    /// longer ARGV[4] or ARGV[5]. A unique job's default lock (its delay + 24 h) and `once_for` must fit it.
    public static let maxKeySeconds = 1_000_000_000.0
    /// What the dead set keeps of an envelope's raw text at most (64 KiB).
    public static let deadRawBytes = 65_536

    /// The fields that are checked, as read from an envelope (numbers as JSON numbers, i.e. doubles; nil when
    /// missing or null).
    struct Fields {
        var id: String
        var type: String
        /// Empty when missing: the queue the job was read from.
        var queue: String
        var attempt: Double?
        var maxAttempts: Double?
        var timeout: Double?
        var enqueuedAt: Double?
        var runAt: Double?
        var uniqueKey: String?
        var uniqueFor: Double?
    }

    /// Why `fields` break the rules (`invalid envelope: ...`, naming the first bad field), or nil if they do not.
    /// - Parameter namesChecked: the caller has checked the id, type and queue already (enqueue does, to word its own
    ///   errors), so only the other fields are.
    static func violation(_ fields: Fields, namesChecked: Bool = false) -> String? {
        if !namesChecked {
            if let problem = idProblem(fields.id) { return "invalid envelope: id \(problem)" }
            if let problem = typeProblem(fields.type) { return "invalid envelope: type \(problem)" }
            if !fields.queue.isEmpty, let problem = queueProblem(fields.queue) { return "invalid envelope: queue \(problem)" }
        }
        if let value = fields.attempt, !isWhole(value, in: 0...Double(maxAttempts)) {
            return "invalid envelope: attempt must be a whole number from 0 to \(maxAttempts) (got \(describe(value)))"
        }
        if let value = fields.maxAttempts, !isWhole(value, in: 1...Double(maxAttempts)) {
            return "invalid envelope: max_attempts must be a whole number from 1 to \(maxAttempts) (got \(describe(value)))"
        }
        if let value = fields.timeout, !(value > 0 && value <= maxTimeout) {
            return "invalid envelope: timeout must be > 0 and <= 86400 seconds (got \(describe(value)))"
        }
        if let value = fields.enqueuedAt, let problem = timestampProblem(value) { return "invalid envelope: enqueued_at \(problem)" }
        if let value = fields.runAt, let problem = timestampProblem(value) { return "invalid envelope: run_at \(problem)" }
        if let key = fields.uniqueKey, let problem = uniqueKeyProblem(key) { return "invalid envelope: unique_key \(problem)" }
        if let value = fields.uniqueFor, !(value > 0 && value <= maxUniqueFor) {
            return "invalid envelope: unique_for must be > 0 and <= 2592000 seconds (got \(describe(value)))"
        }
        return nil
    }

    /// Why `id` is not a job id, or nil.
    public static func idProblem(_ id: String) -> String? {
        nameProblem(id, limit: maxIDLength, allowColon: true)
    }

    /// Why `type` is not a job type name, or nil.
    public static func typeProblem(_ type: String) -> String? {
        nameProblem(type, limit: maxTypeLength, allowColon: true)
    }

    /// Why `queue` is not a queue name, or nil: `^(?!.*\.\.)[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$`.
    public static func queueProblem(_ queue: String) -> String? {
        if isPlainName(queue, limit: maxQueueLength, colon: false, queueDots: true) { return nil }
        if let problem = nameProblem(queue, limit: maxQueueLength, allowColon: false) { return problem }
        if queue.utf8.first == UInt8(ascii: ".") { return "must not start with '.' (got \(quoted(queue)))" }
        var previousDot = false
        for byte in queue.utf8 {
            let dot = byte == UInt8(ascii: ".")
            if dot && previousDot { return "must not contain '..' (got \(quoted(queue)))" }
            previousDot = dot
        }
        return nil
    }

    /// Why `key` cannot be a unique key, or nil.
    public static func uniqueKeyProblem(_ key: String) -> String? {
        var count = 0
        for scalar in key.unicodeScalars {
            count += 1
            if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) { return "must not contain control characters" }
        }
        if count == 0 || count > maxUniqueKeyLength { return "must be 1 to \(maxUniqueKeyLength) characters (got \(count))" }
        return nil
    }

    /// Why `seconds` is not a Unix time in seconds, or nil.
    static func timestampProblem(_ seconds: Double) -> String? {
        guard seconds.isFinite, seconds >= 0 else { return "must be Unix seconds >= 0 (got \(describe(seconds)))" }
        guard seconds < timestampLimit else { return "must be Unix seconds below 1e11 (got \(describe(seconds)): milliseconds?)" }
        return nil
    }

    /// 1 to `limit` characters from `A-Z a-z 0-9 . _ -` (and `:` when allowed).
    private static func nameProblem(_ text: String, limit: Int, allowColon: Bool) -> String? {
        if isPlainName(text, limit: limit, colon: allowColon, queueDots: false) { return nil }
        let count = text.utf8.count
        guard count >= 1 else { return "must not be empty" }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                continue
            case UInt8(ascii: ":") where allowColon:
                continue
            default:
                let allowed = allowColon ? "A-Z a-z 0-9 . _ : -" : "A-Z a-z 0-9 . _ -"
                return "may only contain \(allowed) (got \(quoted(text)))"
            }
        }
        guard count <= limit else { return "must be at most \(limit) characters (got \(count))" }
        return nil
    }

    /// Bytes 0–63 that a name may hold: `-` `.` `0-9`; ``nameBytesWithColon`` adds `:`.
    private static let nameBytesLow: UInt64 = 1 << 45 | 1 << 46 | 0x3FF << 48
    private static let nameBytesWithColon: UInt64 = nameBytesLow | 1 << 58
    /// Bytes 64–127 that a name may hold: `A-Z` `_` `a-z`.
    private static let nameBytesHigh: UInt64 = 0x3FF_FFFF << 1 | 1 << 31 | 0x3FF_FFFF << 33

    /// The hot path of every name check (a job's id, type and queue, at enqueue and for every job a worker runs): a
    /// native string's bytes, each tested against a 128-bit set in one pass; with `queueDots`, also no leading `.` and
    /// no `..`. False sends the caller to the slow path, which finds the problem and words it.
    @inline(__always)
    private static func isPlainName(_ text: String, limit: Int, colon: Bool, queueDots: Bool) -> Bool {
        let low = colon ? nameBytesWithColon : nameBytesLow
        let high = nameBytesHigh
        return text.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            guard bytes.count >= 1, bytes.count <= limit else { return false }
            if !queueDots, bytes.count >= 8 { return allNameBytes(bytes, colon: colon) }
            var previousDot = queueDots  // a leading dot counts as following one
            for byte in bytes {
                let set = byte < 64 ? low : (byte < 128 ? high : 0)
                guard set &>> UInt64(byte) & 1 == 1 else { return false }  // &>> shifts by byte % 64
                if queueDots {
                    let dot = byte == UInt8(ascii: ".")
                    if dot && previousDot { return false }
                    previousDot = dot
                }
            }
            return true
        } ?? false
    }

    /// Whether every byte of `bytes` (eight or more) is a name byte, eight at a time: each word, then the last eight
    /// bytes again for a tail shorter than a word. An id of 26 and a type of 9 bytes took ~490 instructions a job a
    /// byte at a time (callgrind, session 27).
    @inline(__always)
    private static func allNameBytes(_ bytes: UnsafeBufferPointer<UInt8>, colon: Bool) -> Bool {
        let base = UnsafeRawPointer(bytes.baseAddress!)
        var offset = 0
        while offset + 8 <= bytes.count {
            guard isNameWord(base.loadUnaligned(fromByteOffset: offset, as: UInt64.self), colon: colon) else { return false }
            offset += 8
        }
        return offset == bytes.count || isNameWord(base.loadUnaligned(fromByteOffset: bytes.count - 8, as: UInt64.self), colon: colon)
    }

    /// Whether all eight bytes of `word` are name bytes (``nameBytesLow`` and ``nameBytesHigh``, as ranges). For a byte
    /// `x` below 0x80, `x + (0x80 - low)` has its top bit set when `x >= low`, and `x + (0x7F - high)` when `x > high`;
    /// neither sum passes 0xFF, so no byte carries into the next and each byte's top bit answers for that byte alone.
    /// Bytes from 0x80 up are refused first.
    @inline(__always)
    private static func isNameWord(_ word: UInt64, colon: Bool) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        guard word & highs == 0 else { return false }
        func within(_ low: UInt8, _ high: UInt8) -> UInt64 {
            (word &+ ones &* UInt64(0x80 - low)) & ~(word &+ ones &* UInt64(0x7F - high))
        }
        let digits = within(UInt8(ascii: "0"), colon ? UInt8(ascii: ":") : UInt8(ascii: "9"))  // `:` follows `9`
        let allowed = within(UInt8(ascii: "a"), UInt8(ascii: "z")) | within(UInt8(ascii: "A"), UInt8(ascii: "Z")) | digits
            | within(UInt8(ascii: "-"), UInt8(ascii: ".")) | within(UInt8(ascii: "_"), UInt8(ascii: "_"))  // `-` and `.` adjoin
        return allowed & highs == highs
    }

    private static func isWhole(_ value: Double, in range: ClosedRange<Double>) -> Bool {
        range.contains(value) && value.rounded(.towardZero) == value
    }

    /// A number as a person would write it: `-5`, `1.5`, `1e+308`.
    static func describe(_ value: Double) -> String {
        if !value.isFinite { return value.isNaN ? "NaN" : (value > 0 ? "a number too large" : "a number too small") }
        if value.rounded(.towardZero) == value, abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    /// At most `limit` characters of `text`, quoted, control characters escaped, so a reason stays readable (and
    /// one log line) whatever was sent.
    static func quoted(_ text: String, limit: Int = 40, quote: String = "'") -> String {
        let scalars = text.unicodeScalars
        let shown = scalars.count > limit ? String(String.UnicodeScalarView(scalars.prefix(limit))) + "…" : text
        let escaped = shown.unicodeScalars.map { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) ? "\\u{\(String($0.value, radix: 16))}" : String($0) }
        return quote + escaped.joined() + quote
    }
}
