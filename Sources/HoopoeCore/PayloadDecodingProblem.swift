import Foundation
import HoopoeJSON

/// A payload that does not fit its handler's type, described so a person can fix the sender.
struct PayloadDecodingError: Error, CustomStringConvertible {
    let type: String
    let payloadType: String
    /// What is wrong, naming the field (``DecodingProblem``).
    let problem: String

    /// `error` from decoding `text`; `refused` decodes a text as that decoding did, true when it throws the same kind
    /// of error (``DecodingProblem/describe(_:text:refused:)``).
    init(type: String, payloadType: String, error: DecodingError, text: [UInt8], refused: ([UInt8]) -> Bool) {
        self.type = type
        self.payloadType = payloadType
        problem = DecodingProblem.describe(error, text: text, refused: refused)
    }

    var description: String {
        "payload does not match \(type) (\(payloadType)): \(problem)"
    }
}

/// A `DecodingError` described from the text it came from when the error cannot say what is wrong.
///
/// Foundation's `JSONDecoder` gives one error, "The given data was not valid JSON." at the top level, both for a text
/// that is not JSON it reads (``JSONTextProblem`` finds what) and for a sound text with a number its field cannot
/// hold (`2.5` or `1e300` for an `Int`): a dead reason that named neither the field nor the fault.
enum DecodingProblem {
    /// How many times ``describe(_:text:refused:)`` decodes the text again to find the number that does not fit.
    static let maxRetries = 64

    /// `error`, from decoding `text`, in one line naming the field: what ``JSONTextProblem`` finds in the text first;
    /// else, for the decoder's opaque error, the number the decode refuses (each number of the text in turn is put as
    /// `0` and the text decoded again with `refused`, which says whether that decode still fails the same way); else
    /// ``DecodingErrorDescription``.
    static func describe(_ error: DecodingError, text: [UInt8], refused: ([UInt8]) -> Bool) -> String {
        switch JSONTextProblem.check(text) {
        case .failure(let problem):
            return problem.description
        case .success(let numbers) where isOpaque(error):
            return unfitNumber(in: text, numbers.found, refused: refused) ?? "a number does not fit its field's type"
        case .success:
            return DecodingErrorDescription(error).description
        }
    }

    /// Whether `error` is the decoder's "not valid JSON" at the top level: the one that names nothing.
    static func isOpaque(_ error: any Error) -> Bool {
        guard case DecodingError.dataCorrupted(let context)? = error as? DecodingError else { return false }
        return context.codingPath.isEmpty
    }

    /// Whether `decode` throws the decoder's opaque error (``isOpaque(_:)``).
    static func failsOpaquely(_ decode: () throws -> Void) -> Bool {
        do {
            try decode()
            return false
        } catch {
            return isOpaque(error)
        }
    }

    /// The number of `text` that its decode refuses, described (`payload.amount must be a whole number (got 2.5)`).
    /// The likely ones are tried first: a fraction or exponent, a sign, more than 18 digits.
    private static func unfitNumber(in text: [UInt8], _ numbers: [JSONTextProblem.Number], refused: ([UInt8]) -> Bool) -> String? {
        func likely(_ number: JSONTextProblem.Number) -> Bool {
            number.range.count > 18 || text[number.range].contains { !(0x30...0x39).contains($0) }
        }
        let ordered = numbers.filter(likely) + numbers.filter { !likely($0) }
        for number in ordered.prefix(maxRetries) {
            let changed = Array(text[..<number.range.lowerBound]) + [UInt8(ascii: "0")] + Array(text[number.range.upperBound...])
            if refused(changed) { continue }
            let written = String(decoding: text[number.range], as: UTF8.self)
            let subject = number.path.isEmpty ? "the top-level value" : number.path
            // The value is quoted but for a field named like a secret (a `pin`): a dead reason is stored and logged as it is.
            let field = number.path.split(separator: ".").last.map(String.init) ?? ""
            let shown = PayloadRedaction.isCommonSecretName(field) ? "" : " (got \(written.count > 24 ? written.prefix(24) + "…" : Substring(written)))"
            if let value = Double(written), value.isFinite, value != value.rounded(.towardZero) {
                return "\(subject) must be a whole number\(shown)"
            }
            return "\(subject) is out of range for its field\(shown)"
        }
        return nil
    }
}

/// `DecodingError` in one line: what was expected, where. Names JSON's kinds of value, never the decoder's types.
struct DecodingErrorDescription: CustomStringConvertible {
    let error: DecodingError
    init(_ error: DecodingError) { self.error = error }

    var description: String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return keys.isEmpty ? "the top level" : keys.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context)
            return "missing key '\(key.stringValue)'" + (context.codingPath.isEmpty ? "" : " in \(parent)")
        case .typeMismatch(let type, let context):
            return "\(path(context)) should be \(Self.name(of: type))"
        case .valueNotFound(let type, let context):
            return "\(path(context)) is null, expected \(Self.name(of: type))"
        case .dataCorrupted(let context):
            let underlying = (context.underlyingError as NSError?)?.localizedDescription
            return "\(path(context)): \(context.debugDescription)" + (underlying.map { " (\($0))" } ?? "")
        @unknown default:
            return "\(error)"
        }
    }

    private static func name(of type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is any BinaryInteger.Type: return "a whole number"
        case is Double.Type, is Float.Type: return "a number"
        case is Bool.Type: return "true or false"
        default:
            let name = "\(type)"
            if name.contains("Dictionary") { return "an object" }
            if name.contains("Array") || name.contains("Set<") { return "an array" }
            return "a value of another kind"
        }
    }
}
