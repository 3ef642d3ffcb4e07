import HoopoeJSON

/// The byte-level steps both of the worker's JSON readers share (the envelope's scan, `EnvelopeScan`, and the
/// payload's, `PlainPayloadDecoder`): one copy of JSON's whitespace, a byte, a literal, a number's grammar, a string's
/// plain run and UTF-8's check. Each reader keeps its own grammar; a protocol, not a type they hold, so their `index`
/// stays a plain stored property in the hot loop.
protocol JSONByteCursor {
    var bytes: UnsafeBufferPointer<UInt8> { get }
    var index: Int { get set }
}

extension JSONByteCursor {
    /// Skips JSON's whitespace (space, line feed, carriage return, tab): RFC 8259's, no other.
    mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    /// Takes `byte` when it is next.
    mutating func take(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    /// Takes `text` (`true`, `false`, `null`) when it is next, whole.
    mutating func literal(_ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        for offset in 0..<count where bytes[index + offset] != text.utf8Start[offset] { return false }
        index += count
        return true
    }

    /// Skips a JSON number per RFC 8259; false when what is next is not one, or is one written in more than
    /// `JSONNumberLength.maxCharacters` characters (the full decoder the reader then falls back to refuses it first:
    /// Foundation's decoder traps on some such numbers).
    mutating func skipNumber() -> Bool {
        let start = index
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count else { return false }
        if bytes[index] == 0x30 {
            index += 1
        } else {
            guard (0x31...0x39).contains(bytes[index]) else { return false }
            while index < bytes.count, (0x30...0x39).contains(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            let digits = index
            while index < bytes.count, (0x30...0x39).contains(bytes[index]) { index += 1 }
            guard index > digits else { return false }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            let digits = index
            while index < bytes.count, (0x30...0x39).contains(bytes[index]) { index += 1 }
            guard index > digits else { return false }
        }
        return index - start <= JSONNumberLength.maxCharacters
    }

    /// Whether `bytes` are well-formed UTF-8 (the standard library's decoder, as strict as `String(validating:)`), checked
    /// in place: a plain run beyond ASCII is checked this way, without a `String` made only to be thrown away.
    static func validUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    /// Skips a string's plain run: the bytes up to its closing quote, a backslash or a control character, where it
    /// stops (or at the end). Returns whether the run was all ASCII (else its UTF-8 is the caller's to check). Eight
    /// bytes at a time while eight are left (``JSONEscapeScan``).
    mutating func skipPlainRun() -> Bool {
        var ascii = true
        while index + 8 <= bytes.count {
            let word = JSONEscapeScan.word(bytes, at: index)
            let ending = JSONEscapeScan.firstEnding(word)
            if JSONEscapeScan.hasNonASCII(word, first: ending) { ascii = false }
            index += ending
            if ending < 8 { return ascii }
        }
        while index < bytes.count {
            let byte = bytes[index]
            if JSONEscapeScan.endsPlainRun(byte) { return ascii }
            if byte >= 0x80 { ascii = false }
            index += 1
        }
        return ascii
    }
}
