import HoopoeJSON

/// Writes JSON byte for byte as `JSONEncoder` with `[.sortedKeys, .withoutEscapingSlashes]` writes it, without
/// `JSONEncoder`.
///
/// Why: encoding an envelope through `Codable` was over a third of a batch enqueue's client CPU (a box and a keyed
/// container per object, generic metadata lookups, a `Data` copy at the end; docs/decisions/0034). The envelope's
/// bytes are a protocol other clients read and write (jobs/PROTOCOL.md), and the worker compares and stores them, so
/// this writer must not change one byte: `CompactJSONWriterTests` compares it with `JSONEncoder` on edge cases and
/// thousands of random envelopes.
///
/// The rules it copies: keys sorted by their UTF-8 bytes as stored (not by `String`'s `<`, which compares canonical
/// forms: `e\u{301}` sorts after `~` by `<`, before it by bytes); no whitespace; `"` `\` and the controls below
/// U+0020 escaped (`\b \f \n \r \t`, else `\u00XX` in lower-case hex), everything else (`/`, DEL, non-ASCII) as is;
/// a `Double` as its `description` without a trailing `.0`; integers in decimal.
struct CompactJSONWriter {
    /// The JSON written so far.
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    /// A JSON string.
    mutating func string(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            bytes.append(UInt8(ascii: "\""))
            var start = 0
            for index in 0..<utf8.count {
                let byte = utf8[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
                escape(byte)
                start = index + 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
            bytes.append(UInt8(ascii: "\""))
        }
    }

    private mutating func escape(_ byte: UInt8) {
        bytes.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
        case 0x08: bytes.append(UInt8(ascii: "b"))
        case 0x0C: bytes.append(UInt8(ascii: "f"))
        case 0x0A: bytes.append(UInt8(ascii: "n"))
        case 0x0D: bytes.append(UInt8(ascii: "r"))
        case 0x09: bytes.append(UInt8(ascii: "t"))
        default:
            bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), Self.hexDigit(byte >> 4), Self.hexDigit(byte & 15)])
        }
    }

    /// A number from a `Double`.
    /// - Throws: ``NotEncodable`` for NaN and the infinities, which JSON cannot carry (`JSONEncoder` throws too).
    mutating func number(_ value: Double) throws(NotEncodable) {
        guard value.isFinite else { throw NotEncodable(value: value) }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    /// A number from an integer, digit by digit (no `String` per number: this runs for every job enqueued or kept in
    /// history).
    mutating func integer(_ value: Int64) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        let magnitude = value.magnitude
        var divisor: UInt64 = 1
        while divisor <= magnitude / 10 { divisor *= 10 }
        repeat {
            bytes.append(UInt8(ascii: "0") + UInt8(magnitude / divisor % 10))
            divisor /= 10
        } while divisor > 0
    }

    /// Seconds to the millisecond, as `String(format: "%.3f")` writes them (`0` for anything not finite or beyond any
    /// clock): the times of job history records (decision 0028), without Foundation's formatter.
    mutating func millis(_ value: Double) {
        guard value.isFinite, abs(value) < 1e15 else {
            bytes.append(UInt8(ascii: "0"))
            return
        }
        let millis = Int64((abs(value) * 1000).rounded())
        if value < 0 && millis > 0 { bytes.append(UInt8(ascii: "-")) }
        integer(millis / 1000)
        bytes.append(UInt8(ascii: "."))
        let fraction = millis % 1000
        bytes.append(UInt8(ascii: "0") + UInt8(fraction / 100))
        bytes.append(UInt8(ascii: "0") + UInt8(fraction / 10 % 10))
        bytes.append(UInt8(ascii: "0") + UInt8(fraction % 10))
    }

    /// `true` or `false`.
    mutating func bool(_ value: Bool) {
        bytes.append(contentsOf: value ? Self.trueBytes : Self.falseBytes)
    }

    /// `null`.
    mutating func null() {
        bytes.append(contentsOf: Self.nullBytes)
    }

    /// Any ``JSONValue``, an object's members in key order.
    mutating func value(_ value: JSONValue) throws(NotEncodable) {
        switch value {
        case .object(let members):
            bytes.append(UInt8(ascii: "{"))
            if members.count == 1, let member = members.first {
                key(member.key, first: true)
                try self.value(member.value)
            } else {
                for (index, member) in members.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }).enumerated() {
                    key(member.key, first: index == 0)
                    try self.value(member.value)
                }
            }
            bytes.append(UInt8(ascii: "}"))
        case .array(let elements):
            bytes.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                try self.value(element)
            }
            bytes.append(UInt8(ascii: "]"))
        case .string(let text): string(text)
        case .integer(let number): integer(number)
        case .double(let number): try self.number(number)
        case .bool(let flag): bool(flag)
        case .null: null()
        }
    }

    /// An object's key and its colon, after a comma unless it is the object's first.
    mutating func key(_ name: String, first: Bool) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        string(name)
        bytes.append(UInt8(ascii: ":"))
    }

    /// A key known to need no escaping, given as its bytes with quotes and colon (`"id":`), after a comma unless first.
    mutating func rawKey(_ quotedWithColon: [UInt8], first: Bool) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        bytes.append(contentsOf: quotedWithColon)
    }

    /// JSON already written (a typed payload's encoding), appended as is.
    mutating func raw(_ json: [UInt8]) {
        bytes.append(contentsOf: json)
    }

    mutating func append(_ byte: UInt8) {
        bytes.append(byte)
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }

    private static let trueBytes = Array("true".utf8)
    private static let falseBytes = Array("false".utf8)
    private static let nullBytes = Array("null".utf8)

    /// A number JSON cannot carry.
    struct NotEncodable: Error {
        let value: Double
    }
}
