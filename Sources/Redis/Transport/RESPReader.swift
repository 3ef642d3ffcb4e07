import CHiredis

// One of the four files that touch hiredis memory (with ReplyArena.swift, ../RedisReply+hiredis.swift and
// ../RedisReplyView.swift).

/// hiredis's reply parser (`redisReader`), fed with what the socket gives: the RESP codec, without hiredis's I/O.
/// Its replies are built in a ``ReplyArena`` of its own, taken back whole once each reply is read.
///
/// One per live connection, freed with it: a half-read reply from a dropped connection never leaks into the next.
/// Connection-thread only.
final class RESPReader {
    private let reader: UnsafeMutablePointer<redisReader>
    private let arena: UnsafeMutablePointer<ReplyArena>

    /// - Throws: when hiredis cannot allocate a reader.
    init() throws(TransportFailure) {
        guard let arena = ReplyArena.make() else { throw TransportFailure("out of memory") }
        guard let reader = redisReaderCreateWithFunctions(ReplyArena.functions) else {
            ReplyArena.destroy(arena)
            throw TransportFailure("out of memory")
        }
        reader.pointee.privdata = UnsafeMutableRawPointer(arena)
        self.reader = reader
        self.arena = arena
    }

    deinit {
        redisReaderFree(reader)
        ReplyArena.destroy(arena)
    }

    /// Adds bytes read from the socket (hiredis copies them into its buffer).
    func feed(_ bytes: UnsafeRawBufferPointer) throws(TransportFailure) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        guard redisReaderFeed(reader, base.assumingMemoryBound(to: CChar.self), bytes.count) == REDIS_OK else {
            throw TransportFailure(String(cString: chiredis_reader_errstr(reader)), kind: .protocolError)
        }
    }

    /// The next complete reply, or nil when more bytes are needed.
    ///
    /// With a `decoder`, a reply that is not an error is handed to it in place (``RedisReplyView``) instead of being
    /// copied, and comes back as `.null`: the decoder has taken what it wants before the tree's memory is reused. An
    /// error reply is copied as usual, so the caller sees the server's message.
    /// - Throws: for bytes that are not RESP (a protocol error: the connection must be dropped).
    func next(decoding decoder: ((RedisReplyView) -> Void)? = nil) throws(TransportFailure) -> RedisReply? {
        var raw: UnsafeMutableRawPointer?
        guard redisReaderGetReply(reader, &raw) == REDIS_OK else {
            throw TransportFailure(String(cString: chiredis_reader_errstr(reader)), kind: .protocolError)
        }
        guard let raw else { return nil }
        // The reply is complete, and nothing of the next one is built yet: its whole arena comes back.
        defer { arena.pointee.reset() }
        let reply = UnsafePointer(raw.assumingMemoryBound(to: redisReply.self))
        if let decoder, reply.pointee.type != REDIS_REPLY_ERROR {
            decoder(RedisReplyView(reply))
            return .null
        }
        return RedisReply(copying: reply)
    }

    /// Every reply in `bytes`, parsed offline (no server): copied, or handed to `decoder` in place (then `.null`), as
    /// ``next(decoding:)`` does for a connection. ``RedisReply/parse(resp:)`` and ``RedisReplyView/parse(resp:_:)``
    /// are this, for tests and fuzzing.
    /// - Throws: ``RedisError`` `protocolError` for bytes that are not RESP, or a truncated reply.
    static func replies(in bytes: [UInt8], decoding decoder: ((RedisReplyView) -> Void)? = nil) throws -> [RedisReply] {
        let reader: RESPReader
        var replies: [RedisReply] = []
        do throws(TransportFailure) {
            reader = try RESPReader()
            let fed = bytes.withUnsafeBytes { raw in Result { () throws(TransportFailure) in try reader.feed(raw) } }
            try fed.get()
            while let reply = try reader.next(decoding: decoder) { replies.append(reply) }
        } catch {
            throw RedisError(.protocolError, endpoint: "reader", message: error.reason)
        }
        // Unread bytes, or an array still being assembled (ridx > 0), mean the input was cut short.
        // (ridx is 0, not -1, after the last complete reply: the reader primes its next root task.)
        let raw = reader.reader.pointee
        guard raw.ridx <= 0 && raw.pos >= raw.len else { throw RedisError(.protocolError, endpoint: "reader", message: "truncated reply") }
        return replies
    }
}
