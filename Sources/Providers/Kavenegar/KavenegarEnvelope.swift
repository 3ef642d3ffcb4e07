import HoopoeJSON
import Foundation

/// Kavenegar's `{"return": {"status", "message"}, "entries": …}` envelope, decoded leniently.
///
/// `entries` is an array for send/status/lookup, an object for `account/info`, and on errors may be absent,
/// `null`, or even the invalid `{ null }` shown in the docs (docs/providers.md §2.2); none of these prevents reading
/// `return`.
struct KavenegarEnvelope: Sendable {
    /// `return.status`: 200 on success, otherwise a Table 1 code.
    var status: Int
    /// `return.message` (Persian).
    var message: String
    /// `entries`, whatever its shape; nil when absent, null or unparseable.
    var entries: JSONValue?

    /// Parses a response body; nil when there is no readable `return.status`.
    static func parse(_ body: [UInt8]) -> KavenegarEnvelope? {
        if let json = JSONValue.parse(body), let envelope = KavenegarEnvelope(json: json) {
            return envelope
        }
        // The documented error example `"entries":{ null }` is not JSON: neutralise it and try again.
        let text = String(decoding: body, as: UTF8.self)
        let repaired = text.replacingOccurrences(
            of: #""entries"\s*:\s*\{\s*null\s*\}"#, with: #""entries":null"#, options: .regularExpression)
        if repaired != text, let json = JSONValue.parse(Array(repaired.utf8)), let envelope = KavenegarEnvelope(json: json) {
            return envelope
        }
        return nil
    }

    private init?(json: JSONValue) {
        guard let header = json["return"], let status = header["status"]?.int64Value else { return nil }
        self.status = Int(status)
        self.message = header["message"]?.stringValue ?? ""
        switch json["entries"] {
        case nil, .null?: self.entries = nil
        case let entries?: self.entries = entries
        }
    }

    /// `entries` as a list: an array as is, a single object as one element, anything else empty.
    var entryList: [JSONValue] {
        switch entries {
        case .array(let elements)?: elements
        case .object?: [entries!]
        default: []
        }
    }
}
