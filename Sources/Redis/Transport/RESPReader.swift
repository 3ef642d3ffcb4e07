import CHiredis

/// hiredis's reply parser (`redisReader`), fed with what the socket gives: the RESP codec, without hiredis's I/O.
///
/// hiredis parses; its object functions hand each element to a ``RedisReplyBuilder`` (the reader's privdata),
/// which builds the Swift ``RedisReply`` directly: no C reply tree is made, copied and freed (decision 0047).
///
/// One per live connection, freed with it: a half-read reply from a dropped connection never leaks into the next.
/// After a protocol error the connection is dropped, and the reader with it. Connection-thread only.
final class RESPReader {
    private let reader: UnsafeMutablePointer<redisReader>
    /// The reader's privdata. Outlives `reader` (deinitialized after it): hiredis may call `freeObject` into it
    /// while it frees a half-read reply.
    private let builder: UnsafeMutablePointer<RedisReplyBuilder>

    /// - Throws: when hiredis cannot allocate a reader.
    init() throws(TransportFailure) {
        guard let reader = redisReaderCreateWithFunctions(RedisReplyBuilder.functions) else {
            throw TransportFailure("out of memory")
        }
        builder = .allocate(capacity: 1)
        builder.initialize(to: RedisReplyBuilder())
        // Before the first read: hiredis copies privdata into each read task as it starts one.
        reader.pointee.privdata = UnsafeMutableRawPointer(builder)
        self.reader = reader
    }

    deinit {
        redisReaderFree(reader)
        builder.deinitialize(count: 1)
        builder.deallocate()
    }

    /// Adds bytes read from the socket (hiredis copies them into its buffer).
    func feed(_ bytes: UnsafeRawBufferPointer) throws(TransportFailure) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        guard redisReaderFeed(reader, base.assumingMemoryBound(to: CChar.self), bytes.count) == REDIS_OK else {
            throw failure()
        }
    }

    /// The next complete reply, or nil when more bytes are needed.
    /// - Throws: for bytes that are not RESP (a protocol error: the connection must be dropped).
    func next() throws(TransportFailure) -> RedisReply? {
        var token: UnsafeMutableRawPointer?
        guard redisReaderGetReply(reader, &token) == REDIS_OK else {
            builder.pointee.reset()
            throw failure()
        }
        // hiredis reports a complete reply by returning its root object: the builder, which holds the value.
        guard token != nil else { return nil }
        guard let reply = builder.pointee.takeFinished() else {
            throw TransportFailure("reply reader out of step with its builder", kind: .protocolError)
        }
        return reply
    }

    /// Whether the bytes fed so far end inside a reply (unread bytes, or an array still being filled), once
    /// ``next()`` has returned nil. (hiredis primes its next root task when asked for a reply, so its own task
    /// index says nothing here.)
    var isTruncated: Bool {
        builder.pointee.isMidReply || reader.pointee.pos < reader.pointee.len
    }

    private func failure() -> TransportFailure {
        TransportFailure(builder.pointee.refusal ?? String(cString: chiredis_reader_errstr(reader)), kind: .protocolError)
    }
}
