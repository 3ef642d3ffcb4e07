/// A node of a reply, as a parser reads it: a ``RedisReply`` (a copy) or a ``RedisReplyView`` (hiredis's reply in
/// place, on the connection's thread). A parser written once against this reads both, so the hot reply that skips the
/// copy (``RedisConnection/send(_:decoding:)``) and the others that do not are parsed by one copy of its rules.
public protocol RedisReplyNode {
    /// The number of elements of an array reply; nil for anything else (the nil array included).
    var elementCount: Int? { get }
    /// Element `index` (below ``elementCount``) of an array reply.
    func element(_ index: Int) -> Self
    /// A bulk string or status reply as UTF-8 text.
    var string: String? { get }
    /// A bulk string's bytes, copied into an array.
    var bytes: [UInt8]? { get }
    /// Whether this is a bulk string holding exactly `text`, compared byte for byte without making a `String`.
    func isBulk(_ text: StaticString) -> Bool
}

extension RedisReply: RedisReplyNode {
    public var elementCount: Int? { array?.count }

    public func element(_ index: Int) -> RedisReply { array![index] }

    public func isBulk(_ text: StaticString) -> Bool {
        guard case .bulk(let bytes) = self else { return false }
        return text.withUTF8Buffer { bytes.elementsEqual($0) }
    }
}
