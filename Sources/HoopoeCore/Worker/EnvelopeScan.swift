#if canImport(Glibc)
import Glibc
#endif

/// Reads the fields of an envelope the worker needs to run a job — its ``JobHeader`` — in one pass over its
/// bytes without `JSONDecoder`, with where the `payload` value lies (so the handler's payload is decoded from
/// those bytes alone).
///
/// Deliberately strict about shape: it accepts only well-formed JSON of the usual shape (string keys
/// without escapes, no duplicate keys, numbers for the numeric fields, strings without escapes for the
/// text fields). Anything else returns nil and the worker decodes with the full decoder, so an unusual
/// or malformed envelope gets the full decoder's verdict. Numbers are read as JSON numbers (doubles,
/// infinite when the text overflows) and judged afterwards by ``EnvelopeRules``, on both paths alike.
enum EnvelopeScan {
    /// Reads `bytes`; nil when the envelope is not of the plain shape this reader handles. The header's queue is
    /// empty when the envelope names none.
    ///
    /// `streamQueue`, the queue the job was read from, is the `queue` string the header keeps when the envelope names
    /// the same one (as it nearly always does): a string less to make and check as UTF-8 a job.
    static func scan(_ bytes: [UInt8], streamQueue: String = "") -> JobHeader? {
        var header = JobHeader(fields: EnvelopeRules.Fields(id: "", type: "", queue: ""), payload: 0..<0)
        let plain = bytes.withUnsafeBufferPointer { buffer in
            var reader = Reader(bytes: buffer)
            guard reader.envelope(into: &header) else { return false }
            if let range = reader.queue {
                let named = UnsafeBufferPointer(rebasing: buffer[range])
                header.fields.queue = streamQueue.utf8Equals(named) ? streamQueue : String(decoding: named, as: UTF8.self)
            }
            return true
        }
        return plain ? header : nil
    }

    private struct Reader: JSONByteCursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0
        /// Where the `queue` string's contents lie, when the envelope names one: made a `String` by ``scan(_:streamQueue:)``.
        /// (A reader holding the stream's queue to compare was no longer a plain value: ~1,500 instructions a job more.)
        var queue: Range<Int>?

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        /// Fills `result` (made empty by the caller); false when the envelope is not of the plain shape. Filled in place,
        /// not returned: a header returned from here was copied (its strings retained) and the original destroyed.
        mutating func envelope(into result: inout JobHeader) -> Bool {
            // Bit per known key: a duplicate falls back (JSONDecoder's choice between them is its own).
            var seen: UInt32 = 0
            skipSpace()
            guard take(UInt8(ascii: "{")) else { return false }
            skipSpace()
            if take(UInt8(ascii: "}")) { return false }  // id, type and payload are required
            while true {
                guard let key = plainString() else { return false }
                skipSpace()
                guard take(UInt8(ascii: ":")) else { return false }
                skipSpace()
                let bit: UInt32
                switch Self.keyCode(key) {
                case 1:
                    bit = 1
                    guard let text = plainString() else { return false }
                    result.fields.id = text.string
                case 2:
                    bit = 2
                    guard let text = plainString() else { return false }
                    result.fields.type = text.string
                case 3:
                    bit = 4
                    // null is not a queue name (nor anything but a plain string): the full decoder names the field.
                    guard let text = plainString() else { return false }
                    queue = text.range
                case 4:
                    bit = 8
                    let start = index
                    guard skipValue() else { return false }
                    result.payload = start..<index
                case 5:
                    bit = 16
                    guard let value = optionalNumber(), let attempt = value else { return false }  // null: as queue
                    result.fields.attempt = attempt
                case 6:
                    bit = 32
                    guard let value = optionalNumber() else { return false }
                    result.fields.maxAttempts = value
                case 7:
                    bit = 64
                    guard let value = optionalNumber(), let enqueuedAt = value else { return false }  // null: as queue
                    result.fields.enqueuedAt = enqueuedAt
                case 8:
                    bit = 128
                    guard let value = optionalNumber() else { return false }
                    result.fields.timeout = value
                case 9:
                    bit = 256
                    guard let text = optionalString() else { return false }
                    result.fields.uniqueKey = text
                case 10:
                    bit = 512
                    guard let value = optionalNumber() else { return false }
                    result.fields.runAt = value
                case 11:
                    bit = 1024
                    guard let value = optionalNumber() else { return false }
                    result.fields.uniqueFor = value
                case 12:  // died_at: a number the run does not need
                    bit = 2048
                    guard optionalNumber() != nil else { return false }
                case 15:
                    bit = 16384
                    if literal("true") {
                        result.notify = true
                    } else if !literal("false") && !literal("null") {
                        return false  // not a boolean: the full decoder names the field
                    }
                case 13, 14:  // last_error, dead_reason: text the run does not need
                    bit = 4096 << UInt32(Self.keyCode(key) - 13)
                    guard optionalString(allowEscapes: true) != nil else { return false }
                default:
                    bit = 0
                    guard skipValue() else { return false }
                }
                if bit != 0 {
                    if seen & bit != 0 { return false }
                    seen |= bit
                }
                skipSpace()
                if take(UInt8(ascii: ",")) {
                    skipSpace()
                    continue
                }
                guard take(UInt8(ascii: "}")) else { return false }
                break
            }
            skipSpace()
            guard index == bytes.count, seen & 0b1011 == 0b1011 else { return false }
            return true
        }

        /// 1...15 for the envelope's keys, 0 for any other.
        static func keyCode(_ key: Span) -> Int {
            switch key.count {
            case 2: return key.equals("id") ? 1 : 0
            case 4: return key.equals("type") ? 2 : 0
            case 5: return key.equals("queue") ? 3 : 0
            case 6: return key.equals("run_at") ? 10 : key.equals("notify") ? 15 : 0
            case 7: return key.equals("payload") ? 4 : key.equals("attempt") ? 5 : key.equals("timeout") ? 8 : key.equals("died_at") ? 12 : 0
            case 10: return key.equals("unique_key") ? 9 : key.equals("unique_for") ? 11 : key.equals("last_error") ? 13 : 0
            case 11: return key.equals("enqueued_at") ? 7 : key.equals("dead_reason") ? 14 : 0
            case 12: return key.equals("max_attempts") ? 6 : 0
            default: return 0
            }
        }

        struct Span {
            let base: UnsafeBufferPointer<UInt8>
            let range: Range<Int>
            var count: Int { range.count }
            /// One `memcmp` (a loop over the bytes cost ~70 instructions a key, six or more keys a job: callgrind, session 27).
            func equals(_ text: StaticString) -> Bool {
                text.utf8CodeUnitCount == range.count && memcmp(base.baseAddress! + range.lowerBound, text.utf8Start, range.count) == 0
            }
            var string: String { String(decoding: UnsafeBufferPointer(rebasing: base[range]), as: UTF8.self) }
        }

        /// A string without escapes or control characters; its contents, quotes excluded. UTF-8 is
        /// checked when the caller makes a `String` of it (`String(decoding:)` repairs, so invalid
        /// UTF-8 is refused here to keep JSONDecoder's verdict).
        mutating func plainString() -> Span? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = index
            let ascii = skipPlainRun()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }  // an escape, a control character, the end
            let span = Span(base: bytes, range: start..<index)
            index += 1
            if !ascii && !Self.validUTF8(UnsafeBufferPointer(rebasing: bytes[span.range])) { return nil }
            return span
        }

        /// `.some(nil)` for null, `.some(text)` for a plain string, nil for anything else.
        mutating func optionalString(allowEscapes: Bool = false) -> String?? {
            if literal("null") { return .some(nil) }
            if allowEscapes {
                // Only validated, never used: any well-formed string will do.
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
                guard skipString() else { return nil }
                return .some("")
            }
            guard let span = plainString() else { return nil }
            return .some(span.string)
        }

        /// `.some(nil)` for null, `.some(value)` for a JSON number (infinite if its text overflows a double;
        /// ``EnvelopeRules`` refuses it), nil for anything else.
        mutating func optionalNumber() -> Double?? {
            if literal("null") { return .some(nil) }
            let start = index
            guard skipNumber() else { return nil }
            // The usual case, a short plain integer (`0`, `3`, `1795400000`), without making a String.
            var negative = false
            var position = start
            if bytes[position] == UInt8(ascii: "-") {
                negative = true
                position += 1
            }
            if index - position <= 15 {
                var value = 0
                var plain = true
                while position < index {
                    let digit = bytes[position] &- 0x30
                    if digit > 9 {
                        plain = false
                        break
                    }
                    value = value * 10 + Int(digit)
                    position += 1
                }
                if plain { return .some(negative ? -Double(value) : Double(value)) }
            }
            if let value = EnvelopeScan.shortDecimal(UnsafeBufferPointer(rebasing: bytes[start..<index])) { return .some(value) }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            return .some(Double(text) ?? .infinity)
        }


        /// A string with any escapes, checked for well-formedness only.
        mutating func skipString() -> Bool {
            guard take(UInt8(ascii: "\"")) else { return false }
            let start = index
            var ascii = true
            while index < bytes.count {
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "\""):
                    let range = start..<index
                    index += 1
                    return ascii || Self.validUTF8(UnsafeBufferPointer(rebasing: bytes[range]))
                case UInt8(ascii: "\\"):
                    index += 1
                    guard index < bytes.count else { return false }
                    switch bytes[index] {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                        UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        index += 1
                    case UInt8(ascii: "u"):
                        // Skipping only needs the escape's extent (four hex digits). Whether a pair of them
                        // forms a valid surrogate is for JSONDecoder, which decodes these payload bytes next
                        // (and on failure the full decoder gives the verdict). Python's json.dumps writes
                        // Persian text this way by default, so this keeps such payloads on the fast path.
                        guard index + 4 < bytes.count, (1...4).allSatisfy({ Self.isHexDigit(bytes[index + $0]) }) else { return false }
                        index += 5
                    default:
                        return false
                    }
                case 0..<0x20:
                    return false
                default:
                    if byte >= 0x80 { ascii = false }
                    index += 1
                }
            }
            return false
        }

        /// Any JSON value, checked for well-formedness, nested at most 64 deep.
        static func isHexDigit(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
                || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
        }

        mutating func skipValue(depth: Int = 0) -> Bool {
            guard depth < 64, index < bytes.count else { return false }
            switch bytes[index] {
            case UInt8(ascii: "\""):
                return skipString()
            case UInt8(ascii: "{"):
                index += 1
                skipSpace()
                if take(UInt8(ascii: "}")) { return true }
                while true {
                    guard skipString() else { return false }
                    skipSpace()
                    guard take(UInt8(ascii: ":")) else { return false }
                    skipSpace()
                    guard skipValue(depth: depth + 1) else { return false }
                    skipSpace()
                    if take(UInt8(ascii: ",")) {
                        skipSpace()
                        continue
                    }
                    return take(UInt8(ascii: "}"))
                }
            case UInt8(ascii: "["):
                index += 1
                skipSpace()
                if take(UInt8(ascii: "]")) { return true }
                while true {
                    guard skipValue(depth: depth + 1) else { return false }
                    skipSpace()
                    if take(UInt8(ascii: ",")) {
                        skipSpace()
                        continue
                    }
                    return take(UInt8(ascii: "]"))
                }
            case UInt8(ascii: "t"): return literal("true")
            case UInt8(ascii: "f"): return literal("false")
            case UInt8(ascii: "n"): return literal("null")
            default: return skipNumber()
            }
        }
    }
}

extension EnvelopeScan {
    /// A number written `-?digits.digits` with at most 19 digits in all (an `enqueued_at` such as `1795400000.123`,
    /// or Python's `time.time()`, `1796057893.0323012`), read without a String and `strtod` to the double
    /// `Double(text)` reads (the correctly rounded one). Nil for any other form (exponents, more digits, no point).
    ///
    /// Why: Python's `time.time()` has 16–17 significant digits, past the 2^53 of Clinger's fast path, and going
    /// through a String and `strtod` for it was ~1 % of the worker's CPU a job (a heap String and a multi-precision
    /// parse). All 19 digits fit a `UInt64`, and the quotient by a power of ten is rounded exactly in 128 bits.
    static func shortDecimal(_ text: UnsafeBufferPointer<UInt8>) -> Double? {
        var position = 0
        let negative = text.first == UInt8(ascii: "-")
        if negative { position = 1 }
        var mantissa: UInt64 = 0
        var digits = 0
        var fraction = -1
        while position < text.count {
            let byte = text[position]
            if byte == UInt8(ascii: ".") {
                guard fraction < 0 else { return nil }
                fraction = 0
            } else {
                let digit = byte &- 0x30
                guard digit <= 9 else { return nil }
                mantissa = mantissa &* 10 &+ UInt64(digit)
                digits += 1
                if fraction >= 0 { fraction += 1 }
                guard digits <= 19 else { return nil }  // 19 digits cannot overflow a UInt64
            }
            position += 1
        }
        guard fraction > 0 else { return nil }
        // Clinger's fast path: both exact as doubles, so one correctly rounded division.
        let value = mantissa <= 1 << 53 && fraction <= 17 ? Double(mantissa) / powersOfTen[fraction] : quotient(mantissa, tenToThe: fraction)
        return negative ? -value : value
    }

    /// `mantissa / 10^exponent` rounded to the nearest double, ties to even (as `strtod`), for `exponent` in 1...19.
    ///
    /// The quotient is taken in 128-bit integers, scaled by a power of two so it has 55 or 56 bits; the bits past the
    /// 53 a double keeps, and whether the division left a remainder, decide the rounding.
    static func quotient(_ mantissa: UInt64, tenToThe exponent: Int) -> Double {
        guard mantissa != 0 else { return 0 }
        var divisor = UInt128(integerPowersOfTen[exponent])
        let mantissaBits = UInt64.bitWidth - mantissa.leadingZeroBitCount
        let divisorBits = UInt128.bitWidth - divisor.leadingZeroBitCount
        // 2^(bits-1) <= x < 2^bits for both, so the scaled quotient lies in (2^54, 2^56).
        let shift = 55 + divisorBits - mantissaBits
        var dividend = UInt128(mantissa)
        if shift >= 0 { dividend <<= shift } else { divisor <<= -shift }
        let (quotient, remainder) = dividend.quotientAndRemainder(dividingBy: divisor)
        let extra = UInt128.bitWidth - quotient.leadingZeroBitCount - 53  // 2 or 3
        var kept = UInt64(truncatingIfNeeded: quotient >> extra)
        let dropped = UInt64(truncatingIfNeeded: quotient) & ((1 << UInt64(extra)) - 1)
        let half: UInt64 = 1 << UInt64(extra - 1)
        if dropped > half || (dropped == half && (remainder != 0 || kept & 1 == 1)) { kept += 1 }
        // kept <= 2^53: exact as a double; scaling by a power of two is exact in the normal range.
        return Double(sign: .plus, exponent: extra - shift, significand: Double(kept))
    }

    private static let powersOfTen: [Double] = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17]
    private static let integerPowersOfTen: [UInt64] = (0...19).map { power in (0..<power).reduce(1) { value, _ in value * 10 } }
}
