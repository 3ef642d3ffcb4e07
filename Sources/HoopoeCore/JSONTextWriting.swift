/// How Hoopoe writes JSON (strings, numbers, times in seconds to the millisecond, any ``JSONValue``), whatever holds
/// the bytes: one copy of the rules that ``CompactJSONWriter`` (a growing array: history headers), ``ScratchJSONWriter``
/// (envelopes, through a pointer) and the history record's in-place writer (``HistoryRecord/text(envelopeJSON:)``:
/// straight into a `String`'s storage) share.
///
/// The rules are `JSONEncoder`'s with `[.sortedKeys, .withoutEscapingSlashes]` (``CompactJSONWriter`` says which and
/// why): `"` `\` and the controls below U+0020 escaped (`\b \f \n \r \t`, else `\u00XX` in lower-case hex), everything
/// else (`/`, DEL, non-ASCII) as is; integers in decimal. A conformer only appends bytes; the extension's methods are
/// specialised for each conformer in this module, so the rules cost what a hand-written copy would.
protocol JSONTextWriting {
    mutating func append(_ byte: UInt8)
    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>)
}

extension JSONTextWriting {
    /// A JSON string. The bytes are scanned eight at a time (``JSONEscapeScan``): a word with nothing to escape, nearly
    /// every word of ids, names and payload text, is passed over whole, and one with something goes to its first such
    /// byte.
    mutating func string(_ text: String) {
        // A native string's bytes are read in place: `var text = text; text.withUTF8` copied the string first (a retain
        // and a release a call; five calls a job's history record).
        if text.utf8.withContiguousStorageIfAvailable({ quoted($0) }) != nil { return }
        var text = text
        text.withUTF8 { quoted($0) }
    }

    /// `utf8` as a JSON string: quoted, and escaped where it must be.
    private mutating func quoted(_ utf8: UnsafeBufferPointer<UInt8>) {
        append(UInt8(ascii: "\""))
        var start = 0
        var index = 0
        let count = utf8.count
        while index < count {
            if index + 8 <= count {
                let ending = JSONEscapeScan.firstEnding(JSONEscapeScan.word(utf8, at: index))
                index += ending
                if ending == 8 { continue }
            }
            let value = utf8[index]  // the byte a word found, or one of the last seven
            if JSONEscapeScan.endsPlainRun(value) {
                append(UnsafeBufferPointer(rebasing: utf8[start..<index]))
                escape(value)
                start = index + 1
            }
            index += 1
        }
        append(UnsafeBufferPointer(rebasing: utf8[start...]))
        append(UInt8(ascii: "\""))
    }

    /// A key known to need no escaping, given as its bytes with quotes and colon (`"id":`), after a comma unless first.
    mutating func rawKey(_ quotedWithColon: [UInt8], first: Bool) {
        if !first { append(UInt8(ascii: ",")) }
        quotedWithColon.withUnsafeBufferPointer { append($0) }
    }

    /// An integer in decimal: its digits made from the right, two at a time (one division per pair), in scratch
    /// space on the stack (no `String` per number: this runs for every job enqueued or kept in history).
    mutating func integer(_ value: Int64) {
        if value < 0 { append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { scratch in  // UInt64.max has 20 digits
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
            append(UnsafeBufferPointer(rebasing: scratch[end...]))
        }
    }

    /// Seconds to the millisecond, as `String(format: "%.3f")` writes them (`0` for anything not finite or beyond any
    /// clock): the times of job history records (decision 0028), without Foundation's formatter.
    mutating func millis(_ value: Double) {
        guard value.isFinite, abs(value) < 1e15 else {
            append(UInt8(ascii: "0"))
            return
        }
        let millis = Int64((abs(value) * 1000).rounded())
        if value < 0 && millis > 0 { append(UInt8(ascii: "-")) }
        integer(millis / 1000)
        append(UInt8(ascii: "."))
        let fraction = millis % 1000
        append(UInt8(ascii: "0") + UInt8(fraction / 100))
        append(UInt8(ascii: "0") + UInt8(fraction / 10 % 10))
        append(UInt8(ascii: "0") + UInt8(fraction % 10))
    }

    private mutating func escape(_ value: UInt8) {
        append(UInt8(ascii: "\\"))
        switch value {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): append(value)
        case 0x08: append(UInt8(ascii: "b"))
        case 0x0C: append(UInt8(ascii: "f"))
        case 0x0A: append(UInt8(ascii: "n"))
        case 0x0D: append(UInt8(ascii: "r"))
        case 0x09: append(UInt8(ascii: "t"))
        default:
            append(UInt8(ascii: "u"))
            append(UInt8(ascii: "0"))
            append(UInt8(ascii: "0"))
            append(Self.hexDigit(value >> 4))
            append(Self.hexDigit(value & 15))
        }
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }
}
