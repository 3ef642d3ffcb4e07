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

    /// The header line's JSON (without the envelope), written by ``CompactJSONWriter``: it is made for every
    /// processed job, and `JSONEncoder` would cost more than the rest of the acknowledgement. Keys in a fixed order.
    var header: [UInt8] {
        var writer = CompactJSONWriter(capacity: headerCapacity)
        writeHeader(into: &writer)
        return writer.bytes
    }

    /// The stored text: the header, a newline, `envelopeJSON` (already stripped and capped by the caller).
    ///
    /// One buffer, sized once, every member appended in place (no `String` per number, no array per literal):
    /// this runs for every processed job, and the small allocations were most of its cost (session 6 profile).
    func encoded(envelopeJSON: [UInt8]) -> [UInt8] {
        var writer = CompactJSONWriter(capacity: headerCapacity + 1 + envelopeJSON.count)
        writeHeader(into: &writer)
        writer.append(UInt8(ascii: "\n"))
        writer.raw(envelopeJSON)
        return writer.bytes
    }

    /// Room for the header: its fixed text, the strings (escapes rarely make it grow past this) and the numbers.
    private var headerCapacity: Int {
        160 + id.utf8.count + type.utf8.count + queue.utf8.count + (worker?.utf8.count ?? 0) + (error?.utf8.count ?? 0)
            + (deferredTo?.utf8.count ?? 0)
    }

    /// The header's members in their fixed order, written by either writer (``CompactJSONWriter`` for ``header`` and
    /// ``encoded(envelopeJSON:)``, the in-place one for ``text(envelopeJSON:)``).
    func writeHeader<Writer: JSONTextWriting>(into writer: inout Writer) {
        Self.writeHeader(
            into: &writer, id: id, type: type, queue: queue, outcome: outcome, attempt: attempt, finishedAt: finishedAt, duration: duration, worker: worker,
            error: error, deferredTo: deferredTo)
    }

    /// The one list of the header's members, from the members themselves: a finishing job's record is written from
    /// them without a `HistoryRecord` made for it (``text(id:type:queue:outcome:attempt:finishedAt:duration:worker:error:deferredTo:envelopeJSON:)``).
    static func writeHeader<Writer: JSONTextWriting>(
        into writer: inout Writer, id: String, type: String, queue: String, outcome: Outcome, attempt: Int, finishedAt: Double, duration: Double?,
        worker: String?, error: String?, deferredTo: String?
    ) {
        writer.append(UInt8(ascii: "{"))
        writer.rawKey(Keys.id, first: true)
        writer.string(id)
        writer.rawKey(Keys.type, first: false)
        writer.string(type)
        writer.rawKey(Keys.queue, first: false)
        writer.string(queue)
        writer.rawKey(Keys.outcome, first: false)
        writer.string(outcome.rawValue)
        writer.rawKey(Keys.attempt, first: false)
        writer.integer(Int64(attempt))
        writer.rawKey(Keys.finishedAt, first: false)
        writer.millis(finishedAt)
        if let duration {
            writer.rawKey(Keys.duration, first: false)
            writer.millis(duration)
        }
        if let worker {
            writer.rawKey(Keys.worker, first: false)
            writer.string(worker)
        }
        if let error {
            writer.rawKey(Keys.error, first: false)
            writer.string(error)
        }
        if let deferredTo {
            writer.rawKey(Keys.deferredTo, first: false)
            writer.string(deferredTo)
        }
        writer.append(UInt8(ascii: "}"))
    }

    /// The header's keys, quoted with their colons once.
    private enum Keys {
        static let id = Array(#""id":"#.utf8)
        static let type = Array(#""type":"#.utf8)
        static let queue = Array(#""queue":"#.utf8)
        static let outcome = Array(#""outcome":"#.utf8)
        static let attempt = Array(#""attempt":"#.utf8)
        static let finishedAt = Array(#""finished_at":"#.utf8)
        static let duration = Array(#""duration":"#.utf8)
        static let worker = Array(#""worker":"#.utf8)
        static let error = Array(#""error":"#.utf8)
        static let deferredTo = Array(#""deferred_to":"#.utf8)
    }

    /// Seconds to the millisecond as text (the settle scripts' `now` argument), as ``CompactJSONWriter/millis(_:)``
    /// writes it.
    static func number(_ value: Double) -> String {
        var writer = CompactJSONWriter(capacity: 24)
        writer.millis(value)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// The stored text with ``envelope`` as ``kept(_:)`` keeps it (nothing after the newline when there is none).
    func encoded() -> [UInt8] {
        encoded(envelopeJSON: envelope.map(Self.kept) ?? [])
    }

    /// `envelope` encoded, without its payload when that would make it larger than ``maxEnvelopeBytes``; and when that
    /// is not enough, without the bulk outside it too: the fields this release does not know (a client's 300 KB `note`,
    /// kept whole before: ~3 GB for a queue's 10,000 records), `failed_attempts` past the last ``FailedAttempt/maxKept``
    /// and their errors cut, the type, queue and unique key cut. The dead set's copy is bounded the same way (``Worker``'s
    /// `bury`).
    static func kept(_ envelope: JobEnvelope) -> [UInt8] {
        let bytes = envelope.encoded()
        guard bytes.count > maxEnvelopeBytes else { return bytes }
        var copy = envelope
        copy.payload = .string("(not kept in history: the envelope is \(bytes.count) bytes, over \(maxEnvelopeBytes))")
        copy.lastError = copy.lastError.map { TextCut.prefix($0, scalars: 1024).text }
        copy.deadReason = copy.deadReason.map { TextCut.prefix($0, scalars: 1024).text }
        let kept = copy.encoded()
        guard kept.count > maxEnvelopeBytes else { return kept }
        let withheld = copy.withheldKeys  // among the other fields: their names stay
        copy.otherFields = nil
        copy.withheldKeys = withheld
        copy.failedAttempts = copy.failedAttempts.map {
            Array($0.suffix(FailedAttempt.maxKept)).map { FailedAttempt(attempt: $0.attempt, at: $0.at, error: TextCut.prefix($0.error, scalars: 256).text) }
        }
        copy.type = TextCut.prefix(copy.type, scalars: 256).text
        copy.queue = TextCut.prefix(copy.queue, scalars: 256).text
        copy.uniqueKey = copy.uniqueKey.map { TextCut.prefix($0, scalars: 256).text }
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
