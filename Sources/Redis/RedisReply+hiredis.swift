import CHiredis

// One of the four files that touch hiredis memory (with Transport/RESPReader.swift, Transport/ReplyArena.swift and
// RedisReplyView.swift).
// It copies a `redisReply` tree into Swift values; the reader takes the tree's memory back right after.

extension RedisReply {
    /// Copies a hiredis reply tree. Does not free it: the caller owns `pointer` (``RESPReader`` takes its arena back
    /// once this returns).
    init(copying pointer: UnsafePointer<redisReply>) {
        let reply = pointer.pointee
        switch reply.type {
        case REDIS_REPLY_STRING:
            self = .bulk(Self.bytes(reply.str, reply.len))
        case REDIS_REPLY_STATUS:
            self = .status(String(decoding: Self.bytes(reply.str, reply.len), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            self = .error(String(decoding: Self.bytes(reply.str, reply.len), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            self = .integer(Int64(reply.integer))
        case REDIS_REPLY_ARRAY:
            var elements: [RedisReply] = []
            elements.reserveCapacity(reply.elements)
            for index in 0..<reply.elements {
                if let child = reply.element[index] {
                    elements.append(RedisReply(copying: child))
                } else {
                    elements.append(.null)
                }
            }
            self = .array(elements)
        default:  // REDIS_REPLY_NIL (hiredis 0.14 has no RESP3 types)
            self = .null
        }
    }

    private static func bytes(_ pointer: UnsafeMutablePointer<CChar>?, _ count: Int) -> [UInt8] {
        guard let pointer, count > 0 else { return [] }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: count) { Array(UnsafeBufferPointer(start: $0, count: count)) }
    }

    /// Parses raw RESP bytes into replies with hiredis's own reader, without a server.
    ///
    /// Lets reply conversion be tested byte for byte (and fuzzed) offline.
    /// - Throws: ``RedisError`` `protocolError` for bytes that are not RESP, or a truncated reply.
    public static func parse(resp bytes: [UInt8]) throws -> [RedisReply] {
        try RESPReader.replies(in: bytes)
    }
}
