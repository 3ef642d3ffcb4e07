import Foundation

/// An identifier from another service (`user_id`, `request_id`, `user_gift_id`) as it goes into Redis keys.
///
/// The SMM panel numbers its users and gifts (`"uid": 176`), other services send strings, so both a JSON string and
/// a JSON integer decode. Because the value becomes part of a key (`…{freecredit}:result:<request_id>`) and of a job
/// id, only letters, digits and `. _ - :` are accepted, at most 100 of them: a payload with anything else fails to
/// decode and goes to the dead set with the reason, instead of writing odd keys.
///
/// Why 100, not the 128 a job id may have: job ids are built from these (`gift.expire:<user_gift_id>`,
/// `gift.reminder:<user_gift_id>`, 14 characters of prefix), and a 115-character id would make a job id the worker
/// refuses. 100 leaves room for any such prefix up to 28 characters.
public struct DomainIdentifier: Codable, Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The identifier as text.
    public let value: String

    /// - Throws: ``Invalid`` when `value` is empty, longer than ``maxLength`` or holds other characters.
    public init(validating value: String) throws(Invalid) {
        guard Self.isValid(value) else { throw Invalid(value: value) }
        self.value = value
    }

    public init(stringLiteral value: String) { self.value = value }

    /// The most characters an identifier may have (see the type's comment for why 100).
    public static let maxLength = 100

    /// Letters, digits and `. _ - :`, 1 to ``maxLength`` of them.
    public static func isValid(_ text: String) -> Bool {
        guard (1...maxLength).contains(text.utf8.count) else { return false }
        return text.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2E || byte == 0x5F || byte == 0x2D || byte == 0x3A
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text: String
        if let number = try? container.decode(Int64.self) {
            text = String(number)
        } else {
            text = try container.decode(String.self)
        }
        guard Self.isValid(text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "expected an id of 1-\(Self.maxLength) letters, digits or . _ - : (a string or an integer)")
        }
        value = text
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }

    public var description: String { value }

    /// A value that cannot be an identifier.
    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public let value: String
        public var description: String { "'\(value)' is not an id (1-\(DomainIdentifier.maxLength) letters, digits or . _ - :)" }
    }
}
