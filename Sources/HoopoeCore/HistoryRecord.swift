import Foundation
import HoopoeJSON

/// A finished job as job history keeps it (``QueueKeys/historyJobs``): how it ended, and its envelope.
///
/// Stored as one line of JSON (the fields below, snake_case), a newline, then the envelope's JSON as the worker
/// read it — secret payload keys removed (``PayloadRedaction/stripped(_:type:)``), at most
/// ``maxEnvelopeBytes``. Why two parts: on the hot path (a processed job) the envelope was only scanned, not
/// decoded, and copying its bytes after a small header costs nothing, where re-encoding it inside the header
/// would cost a decode and an encode per job. Phone numbers are masked when a record is shown, as for the dead set.
public struct HistoryRecord: Sendable, Equatable {
    /// How the job finished.
    public enum Outcome: String, Sendable, CaseIterable {
        /// Its handler finished.
        case processed
        /// Its handler dropped it (``JobFailure/discard(_:)``).
        case discarded
        /// Its handler put it off by enqueuing a new job (``deferredTo``): quiet hours, a daily cap.
        case deferred
        /// In the dead set.
        case dead
        /// Cancelled while it waited (`hoopoe job cancel`).
        case cancelled
    }

    /// The largest envelope a record keeps, in bytes; a larger one is kept without its payload.
    public static let maxEnvelopeBytes = 8192

    public var id: String
    public var type: String
    public var queue: String
    public var outcome: Outcome
    /// The attempt that finished it (1 for a first run; 0 for a job cancelled before it ran).
    public var attempt: Int
    /// How long the last run took, seconds (nil when it did not run).
    public var duration: Double?
    /// The worker process that finished it (its consumer name, `host:pid:suffix`, as in `hoopoe queues`).
    public var worker: String?
    /// When it finished, Unix seconds.
    public var finishedAt: Double
    /// The discard message, the dead reason or the last error (capped, phone numbers masked).
    public var error: String?
    /// The job a deferral enqueued in its place.
    public var deferredTo: String?
    /// The envelope as kept (secret payload keys removed); nil when it could not be read.
    public var envelope: JobEnvelope?

    public init(
        id: String, type: String, queue: String, outcome: Outcome, attempt: Int, duration: Double? = nil, worker: String? = nil,
        finishedAt: Double, error: String? = nil, deferredTo: String? = nil, envelope: JobEnvelope? = nil
    ) {
        self.id = id
        self.type = type
        self.queue = queue
        self.outcome = outcome
        self.attempt = attempt
        self.duration = duration
        self.worker = worker
        self.finishedAt = finishedAt
        self.error = error
        self.deferredTo = deferredTo
        self.envelope = envelope
    }

    /// The header line's JSON (without the envelope), written by hand: it is made for every processed job, and
    /// `JSONEncoder` would cost more than the rest of the acknowledgement. Keys in a fixed order, strings escaped
    /// per RFC 8259 (quote, backslash, control characters).
    var header: [UInt8] {
        var bytes: [UInt8] = []
        writeHeader(into: &bytes)
        return bytes
    }

    /// The stored text: the header, a newline, `envelopeJSON` (already stripped and capped by the caller).
    ///
    /// One buffer, sized once, every member appended in place (no `String` per number, no array per literal):
    /// this runs for every processed job, and the small allocations were most of its cost (session 6 profile).
    func encoded(envelopeJSON: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(headerCapacity + 1 + envelopeJSON.count)
        writeHeader(into: &bytes)
        bytes.append(UInt8(ascii: "\n"))
        bytes.append(contentsOf: envelopeJSON)
        return bytes
    }

    /// Room for the header: its fixed text, the strings (escapes rarely make it grow past this) and the numbers.
    private var headerCapacity: Int {
        160 + id.utf8.count + type.utf8.count + queue.utf8.count + (worker?.utf8.count ?? 0) + (error?.utf8.count ?? 0)
            + (deferredTo?.utf8.count ?? 0)
    }

    private func writeHeader(into bytes: inout [UInt8]) {
        bytes.reserveCapacity(bytes.count + headerCapacity)
        bytes.append(UInt8(ascii: "{"))
        Self.member("id", id, &bytes)
        Self.member("type", type, &bytes)
        Self.member("queue", queue, &bytes)
        Self.member("outcome", outcome.rawValue, &bytes)
        Self.key("attempt", &bytes)
        Self.integer(Int64(attempt), &bytes)
        bytes.append(UInt8(ascii: ","))
        Self.key("finished_at", &bytes)
        Self.number(finishedAt, &bytes)
        bytes.append(UInt8(ascii: ","))
        if let duration {
            Self.key("duration", &bytes)
            Self.number(duration, &bytes)
            bytes.append(UInt8(ascii: ","))
        }
        if let worker { Self.member("worker", worker, &bytes) }
        if let error { Self.member("error", error, &bytes) }
        if let deferredTo { Self.member("deferred_to", deferredTo, &bytes) }
        bytes[bytes.count - 1] = UInt8(ascii: "}")
    }

    /// `"key":`.
    private static func key(_ key: StaticString, _ bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    /// `"key":"value",` with `value` escaped (copied as a whole when nothing in it needs escaping, the usual case).
    private static func member(_ name: StaticString, _ value: String, _ bytes: inout [UInt8]) {
        key(name, &bytes)
        bytes.append(UInt8(ascii: "\""))
        if value.utf8.allSatisfy({ $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
            bytes.append(contentsOf: value.utf8)
        } else {
            for byte in value.utf8 {
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                    bytes.append(UInt8(ascii: "\\"))
                    bytes.append(byte)
                case 0..<0x20:
                    bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                    bytes.append(hexDigit(byte >> 4))
                    bytes.append(hexDigit(byte & 0xF))
                default: bytes.append(byte)
                }
            }
        }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ","))
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }

    /// `value` in decimal.
    private static func integer(_ value: Int64, _ bytes: inout [UInt8]) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        let magnitude = value.magnitude
        var divisor: UInt64 = 1
        while divisor <= magnitude / 10 { divisor *= 10 }
        repeat {
            bytes.append(UInt8(ascii: "0") + UInt8(magnitude / divisor % 10))
            divisor /= 10
        } while divisor > 0
    }

    /// Seconds to the millisecond, as a JSON number (`0` for anything not finite or beyond any clock): what
    /// `String(format: "%.3f")` writes, without Foundation's formatter (twice a job on the worker's hot path).
    static func number(_ value: Double, _ bytes: inout [UInt8]) {
        guard value.isFinite, abs(value) < 1e15 else {
            bytes.append(UInt8(ascii: "0"))
            return
        }
        let millis = Int64((abs(value) * 1000).rounded())
        if value < 0 && millis > 0 { bytes.append(UInt8(ascii: "-")) }
        integer(millis / 1000, &bytes)
        bytes.append(UInt8(ascii: "."))
        let fraction = millis % 1000
        bytes.append(UInt8(ascii: "0") + UInt8(fraction / 100))
        bytes.append(UInt8(ascii: "0") + UInt8(fraction / 10 % 10))
        bytes.append(UInt8(ascii: "0") + UInt8(fraction % 10))
    }

    /// ``number(_:_:)`` as text (the settle scripts' `now` argument).
    static func number(_ value: Double) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        number(value, &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The stored text with ``envelope`` as ``kept(_:)`` keeps it (nothing after the newline when there is none).
    func encoded() -> [UInt8] {
        encoded(envelopeJSON: envelope.map(Self.kept) ?? [])
    }

    /// `envelope` encoded, without its payload when that would make it larger than ``maxEnvelopeBytes``.
    static func kept(_ envelope: JobEnvelope) -> [UInt8] {
        let bytes = envelope.encoded()
        guard bytes.count > maxEnvelopeBytes else { return bytes }
        var copy = envelope
        copy.payload = .string("(not kept in history: the envelope is \(bytes.count) bytes, over \(maxEnvelopeBytes))")
        copy.lastError = copy.lastError.map { String($0.prefix(1024)) }
        copy.deadReason = copy.deadReason.map { String($0.prefix(1024)) }
        return copy.encoded()
    }

    /// A stored record; nil when its header is not one.
    public static func decode(_ bytes: [UInt8]) -> HistoryRecord? {
        let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) ?? bytes.endIndex
        guard let header = JSONValue.parse(bytes[..<newline]), let id = header["id"]?.stringValue, let type = header["type"]?.stringValue,
            let outcome = header["outcome"]?.stringValue.flatMap(Outcome.init(rawValue:)), let finishedAt = header["finished_at"]?.doubleValue
        else { return nil }
        let rest = newline < bytes.endIndex ? Array(bytes[(newline + 1)...]) : []
        return HistoryRecord(
            id: id, type: type, queue: header["queue"]?.stringValue ?? "", outcome: outcome, attempt: Int(clamping: header["attempt"]?.int64Value ?? 0),
            duration: header["duration"]?.doubleValue, worker: header["worker"]?.stringValue, finishedAt: finishedAt,
            error: header["error"]?.stringValue, deferredTo: header["deferred_to"]?.stringValue,
            envelope: rest.isEmpty ? nil : try? JobEnvelope.decode(rest))
    }
}
