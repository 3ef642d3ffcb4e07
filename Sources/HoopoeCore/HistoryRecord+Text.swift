extension HistoryRecord {
    /// The stored text, as the settle's `HSET` sends it: ``encoded(envelopeJSON:)``'s bytes, written straight into the
    /// array's own storage.
    ///
    /// Why not ``encoded(envelopeJSON:)`` itself: `CompactJSONWriter`'s appends each check the array's capacity and
    /// uniqueness; with the record's size bounded beforehand (``textCapacity(envelopeBytes:)``) the header is written
    /// through a pointer. The bytes are ``CompactJSONWriter``'s, byte for byte (`HistoryRecordTextTests` compares them).
    ///
    /// Why bytes, not a `String`: the record only travels to Redis, which takes bytes. A `String` made of them checks
    /// every byte as UTF-8 once more (the envelope's were checked as it was read), and the command copies it again
    /// through its UTF-8 view: as bytes, ~350 instructions a processed job fewer (callgrind, session 23).
    func text(envelopeJSON: [UInt8]) -> [UInt8] {
        Self.text(
            id: id, type: type, queue: queue, outcome: outcome, attempt: attempt, finishedAt: finishedAt, duration: duration, worker: worker, error: error,
            deferredTo: deferredTo, envelopeJSON: envelopeJSON)
    }

    /// The stored text of a record with these members, as ``text(envelopeJSON:)`` writes it, without a `HistoryRecord`
    /// made first: what the worker calls for each finished job. A record made only to be written was built with its
    /// strings retained, copied whole once (with its room for an envelope) and destroyed twice: ~1,000 instructions a
    /// job (callgrind, session 24: 48,793 against 47,741).
    static func text(
        id: String, type: String, queue: String, outcome: Outcome, attempt: Int, finishedAt: Double, duration: Double?, worker: String?, error: String?,
        deferredTo: String?, envelopeJSON: [UInt8]
    ) -> [UInt8] {
        let capacity = textCapacity(id: id, type: type, queue: queue, worker: worker, error: error, deferredTo: deferredTo, envelopeBytes: envelopeJSON.count)
        return [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
            var writer = BoundedJSONWriter(start: buffer.baseAddress!)
            writeHeader(
                into: &writer, id: id, type: type, queue: queue, outcome: outcome, attempt: attempt, finishedAt: finishedAt, duration: duration, worker: worker,
                error: error, deferredTo: deferredTo)
            writer.append(UInt8(ascii: "\n"))
            envelopeJSON.withUnsafeBufferPointer { writer.append($0) }
            let count = writer.cursor - buffer.baseAddress!
            precondition(count <= buffer.count, "history record text over its bound")
            initialized = count
        }
    }

    /// At least the text's length: the fixed part (keys, punctuation, the outcome and three numbers of at most 21
    /// characters come to under 200 bytes), each string byte escaped at worst to six (`\u00XX`), then the envelope.
    func textCapacity(envelopeBytes: Int) -> Int {
        Self.textCapacity(id: id, type: type, queue: queue, worker: worker, error: error, deferredTo: deferredTo, envelopeBytes: envelopeBytes)
    }

    private static func textCapacity(
        id: String, type: String, queue: String, worker: String?, error: String?, deferredTo: String?, envelopeBytes: Int
    ) -> Int {
        let strings = id.utf8.count + type.utf8.count + queue.utf8.count + (worker?.utf8.count ?? 0) + (error?.utf8.count ?? 0)
            + (deferredTo?.utf8.count ?? 0)
        return 256 + 6 * strings + 1 + envelopeBytes
    }
}

/// Appends through a pointer into memory its caller sized for the worst case
/// (``HistoryRecord/textCapacity(envelopeBytes:)``): no capacity or uniqueness check per byte, as an array's append
/// makes. The rules are ``JSONTextWriting``'s.
private struct BoundedJSONWriter: JSONTextWriting {
    var cursor: UnsafeMutablePointer<UInt8>

    init(start: UnsafeMutablePointer<UInt8>) { cursor = start }

    mutating func append(_ byte: UInt8) {
        cursor.pointee = byte
        cursor += 1
    }

    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        cursor.update(from: base, count: bytes.count)
        cursor += bytes.count
    }
}
