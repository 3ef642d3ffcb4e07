import Foundation

/// A parsed JSON document that tolerates the providers' loose typing.
///
/// The providers' examples disagree with their own schemas: Kavenegar sends `localid` as `"450"` though documented
/// as Long, IPPanel sends ids and timestamps as strings and counters as either (docs/providers.md §2.2, §3.2). Decoding
/// through this type lets every accessor accept a string or a number, and a missing `entries` or an `entries` of
/// the "wrong" shape is just a different case rather than a decoding failure.
public enum JSONValue: Sendable, Hashable, Codable {
    case object([String: JSONValue])
    case array([JSONValue])
    case string(String)
    case integer(Int64)
    case double(Double)
    case bool(Bool)
    case null

    /// Parses UTF-8 JSON; returns nil if it is not JSON, or holds a number longer than Hoopoe reads
    /// (``JSONNumberLength``: the decoder would trap on some).
    public static func parse(_ bytes: some Collection<UInt8>) -> JSONValue? {
        if JSONNumberLength.hasOverlongNumber(bytes) { return nil }
        return try? JSONDecoder().decode(JSONValue.self, from: Data(bytes))
    }

    /// Serialises with sorted keys and unescaped slashes and non-ASCII text, so output is byte-for-byte stable. A
    /// number JSON cannot hold (infinite, NaN) is written as `null` in its place.
    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? Array(encoder.encode(self))) ?? Array("null".utf8)
    }

    /// Member of an object, or nil.
    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// Elements of an array, or nil.
    public var arrayValue: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// True for `.object`.
    public var isObject: Bool {
        if case .object = self { return true }
        return false
    }

    /// The value as an integer: a number, or a string holding one.
    public var int64Value: Int64? {
        switch self {
        case .integer(let value): value
        case .double(let value): Int64(exactly: value.rounded())
        case .string(let text): Int64(text.trimmingCharacters(in: .whitespaces))
            ?? Double(text.trimmingCharacters(in: .whitespaces)).flatMap { Int64(exactly: $0.rounded()) }
        case .bool(let flag): flag ? 1 : 0
        default: nil
        }
    }

    /// The value as a double: a number, or a string holding one.
    public var doubleValue: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .double(let value): value
        case .string(let text): Double(text.trimmingCharacters(in: .whitespaces))
        default: nil
        }
    }

    /// The value as text: a string, or a number written out.
    public var stringValue: String? {
        switch self {
        case .string(let text): text
        case .integer(let value): String(value)
        case .double(let value): String(value)
        case .bool(let flag): String(flag)
        default: nil
        }
    }

    /// The value as a boolean: a bool, `1`/`0`, or `"true"`/`"false"`.
    public var boolValue: Bool? {
        switch self {
        case .bool(let flag): flag
        case .integer(let value): value != 0
        case .string(let text):
            switch text.lowercased() {
            case "true", "1": true
            case "false", "0": false
            default: nil
            }
        default: nil
        }
    }
}

extension JSONValue {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
        } else if let integer = try? container.decode(Int64.self) {
            self = .integer(integer)
        } else if let double = try? container.decode(Double.self) {
            self = .double(double)
        } else if let text = try? container.decode(String.self) {
            self = .string(text)
        } else if let elements = try? container.decode([JSONValue].self) {
            self = .array(elements)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .object(let members): try container.encode(members)
        case .array(let elements): try container.encode(elements)
        case .string(let text): try container.encode(text)
        case .integer(let value): try container.encode(value)
        // JSON has no infinity or NaN, and JSONEncoder throws on them: the whole document was lost (``encoded()``
        // printed `null` for `hoopoe queues --json` when one heartbeat's age was infinite). The one value is null.
        case .double(let value) where !value.isFinite: try container.encodeNil()
        case .double(let value): try container.encode(value)
        case .bool(let flag): try container.encode(flag)
        case .null: try container.encodeNil()
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    public init(nilLiteral: ()) { self = .null }
}
