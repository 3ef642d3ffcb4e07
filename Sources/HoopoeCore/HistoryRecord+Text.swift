extension HistoryRecord {
    /// The stored text as the settle scripts take it (a `String` argument): ``encoded(envelopeJSON:)``'s bytes, written
    /// straight into the string's own storage.
    ///
    /// Why not `String(decoding: encoded(envelopeJSON:), as: UTF8.self)`: that is two allocations and two copies for
    /// every processed job, and `CompactJSONWriter`'s appends each check the array's capacity and uniqueness; with the
    /// record's size bounded beforehand (``textCapacity(envelopeBytes:)``) the header is written through a pointer.
    /// The bytes are ``CompactJSONWriter``'s, byte for byte (`HistoryRecordTextTests` compares them).
    func text(envelopeJSON: [UInt8]) -> String {
        String(unsafeUninitializedCapacity: textCapacity(envelopeBytes: envelopeJSON.count)) { buffer in
            var writer = BoundedJSONWriter(start: buffer.baseAddress!)
            writer.byte(UInt8(ascii: "{"))
            writer.key(#""id":"#, first: true)
            writer.string(id)
            writer.key(#""type":"#)
            writer.string(type)
            writer.key(#""queue":"#)
            writer.string(queue)
            writer.key(#""outcome":"#)
            writer.string(outcome.rawValue)
            writer.key(#""attempt":"#)
            writer.integer(Int64(attempt))
            writer.key(#""finished_at":"#)
            writer.millis(finishedAt)
            if let duration {
                writer.key(#""duration":"#)
                writer.millis(duration)
            }
            if let worker {
                writer.key(#""worker":"#)
                writer.string(worker)
            }
            if let error {
                writer.key(#""error":"#)
                writer.string(error)
            }
            if let deferredTo {
                writer.key(#""deferred_to":"#)
                writer.string(deferredTo)
            }
            writer.byte(UInt8(ascii: "}"))
            writer.byte(UInt8(ascii: "\n"))
            writer.raw(envelopeJSON)
            let count = writer.cursor - buffer.baseAddress!
            precondition(count <= buffer.count, "history record text over its bound")
            return count
        }
    }

    /// At least the text's length: the fixed part (keys, punctuation, the outcome and three numbers of at most 21
    /// characters come to under 200 bytes), each string byte escaped at worst to six (`\u00XX`), then the envelope.
    func textCapacity(envelopeBytes: Int) -> Int {
        let strings = id.utf8.count + type.utf8.count + queue.utf8.count + (worker?.utf8.count ?? 0) + (error?.utf8.count ?? 0)
            + (deferredTo?.utf8.count ?? 0)
        return 256 + 6 * strings + 1 + envelopeBytes
    }
}

/// ``CompactJSONWriter``'s rules for the few kinds a history header holds, written through a pointer into memory its
/// caller sized for the worst case (no capacity check per byte).
private struct BoundedJSONWriter {
    var cursor: UnsafeMutablePointer<UInt8>

    init(start: UnsafeMutablePointer<UInt8>) { cursor = start }

    mutating func byte(_ value: UInt8) {
        cursor.pointee = value
        cursor += 1
    }

    mutating func raw(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        cursor.update(from: base, count: bytes.count)
        cursor += bytes.count
    }

    mutating func raw(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { raw($0) }
    }

    /// A key, quoted with its colon, after a comma unless it is the first.
    mutating func key(_ quotedWithColon: StaticString, first: Bool = false) {
        if !first { byte(UInt8(ascii: ",")) }
        raw(UnsafeBufferPointer(start: quotedWithColon.utf8Start, count: quotedWithColon.utf8CodeUnitCount))
    }

    /// A JSON string: `"` `\` and the controls below U+0020 escaped as ``CompactJSONWriter/string(_:)`` escapes them.
    mutating func string(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            byte(UInt8(ascii: "\""))
            var start = 0
            for index in 0..<utf8.count {
                let value = utf8[index]
                guard value < 0x20 || value == UInt8(ascii: "\"") || value == UInt8(ascii: "\\") else { continue }
                raw(UnsafeBufferPointer(rebasing: utf8[start..<index]))
                escape(value)
                start = index + 1
            }
            raw(UnsafeBufferPointer(rebasing: utf8[start...]))
            byte(UInt8(ascii: "\""))
        }
    }

    private mutating func escape(_ value: UInt8) {
        byte(UInt8(ascii: "\\"))
        switch value {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): byte(value)
        case 0x08: byte(UInt8(ascii: "b"))
        case 0x0C: byte(UInt8(ascii: "f"))
        case 0x0A: byte(UInt8(ascii: "n"))
        case 0x0D: byte(UInt8(ascii: "r"))
        case 0x09: byte(UInt8(ascii: "t"))
        default:
            byte(UInt8(ascii: "u"))
            byte(UInt8(ascii: "0"))
            byte(UInt8(ascii: "0"))
            byte(Self.hexDigit(value >> 4))
            byte(Self.hexDigit(value & 15))
        }
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }

    /// An integer in decimal: its digits made from the right, two at a time (one division per pair).
    mutating func integer(_ value: Int64) {
        if value < 0 { byte(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for UInt64.max's 20 digits
        withUnsafeMutableBytes(of: &digits) { scratch in
            var end = scratch.count
            repeat {
                let (rest, pair) = magnitude.quotientAndRemainder(dividingBy: 100)
                end -= 2
                scratch[end] = UInt8(ascii: "0") + UInt8(pair / 10)
                scratch[end + 1] = UInt8(ascii: "0") + UInt8(pair % 10)
                magnitude = rest
            } while magnitude > 0
            // A leading zero from the last pair (an odd number of digits) is not written; 0 itself is one "0".
            if scratch[end] == UInt8(ascii: "0") && end < scratch.count - 1 { end += 1 }
            UnsafeMutableRawPointer(cursor).copyMemory(from: scratch.baseAddress! + end, byteCount: scratch.count - end)
            cursor += scratch.count - end
        }
    }

    /// Seconds to the millisecond, as ``CompactJSONWriter/millis(_:)`` writes them.
    mutating func millis(_ value: Double) {
        guard value.isFinite, abs(value) < 1e15 else {
            byte(UInt8(ascii: "0"))
            return
        }
        let millis = Int64((abs(value) * 1000).rounded())
        if value < 0 && millis > 0 { byte(UInt8(ascii: "-")) }
        integer(millis / 1000)
        byte(UInt8(ascii: "."))
        let fraction = millis % 1000
        byte(UInt8(ascii: "0") + UInt8(fraction / 100))
        byte(UInt8(ascii: "0") + UInt8(fraction / 10 % 10))
        byte(UInt8(ascii: "0") + UInt8(fraction % 10))
    }
}
