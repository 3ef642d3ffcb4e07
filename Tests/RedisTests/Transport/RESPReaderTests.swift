@testable import Redis
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The reader a connection parses with, fed the way a socket feeds it, in pieces that split replies anywhere.
/// Offline: bytes, not a server. (Written for decision 0047's reply builder, which did not pay and was left out;
/// they hold for the reader as it is.)
@Suite struct RESPReaderTests {
    /// Every RESP type, nil and empty arrays at the root and inside, nesting, NUL and CRLF inside a bulk string,
    /// and an XREADGROUP reply of the shape the worker reads.
    static let stream: [UInt8] = Array((
        "+OK\r\n-ERR bad\r\n:-7\r\n:9223372036854775807\r\n$5\r\na\u{0}b\r\n\r\n$-1\r\n$0\r\n\r\n+\r\n"
            + "*-1\r\n*0\r\n*2\r\n*-1\r\n$-1\r\n*3\r\n*0\r\n*1\r\n*0\r\n*0\r\n"
            + "*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*2\r\n:8\r\n*0\r\n"
            + "*1\r\n*2\r\n$17\r\nhoopoe:{q}:stream\r\n*2\r\n"
            + "*2\r\n$3\r\n1-0\r\n*2\r\n$3\r\njob\r\n$2\r\n{}\r\n"
            + "*2\r\n$3\r\n1-1\r\n*4\r\n$8\r\npromoted\r\n$1\r\n1\r\n$3\r\njob\r\n$3\r\n[1]\r\n"
    ).utf8)

    static let expected: [RedisReply] = [
        .status("OK"), .error("ERR bad"), .integer(-7), .integer(.max), .bulk([97, 0, 98, 13, 10]), .null, .bulk([]),
        .status(""),
        .null, .array([]), .array([.null, .null]), .array([.array([]), .array([.array([])]), .array([])]),
        .array([.array([.array([.array([.array([.array([.array([.integer(8), .array([])])])])])])])]),
        .array([.array([
            .bulk(Array("hoopoe:{q}:stream".utf8)),
            .array([
                .array([.bulk(Array("1-0".utf8)), .array([.bulk(Array("job".utf8)), .bulk(Array("{}".utf8))])]),
                .array([
                    .bulk(Array("1-1".utf8)),
                    .array([.bulk(Array("promoted".utf8)), .bulk([49]), .bulk(Array("job".utf8)), .bulk(Array("[1]".utf8))]),
                ]),
            ]),
        ])]),
    ]

    /// Feeds `bytes` in pieces of `size` bytes, taking every reply complete after each piece.
    private func read(_ bytes: [UInt8], piecesOf size: Int) throws -> [RedisReply] {
        let reader = try RESPReader()
        var replies: [RedisReply] = []
        var start = 0
        while start < bytes.count {
            let end = min(start + size, bytes.count)
            try bytes[start..<end].withUnsafeBytes { try reader.feed($0) }
            while let reply = try reader.next() { replies.append(reply) }
            start = end
        }
        return replies
    }

    @Test func wholeStreamInOneFeed() throws {
        #expect(try read(Self.stream, piecesOf: Self.stream.count) == Self.expected)
        #expect(try RedisReply.parse(resp: Self.stream) == Self.expected)
    }

    @Test func oneByteAtATime() throws {
        #expect(try read(Self.stream, piecesOf: 1) == Self.expected)
    }

    @Test func splitAtEveryPoint() throws {
        for cut in 1..<Self.stream.count {
            let reader = try RESPReader()
            var replies: [RedisReply] = []
            try Self.stream[..<cut].withUnsafeBytes { try reader.feed($0) }
            while let reply = try reader.next() { replies.append(reply) }
            try Self.stream[cut...].withUnsafeBytes { try reader.feed($0) }
            while let reply = try reader.next() { replies.append(reply) }
            #expect(replies == Self.expected, "cut at \(cut)")
        }
    }

    /// More than hiredis's 1 KiB compaction threshold, one byte at a time: the buffer moves under a half-read bulk.
    @Test func largeBulkStringInOneBytePieces() throws {
        let value = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let bytes = Array("*2\r\n$5000\r\n".utf8) + value + Array("\r\n:1\r\n".utf8)
        #expect(try read(bytes, piecesOf: 1) == [.array([.bulk(value), .integer(1)])])
    }

    @Test func aPartialReplyIsTruncated() throws {
        for partial in ["*2\r\n:1\r\n", "*2\r\n*0\r\n*", "$5\r\nab", ":12", "*3\r\n*1\r\n:1\r\n"] {
            #expect(try read(Array(partial.utf8), piecesOf: 1).isEmpty, "\(partial)")
            #expect(throws: RedisError.self, "\(partial)") { try RedisReply.parse(resp: Array(partial.utf8)) }
        }
    }

    /// A protocol error inside an array: the replies before it are whole, and the reader stays failed until it is
    /// dropped (with its connection).
    @Test func protocolErrorMidArrayDropsThePartialReply() throws {
        let reader = try RESPReader()
        try Array("+OK\r\n*3\r\n*2\r\n:1\r\n?".utf8).withUnsafeBytes { try reader.feed($0) }
        #expect(try reader.next() == .status("OK"))
        #expect(throws: TransportFailure.self) { try reader.next() }
        #expect(throws: TransportFailure.self) { try reader.next() }
    }

    /// A negative count other than -1 is not RESP: hiredis refuses it before making an array.
    @Test func negativeArrayCountIsAProtocolError() throws {
        let reader = try RESPReader()
        try Array("*-2\r\n".utf8).withUnsafeBytes { try reader.feed($0) }
        do throws(TransportFailure) {
            _ = try reader.next()
            Issue.record("no error")
        } catch {
            #expect(error.kind == .protocolError)
            #expect(error.reason.contains("out of range"))
        }
    }

    /// hiredis refuses arrays nested deeper than 8 levels (the task stack it keeps); 8 are fine (the stream above).
    @Test func nestingBeyondHiredisLimitIsAProtocolError() throws {
        let deep = String(repeating: "*1\r\n", count: 9) + ":1\r\n"
        #expect(throws: RedisError.self) { try RedisReply.parse(resp: Array(deep.utf8)) }
    }

    /// Replies larger than the arena's first block (``ReplyArena``), one after another and between small ones, fed
    /// in pieces that leave a reply half-built across blocks: each is whole and right, and the small ones after a
    /// large one too (the arena was taken back and reused). 3,000 entries of 100 bytes need ~450 KiB of nodes and
    /// strings, several blocks beyond the first.
    @Test func repliesLargerThanTheArenasFirstBlock() throws {
        func entries(_ count: Int, _ seed: Int) -> (bytes: [UInt8], reply: RedisReply) {
            var bytes = Array("*\(count)\r\n".utf8)
            var elements: [RedisReply] = []
            for index in 0..<count {
                let value = (0..<100).map { UInt8(truncatingIfNeeded: ($0 + index * 7 + seed) % 251) }
                bytes += Array("*2\r\n:\(index)\r\n$100\r\n".utf8) + value + Array("\r\n".utf8)
                elements.append(.array([.integer(Int64(index)), .bulk(value)]))
            }
            return (bytes, .array(elements))
        }
        let large = entries(3000, 1)
        let larger = entries(6000, 2)
        let small = (Array("*2\r\n$3\r\nabc\r\n:5\r\n".utf8), RedisReply.array([.bulk(Array("abc".utf8)), .integer(5)]))
        let bytes = small.0 + large.bytes + small.0 + larger.bytes + small.0 + large.bytes
        let expected = [small.1, large.reply, small.1, larger.reply, small.1, large.reply]
        #expect(try read(bytes, piecesOf: bytes.count) == expected)
        #expect(try read(bytes, piecesOf: 4093) == expected)
        #expect(try RedisReply.parse(resp: bytes) == expected)
    }

    /// The arena hands out 8-byte-aligned memory front to back, and a reset takes everything back: the first block is
    /// used again from its start, and what spilled beyond it is freed (nothing else points into it by then).
    @Test func theArenaIsTakenBackWhole() throws {
        let arena = try #require(ReplyArena.make())
        defer { ReplyArena.destroy(arena) }
        func take(_ size: Int) throws -> UnsafeMutableRawPointer {
            let memory = arena.pointee.allocate(size)
            return try #require(memory)
        }
        let first = try take(5)
        #expect(try take(1) - first == 8)
        let spilled = try take(ReplyArena.blockSize)
        #expect(abs(spilled - first) >= ReplyArena.blockSize)
        memset(spilled, 0xAB, ReplyArena.blockSize)  // the whole size is usable
        arena.pointee.reset()
        #expect(try take(16) == first)
        #expect(try take(ReplyArena.blockSize - 16) == first + 16)
        #expect(try abs(take(8) - first) >= ReplyArena.blockSize)  // the first block is full: a spill block
        arena.pointee.reset()
        #expect(try take(8) == first)
    }

    /// A reader freed with an array half-built (a connection dropped mid-reply) frees cleanly.
    @Test func freedMidReply() throws {
        var reader: RESPReader? = try RESPReader()
        try Array("*2\r\n*2\r\n:1\r\n".utf8).withUnsafeBytes { try reader?.feed($0) }
        #expect(try reader?.next() == nil)
        reader = nil
    }

}
