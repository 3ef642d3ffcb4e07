import CHiredis

#if canImport(Glibc)
import Glibc
#endif

// One of the four files that touch hiredis memory (with RedisReply+hiredis.swift, Transport/RESPReader.swift and
// Transport/ReplyArena.swift).

/// A reply read in place, in hiredis's own reply tree, by a decoder that runs on the connection's thread while the
/// tree is alive (``RedisConnection/send(_:decoding:)``): the values the decoder wants are copied out, and the tree is
/// taken back when it returns (its ``ReplyArena`` is reused).
///
/// Why: a fetch's `XREADGROUP` reply is ~10 C objects an entry. Copied into a ``RedisReply`` tree first, each entry
/// cost five more allocations (two arrays and three byte copies), freed on another thread, and a walk to copy and
/// another to release, before the parser took the two values it needs (docs/benchmarks.md, session 14). A view must not
/// outlive the decoder's call: it points into memory reused right after.
public struct RedisReplyView: RedisReplyNode {
    private let pointer: UnsafePointer<redisReply>

    init(_ pointer: UnsafePointer<redisReply>) {
        self.pointer = pointer
    }

    public var elementCount: Int? {
        pointer.pointee.type == REDIS_REPLY_ARRAY ? Int(pointer.pointee.elements) : nil
    }

    public func element(_ index: Int) -> RedisReplyView {
        precondition(index >= 0 && index < (elementCount ?? 0), "reply element \(index) out of range")
        // hiredis never leaves an element empty (a nil element is a REDIS_REPLY_NIL object).
        return RedisReplyView(UnsafePointer(pointer.pointee.element[index]!))
    }

    public var string: String? {
        guard let text = text else { return nil }
        return String(decoding: text, as: UTF8.self)
    }

    public var bytes: [UInt8]? {
        guard pointer.pointee.type == REDIS_REPLY_STRING else { return nil }
        return text.map { Array($0) } ?? []
    }

    public func isBulk(_ expected: StaticString) -> Bool {
        let reply = pointer.pointee
        guard reply.type == REDIS_REPLY_STRING, reply.len == expected.utf8CodeUnitCount else { return false }
        guard reply.len > 0, let str = reply.str else { return true }
        return memcmp(str, expected.utf8Start, reply.len) == 0
    }

    /// The bytes of a bulk string or status reply, in place.
    private var text: UnsafeBufferPointer<UInt8>? {
        let reply = pointer.pointee
        guard reply.type == REDIS_REPLY_STRING || reply.type == REDIS_REPLY_STATUS else { return nil }
        guard let str = reply.str, reply.len > 0 else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: UnsafeRawPointer(str).assumingMemoryBound(to: UInt8.self), count: reply.len)
    }

    /// Parses raw RESP bytes with hiredis's reader, offline, and hands each reply's view to `decode`: the tests' way to
    /// check a decoder byte for byte, as ``RedisReply/parse(resp:)`` does for the copy.
    /// - Throws: ``RedisError`` `protocolError` for bytes that are not RESP, or a truncated reply.
    public static func parse<T>(resp bytes: [UInt8], _ decode: (RedisReplyView) -> T) throws -> [T] {
        try withoutActuallyEscaping(decode) { decode in
            var decoded: [T] = []
            _ = try RESPReader.replies(in: bytes) { decoded.append(decode($0)) }
            return decoded
        }
    }
}
