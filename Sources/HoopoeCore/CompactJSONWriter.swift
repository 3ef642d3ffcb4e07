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
/// The rules it copies (strings, integers and times in ``JSONTextWriting``, shared with the history record's
/// in-place writer): keys sorted by their UTF-8 bytes as stored (not by `String`'s `<`, which compares canonical
/// forms: `e\u{301}` sorts after `~` by `<`, before it by bytes); no whitespace; `"` `\` and the controls below
/// U+0020 escaped (`\b \f \n \r \t`, else `\u00XX` in lower-case hex), everything else (`/`, DEL, non-ASCII) as is;
/// a `Double` as its `description` without a trailing `.0`; integers in decimal.
struct CompactJSONWriter: JSONTextWriting {
    /// The JSON written so far.
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    /// A number from a `Double`.
    /// - Throws: ``NotEncodable`` for NaN and the infinities, which JSON cannot carry (`JSONEncoder` throws too).
    mutating func number(_ value: Double) throws(NotEncodable) {
        guard value.isFinite else { throw NotEncodable(value: value) }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        text.withUTF8 { bytes.append(contentsOf: $0) }
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

    /// JSON already written (a typed payload's encoding), appended as is.
    mutating func raw(_ json: [UInt8]) {
        bytes.append(contentsOf: json)
    }

    mutating func append(_ byte: UInt8) {
        bytes.append(byte)
    }

    mutating func append(_ buffer: UnsafeBufferPointer<UInt8>) {
        bytes.append(contentsOf: buffer)
    }

    private static let trueBytes = Array("true".utf8)
    private static let falseBytes = Array("false".utf8)
    private static let nullBytes = Array("null".utf8)

    /// A number JSON cannot carry.
    struct NotEncodable: Error {
        let value: Double
    }
}
