import Foundation

/// An identifier from another service (`user_id`, `request_id`, `user_gift_id`, `threshold_id`, `receipt_id`), as
/// the payload carries it: the SMM panel numbers its users and gifts (`"uid": 176`), other services send strings,
/// so both a JSON string and a JSON integer decode, and the id is kept as text (events carry it as a string).
///
/// `Rule` says which texts are ids, and so what a payload that breaks it fails to decode with (the dead set keeps
/// the reason; `hoopoe enqueue` refuses it first): ``KeySafe`` for ids that go into Redis keys and job ids as they
/// are, ``AnyText`` for ids the job checks itself (the reminders' user ids, `ReminderValidation`).
public struct DomainID<Rule: DomainIDRule>: Codable, Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The identifier as text.
    public let value: String

    /// - Throws: ``Invalid`` when `Rule` refuses `value`.
    public init(validating value: String) throws(Invalid) {
        guard let text = Rule.accept(value) else { throw Invalid(value: value) }
        self.value = text
    }

    public init(stringLiteral value: String) { self.value = value }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text: String
        if let number = try? container.decode(Int64.self) {
            text = String(number)
        } else {
            text = try container.decode(String.self)
        }
        guard let accepted = Rule.accept(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected an id of \(Rule.expected) (a string or an integer)")
        }
        value = accepted
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }

    public var description: String { value }

    /// A value that is not an id.
    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public let value: String
        public var description: String { "'\(value)' is not an id (\(Rule.expected))" }
    }
}

/// Which texts a ``DomainID`` accepts.
public protocol DomainIDRule: Sendable {
    /// The id `text` stands for, or nil when it is not one.
    static func accept(_ text: String) -> String?
    /// What an id looks like, for the error.
    static var expected: String { get }
}

/// Ids that become part of Redis keys and job ids as they are (`…{freecredit}:result:<request_id>`,
/// `gift.expire:<user_gift_id>`): letters, digits and `. _ - :`, at most ``maxLength``, so a payload with anything
/// else is refused instead of writing odd keys.
///
/// Why 100, not the 128 a job id may have: job ids are built from these (`gift.expire:<user_gift_id>`,
/// `gift.reminder:<user_gift_id>`, 14 characters of prefix), and a 115-character id would make a job id the worker
/// refuses. 100 leaves room for any such prefix up to 28 characters.
public enum KeySafe: DomainIDRule {
    /// The most characters an identifier may have (see the type's comment for why 100).
    public static let maxLength = 100

    public static func accept(_ text: String) -> String? { isValid(text) ? text : nil }

    public static var expected: String { "1-\(maxLength) letters, digits or . _ - :" }

    /// Letters, digits and `. _ - :`, 1 to ``maxLength`` of them.
    public static func isValid(_ text: String) -> Bool {
        guard (1...maxLength).contains(text.utf8.count) else { return false }
        return text.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2E || byte == 0x5F || byte == 0x2D || byte == 0x3A
        }
    }
}

/// Any text, spaces around it dropped: the job checks the id itself, with a message naming the field.
public enum AnyText: DomainIDRule {
    public static func accept(_ text: String) -> String? { text.trimmingCharacters(in: .whitespaces) }
    public static var expected: String { "text" }
}

/// An id that goes into keys and job ids as it is (gifts, free credit).
public typealias DomainIdentifier = DomainID<KeySafe>

extension DomainID where Rule == KeySafe {
    /// ``KeySafe/maxLength``.
    public static var maxLength: Int { KeySafe.maxLength }
    /// ``KeySafe/isValid(_:)``.
    public static func isValid(_ text: String) -> Bool { KeySafe.isValid(text) }
}
