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
/// This one appends to an array (history headers, tests). The rules are ``JSONTextWriting``'s, shared with the
/// envelope's writer (``ScratchJSONWriter``, through a pointer) and the history record's in-place one: keys sorted by
/// their UTF-8 bytes as stored (not by `String`'s `<`, which compares canonical forms: `e\u{301}` sorts after `~` by
/// `<`, before it by bytes); no whitespace; `"` `\` and the controls below U+0020 escaped (`\b \f \n \r \t`, else
/// `\u00XX` in lower-case hex), everything else (`/`, DEL, non-ASCII) as is; a `Double` as its `description` without a
/// trailing `.0`; integers in decimal.
struct CompactJSONWriter: JSONTextWriting {
    /// The JSON written so far.
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    mutating func append(_ byte: UInt8) {
        bytes.append(byte)
    }

    mutating func append(_ buffer: UnsafeBufferPointer<UInt8>) {
        bytes.append(contentsOf: buffer)
    }
}

extension JSONTextWriting {
    /// A number from a `Double`.
    /// - Throws: ``JSONNotEncodable`` for NaN and the infinities, which JSON cannot carry (`JSONEncoder` throws too).
    mutating func number(_ value: Double) throws(JSONNotEncodable) {
        guard value.isFinite else { throw JSONNotEncodable(value: value) }
        var text = value.description
        text.withUTF8 { utf8 in
            // `description` is ASCII, so its ".0" ending is found in its bytes (`hasSuffix` compares as Unicode).
            var length = utf8.count
            if length >= 2 && utf8[length - 2] == UInt8(ascii: ".") && utf8[length - 1] == UInt8(ascii: "0") {
                length -= 2
            }
            append(UnsafeBufferPointer(rebasing: utf8[..<length]))
        }
    }

    /// `true` or `false`.
    mutating func bool(_ value: Bool) {
        (value ? JSONLiteral.true : JSONLiteral.false).withUnsafeBufferPointer { append($0) }
    }

    /// `null`.
    mutating func null() {
        JSONLiteral.null.withUnsafeBufferPointer { append($0) }
    }

    /// Any ``JSONValue``, an object's members in key order.
    mutating func value(_ value: JSONValue) throws(JSONNotEncodable) {
        switch value {
        case .object(let members):
            append(UInt8(ascii: "{"))
            if members.count == 1, let member = members.first {
                key(member.key, first: true)
                try self.value(member.value)
            } else {
                for (index, member) in members.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }).enumerated() {
                    key(member.key, first: index == 0)
                    try self.value(member.value)
                }
            }
            append(UInt8(ascii: "}"))
        case .array(let elements):
            append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { append(UInt8(ascii: ",")) }
                try self.value(element)
            }
            append(UInt8(ascii: "]"))
        case .string(let text): string(text)
        case .integer(let number): integer(number)
        case .double(let number): try self.number(number)
        case .bool(let flag): bool(flag)
        case .null: null()
        }
    }

    /// An object's key and its colon, after a comma unless it is the object's first.
    mutating func key(_ name: String, first: Bool) {
        if !first { append(UInt8(ascii: ",")) }
        string(name)
        append(UInt8(ascii: ":"))
    }

    /// JSON already written (a typed payload's encoding), appended as is.
    mutating func raw(_ json: [UInt8]) {
        json.withUnsafeBufferPointer { append($0) }
    }
}

/// A number JSON cannot carry (NaN, an infinity): what the writers' ``JSONTextWriting/number(_:)`` throws.
struct JSONNotEncodable: Error {
    let value: Double
}

/// The literals' bytes.
private enum JSONLiteral {
    static let `true` = Array("true".utf8)
    static let `false` = Array("false".utf8)
    static let null = Array("null".utf8)
}
