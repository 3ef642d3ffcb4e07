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
        bytes.reserveCapacity(160 + id.utf8.count + type.utf8.count + (error?.utf8.count ?? 0))
        bytes.append(UInt8(ascii: "{"))
        Self.member("id", id, &bytes)
        Self.member("type", type, &bytes)
        Self.member("queue", queue, &bytes)
        Self.member("outcome", outcome.rawValue, &bytes)
        Self.member("attempt", raw: String(attempt), &bytes)
        Self.member("finished_at", raw: Self.number(finishedAt), &bytes)
        if let duration { Self.member("duration", raw: Self.number(duration), &bytes) }
        if let worker { Self.member("worker", worker, &bytes) }
        if let error { Self.member("error", error, &bytes) }
        if let deferredTo { Self.member("deferred_to", deferredTo, &bytes) }
        bytes[bytes.count - 1] = UInt8(ascii: "}")
        return bytes
    }

    /// The stored text: the header, a newline, `envelopeJSON` (already stripped and capped by the caller).
    func encoded(envelopeJSON: [UInt8]) -> [UInt8] {
        var bytes = header
        bytes.append(UInt8(ascii: "\n"))
        bytes += envelopeJSON
        return bytes
    }

    /// `"key":"value",` with `value` escaped.
    private static func member(_ key: String, _ value: String, _ bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        bytes += key.utf8
        bytes += Array("\":\"".utf8)
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(byte)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes += Array("\\u00".utf8)
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0xF)])
            default: bytes.append(byte)
            }
        }
        bytes += Array("\",".utf8)
    }

    /// `"key":value,` with `value` written as it is (a number).
    private static func member(_ key: String, raw value: String, _ bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        bytes += key.utf8
        bytes += Array("\":".utf8)
        bytes += value.utf8
        bytes.append(UInt8(ascii: ","))
    }

    /// Seconds to the millisecond, as a JSON number (`0` for anything not finite or beyond any clock).
    ///
    /// Written from the integer count of milliseconds, not `String(format:)`: that goes through Foundation's
    /// formatter, a measurable part of the worker's CPU per job when it ran twice for every record.
    private static func number(_ value: Double) -> String {
        guard value.isFinite, abs(value) < 1e15 else { return "0" }
        let millis = Int64((abs(value) * 1000).rounded())
        let fraction = String(millis % 1000)
        return (value < 0 && millis > 0 ? "-" : "") + String(millis / 1000) + "." + String(repeating: "0", count: 3 - fraction.count) + fraction
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
