import HoopoeJSON
import Providers

/// A canned HTTP answer from a fake provider: status, headers and body bytes.
public struct FakeReply: Sendable, Hashable {
    /// HTTP status (any 3-digit code; Kavenegar mirrors codes like 424 or 607 into it).
    public var status: Int
    /// Headers in the order sent.
    public var headers: [FakeHeader]
    /// Body bytes.
    public var body: [UInt8]

    /// Creates a reply.
    public init(status: Int, headers: [FakeHeader] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON reply with `Content-Type: application/json`.
    public static func json(_ status: Int, _ value: JSONValue, headers: [FakeHeader] = []) -> FakeReply {
        FakeReply(status: status, headers: [FakeHeader("Content-Type", "application/json")] + headers, body: value.encoded())
    }

    /// A plain-text reply, e.g. an HTML error page from a proxy (for "unparseable body" tests).
    public static func text(_ status: Int, _ text: String) -> FakeReply {
        FakeReply(status: status, headers: [FakeHeader("Content-Type", "text/html")], body: Array(text.utf8))
    }
}

/// One header name/value pair, order preserved.
public struct FakeHeader: Sendable, Hashable, CustomStringConvertible {
    /// Header name as sent on the wire.
    public var name: String
    /// Header value.
    public var value: String

    /// Creates a header.
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }

    public var description: String { "\(name): \(value)" }
}
