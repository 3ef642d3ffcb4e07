import Foundation
import Synchronization
import Redis
import TestSupport
import Testing

/// A reply read in place (``RedisReplyView``) answers what its copy (``RedisReply``) answers, node for node; and
/// ``RedisConnection/send(_:decoding:)`` hands a real server's reply to its decoder on either read path (the
/// connection's thread, or a lone caller reading its own reply), in order among other callers' replies.
@Suite(.timeLimit(.minutes(1))) struct RedisReplyViewTests {
    /// Everything ``RedisReplyNode`` says of a reply, as one comparable value.
    private enum Seen: Equatable {
        case node(count: Int?, string: String?, bytes: [UInt8]?, isJob: Bool, isEmpty: Bool, elements: [Seen])
    }

    private static func seen(_ node: some RedisReplyNode) -> Seen {
        let count = node.elementCount
        return .node(
            count: count, string: node.string, bytes: node.bytes, isJob: node.isBulk("job"), isEmpty: node.isBulk(""),
            elements: (0..<(count ?? 0)).map { seen(node.element($0)) })
    }

    private static let samples: [String] = [
        "+OK\r\n", "+job\r\n", ":42\r\n", ":-7\r\n", "$3\r\njob\r\n", "$4\r\njobs\r\n", "$2\r\njo\r\n", "$0\r\n\r\n", "$-1\r\n",
        "*-1\r\n", "*0\r\n", "$5\r\na\0b\r\n\r\n", "$6\r\n\u{645}\u{6CC}\u{645}\r\n",
        "*3\r\n$3\r\njob\r\n*2\r\n:1\r\n$-1\r\n*1\r\n*0\r\n",
        "*2\r\n$23\r\nhoopoe:{default}:stream\r\n*1\r\n*2\r\n$15\r\n1764560000000-0\r\n*2\r\n$3\r\njob\r\n$7\r\n{\"a\":1}\r\n",
    ]

    @Test func theViewAnswersWhatTheCopyAnswers() throws {
        for sample in Self.samples {
            let bytes = Array(sample.utf8)
            let copied = try RedisReply.parse(resp: bytes).map { Self.seen($0) }
            let viewed = try RedisReplyView.parse(resp: bytes) { Self.seen($0) }
            #expect(viewed == copied, "\(sample.debugDescription)")
            #expect(viewed.count == 1, "\(sample.debugDescription)")
        }
    }

    /// The fields a parser relies on, spelled out: `isBulk` is a bulk string's exact bytes (not a status, not a prefix,
    /// not a longer string), `bytes` is a bulk string's only (empty for an empty one, nil for nil), `string` also reads
    /// a status.
    @Test func fieldsOfEachKind() throws {
        let replies = try RedisReplyView.parse(resp: Array("$3\r\njob\r\n+job\r\n$0\r\n\r\n$-1\r\n:3\r\n*2\r\n$1\r\nx\r\n$-1\r\n".utf8)) { view in
            [String(describing: view.isBulk("job")), view.string ?? "nil", view.bytes.map { "\($0.count)" } ?? "nil", view.elementCount.map(String.init) ?? "nil"]
        }
        #expect(replies == [["true", "job", "3", "nil"], ["false", "job", "nil", "nil"], ["false", "", "0", "nil"], ["false", "nil", "nil", "nil"],
            ["false", "nil", "nil", "nil"], ["false", "nil", "nil", "2"]])
    }

    @Test func aTruncatedOrBadInputIsAProtocolError() throws {
        #expect(throws: RedisError.self) { try RedisReplyView.parse(resp: Array("*2\r\n$1\r\nx\r\n".utf8)) { _ in 0 } }
        #expect(throws: RedisError.self) { try RedisReplyView.parse(resp: Array("?bad\r\n".utf8)) { _ in 0 } }
    }

    /// Against a real server: the decoder sees what a copy of the same reply says, on the connection's thread (the
    /// first call connects there) and on a lone caller's own read (the calls after it); an error reply is thrown with the
    /// server's message and never decoded; and decoded requests among many concurrent ones each get their own reply.
    @Test func aServersReplyIsDecodedInPlaceOnBothReadPaths() async throws {
        let server = try RedisServer()
        let connection = RedisConnection(configuration: try RedisConfiguration(url: server.url))
        defer { connection.close() }
        let key = "view:list"
        _ = try await connection.send([RedisCommand("RPUSH", key, "a", "", "job", "\u{645}\u{6CC}")])
        for _ in 0..<200 {
            let range = RedisCommand("LRANGE", key, "0", "-1")
            let copied = Self.seen(try await connection.send([range])[0])
            let viewed = try await connection.send(range) { Self.seen($0) }
            #expect(viewed == copied)
            let missing = try await connection.send(RedisCommand("GET", "view:missing")) { $0.bytes == nil && $0.elementCount == nil }
            #expect(missing)
        }
        let decoded = Atomic<Int>(0)
        await #expect(throws: RedisError.self) {
            _ = try await connection.send(RedisCommand("LPUSH", key)) { _ in decoded.add(1, ordering: .relaxed) }
        }
        do {
            _ = try await connection.send(RedisCommand("NOSUCHCOMMAND")) { _ in decoded.add(1, ordering: .relaxed) }
            Issue.record("an error reply was not thrown")
        } catch let error as RedisError {
            #expect(error.code == .server)
            #expect(error.message.hasPrefix("ERR unknown command"))
        }
        #expect(decoded.load(ordering: .relaxed) == 0)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<50 {
                group.addTask {
                    for round in 0..<40 {
                        let text = "t\(task)-\(round)"
                        if (task + round) % 2 == 0 {
                            let echoed = try await connection.send(RedisCommand("ECHO", text)) { $0.string }
                            #expect(echoed == text)
                        } else {
                            let echoed = try await connection.send([RedisCommand("ECHO", text)])
                            #expect(echoed == [.bulk(Array(text.utf8))])
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
