import Foundation
import Providers

/// A request exactly as a fake received it, so tests can assert on the wire bytes.
public struct RecordedRequest: Sendable, Hashable {
    /// Which endpoint it hit.
    public var endpoint: FakeEndpoint
    /// `POST`, `GET`, …
    public var method: String
    /// The raw request target (path and query), e.g. `/kavenegar/v1/KEY/verify/lookup.json`.
    public var target: String
    /// Headers in the order received, names as sent.
    public var headers: [FakeHeader]
    /// The raw body.
    public var body: [UInt8]

    /// Creates a record.
    public init(endpoint: FakeEndpoint, method: String, target: String, headers: [FakeHeader], body: [UInt8]) {
        self.endpoint = endpoint
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
    }

    /// The body as UTF-8 text.
    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// The first value of a header (case-insensitive name).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// Whether the body was sent as JSON: `Content-Type: application/json` (any parameters, such as a charset, and
    /// any `+json` type count). A server reads a JSON body only then; IPPanel's and Brevo's references ask for it.
    var declaresJSON: Bool {
        guard let value = header("Content-Type") else { return false }
        let type = (value.split(separator: ";", maxSplits: 1).first ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        return type == "application/json" || (type.hasPrefix("application/") && type.hasSuffix("+json"))
    }

    /// The path without the query.
    var path: String { String(target.split(separator: "?", maxSplits: 1).first ?? "") }

    /// Query parameters, decoded.
    var query: [String: String] {
        guard let query = target.split(separator: "?", maxSplits: 1).dropFirst().first else { return [:] }
        return Dictionary(FormEncoding.decode(String(query)), uniquingKeysWith: { first, _ in first })
    }

    /// Form body fields, decoded.
    var form: [String: String] {
        Dictionary(FormEncoding.decode(bodyText), uniquingKeysWith: { first, _ in first })
    }
}
