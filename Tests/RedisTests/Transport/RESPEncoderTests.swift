@testable import Redis
import Testing

/// What a connection writes: each command a RESP array of bulk strings, several commands back to back in one buffer.
@Suite struct RESPEncoderTests {
    @Test func exactBytesOfSmallCommands() {
        var encoder = RESPEncoder()
        encoder.append(RedisCommand("PING"))
        encoder.append(RedisCommand("SET", "k", ""))
        #expect(encoder.bytes == Array("*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n".utf8))
        encoder.reset()
        #expect(encoder.bytes.isEmpty)
        encoder.append(RedisCommand("INCR", "bench:done"))
        #expect(encoder.bytes == Array("*2\r\n$4\r\nINCR\r\n$10\r\nbench:done\r\n".utf8))
        #expect(encoder.count == 31)
        #expect(encoder.bytes(from: 14) == Array("$10\r\nbench:done\r\n".utf8))  // what a partial write left
        #expect(encoder.withBytes { Array($0) } == encoder.bytes)
    }

    /// Commands of every argument count and length at the decimal boundaries (0, 9, 10, 99, 100, ... 100,000), binary
    /// and Persian arguments, read back by hiredis's reader: the same arguments, command after command.
    @Test func whatHiredisReadsBackIsTheArguments() throws {
        var state: UInt64 = 0x5E  // a fixed sequence (an LCG), so a failure replays
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        var commands: [RedisCommand] = []
        let sizes = [0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 9999, 10_000, 100_000]
        for count in [1, 2, 9, 10, 11, 12, 100, 101] {
            var command = RedisCommand("CMD\(count)", reservingCapacity: 0, arguments: 0)
            for index in 1..<count {
                let size = sizes[next(sizes.count)]
                if index % 3 == 0 {
                    command.append("مریم \(index)")
                } else {
                    command.append(bytes: (0..<size).map { _ in UInt8(next(256)) })
                }
            }
            commands.append(command)
        }
        var encoder = RESPEncoder()
        for command in commands { encoder.append(command) }
        let replies = try RedisReply.parse(resp: encoder.bytes)
        #expect(replies.count == commands.count)
        for (reply, command) in zip(replies, commands) {
            #expect(reply == .array(command.arguments.map { .bulk($0) }), "\(command.name)")
        }
    }
}
