import Redis
import Testing

/// Which slot a command goes to: the key positions of the commands Hoopoe sends, and the CRC16 the slots come from.
@Suite struct ClusterRouteTests {
    @Test("HashSlot is the cluster specification's CRC16 modulo 16384, hash tags included")
    func hashSlotVectors() {
        #expect(HashSlot.of("123456789") == 0x31C3)
        #expect(HashSlot.of("foo") == 12_182)
        #expect(HashSlot.of("hoopoe:{mail}:stream") == HashSlot.of("mail"))
        #expect(HashSlot.of("hoopoe:{mail}:stream") == HashSlot.of("other:{mail}:dead"))
        #expect(HashSlot.of("foo{}{bar}") != HashSlot.of("bar"))  // an empty first tag: the whole key is hashed
        #expect(HashSlot.of("foo{{bar}}zap") == HashSlot.of("{bar"))
        #expect(HashSlot.of(bytes: Array("hoopoe:{mail}:stream".utf8)) == HashSlot.of("mail"))
    }

    /// The slot is computed a table lookup a byte: checked against the specification's bit-by-bit CRC16 for keys of
    /// every length to 64 and every byte value, hash tags or none. The keys come from a fixed seed, so a key that fails
    /// once fails on every run.
    @Test("HashSlot's table gives the bit-by-bit CRC16 of any bytes")
    func hashSlotTable() {
        func reference(_ bytes: [UInt8]) -> Int {
            var crc: UInt16 = 0
            for byte in bytes {
                crc ^= UInt16(byte) << 8
                for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
            }
            return Int(crc) % HashSlot.count
        }
        var random = SeededBytes(seed: 0xC16)
        for length in 0...64 {
            for _ in 0..<40 {
                let key = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
                guard !key.contains(UInt8(ascii: "{")) else { continue }  // a brace may open a tag: hashed below
                #expect(HashSlot.of(bytes: key) == reference(key), "\(key)")
                #expect(HashSlot.of(bytes: key[...]) == reference(key))  // a command's argument is a slice
            }
        }
        let everyByte = (0...255).map(UInt8.init).filter { $0 != UInt8(ascii: "{") }
        #expect(HashSlot.of(bytes: everyByte) == reference(everyByte))
    }

    @Test("a plain command is routed by its first argument, whatever its name's case")
    func firstArgument() {
        #expect(ClusterRoute(RedisCommand("HSET", "a:{q}:x", "f", "v")) == .slot(HashSlot.of("q")))
        #expect(ClusterRoute(RedisCommand("incr", "a:{q}:x")) == .slot(HashSlot.of("q")))
        #expect(ClusterRoute(RedisCommand("XGROUP", "CREATE", "a:{q}:stream", "workers", "0")) == .slot(HashSlot.of("q")))
        #expect(ClusterRoute(RedisCommand("xgroup", "CREATE", "a:{q}:stream", "workers", "0")) == .slot(HashSlot.of("q")))
        #expect(ClusterRoute(RedisCommand("evalsha", "sha", "1", "a:{q}:x")) == .slot(HashSlot.of("q")))
        // A name longer than any in the table (17 bytes) is taken to have its key first.
        #expect(ClusterRoute(RedisCommand("AVERYLONGCOMMANDX", "a:{q}:x")) == .slot(HashSlot.of("q")))
        #expect(ClusterRoute(RedisCommand("INCR")) == .anyNode)
    }

    @Test("keyless commands go to any node")
    func keyless() {
        for command in [RedisCommand("PING"), RedisCommand("INFO", "server"), RedisCommand("CLIENT", "UNBLOCK", "7"), RedisCommand("SCRIPT", "LOAD", "return 1"), RedisCommand("EVALSHA", "abc", "0")] {
            #expect(ClusterRoute(command) == .anyNode, "\(command.name)")
        }
    }

    @Test("scripts are routed by their numkeys keys only, never by ARGV")
    func scripts() {
        let keys = ["h:{q}:stream", "h:{q}:dead"]
        #expect(ClusterRoute(RedisCommand("EVALSHA", ["sha", "2"] + keys + ["h:{other}:x"])) == .slot(HashSlot.of("q")))
        #expect(ClusterRoute(RedisCommand("FCALL", ["f", "1", "h:{q}:stream", "argv"])) == .slot(HashSlot.of("q")))
        #expect(ClusterRoute(RedisCommand("EVALSHA", ["sha", "2", "h:{a}:x", "h:{b}:x"])) == .crossSlot(keys: ["h:{a}:x", "h:{b}:x"]))
    }

    @Test("XREADGROUP is routed by the streams after STREAMS; two queues' streams span slots")
    func xreadgroup() {
        let one = RedisCommand("XREADGROUP", ["GROUP", "workers", "c1", "COUNT", "10", "BLOCK", "100", "STREAMS", "h:{mail}:stream", ">"])
        #expect(ClusterRoute(one) == .slot(HashSlot.of("mail")))
        let two = RedisCommand("XREADGROUP", ["GROUP", "workers", "c1", "STREAMS", "h:{mail}:stream", "h:{default}:stream", ">", ">"])
        #expect(ClusterRoute(two) == .crossSlot(keys: ["h:{mail}:stream", "h:{default}:stream"]))
    }

    @Test("multi-key commands name every key; a transaction is one route over all its commands")
    func multiKey() {
        #expect(ClusterRoute(RedisCommand("DEL", "h:{a}:1", "h:{a}:2")) == .slot(HashSlot.of("a")))
        #expect(ClusterRoute(RedisCommand("DEL", "h:{a}:1", "h:{b}:2")) == .crossSlot(keys: ["h:{a}:1", "h:{b}:2"]))
        #expect(ClusterRoute(RedisCommand("MSET", "h:{a}:1", "h:{b}:1", "h:{a}:2", "v")) == .slot(HashSlot.of("a")))
        #expect(ClusterRoute(RedisCommand("BLPOP", "h:{a}:1", "h:{a}:2", "5")) == .slot(HashSlot.of("a")))
        #expect(ClusterRoute(RedisCommand("ZUNIONSTORE", "h:{a}:d", "2", "h:{a}:1", "h:{a}:2", "WEIGHTS", "1", "2")) == .slot(HashSlot.of("a")))
        let transaction = [RedisCommand("MULTI"), RedisCommand("SADD", "h:{a}:s", "x"), RedisCommand("HSET", "h:{b}:h", "f", "v"), RedisCommand("EXEC")]
        #expect(ClusterRoute(together: transaction) == .crossSlot(keys: ["h:{a}:s", "h:{b}:h"]))
        #expect(ClusterRoute(together: [RedisCommand("MULTI"), RedisCommand("EXEC")]) == .anyNode)
    }

    /// Each way a command places its keys (``ClusterRoute/KeyRule``), checked by the keys a cross-slot route names:
    /// exactly the keys, none of the counts, timeouts, ids or options around them, whatever the name's case.
    @Test("every multi-key shape names exactly its keys", arguments: [
        (["XREAD", "COUNT", "1", "STREAMS", "h:{a}:s", "h:{b}:s", "0", "0"], ["h:{a}:s", "h:{b}:s"]),
        (["MSETNX", "h:{a}:1", "v", "h:{b}:1", "w"], ["h:{a}:1", "h:{b}:1"]),
        (["mset", "h:{a}:1", "v", "h:{b}:1", "w"], ["h:{a}:1", "h:{b}:1"]),
        (["BRPOP", "h:{a}:1", "h:{b}:1", "5"], ["h:{a}:1", "h:{b}:1"]),
        (["ZINTERSTORE", "h:{a}:d", "2", "h:{b}:1", "h:{c}:1", "WEIGHTS", "1", "2"], ["h:{a}:d", "h:{b}:1", "h:{c}:1"]),
        (["ZUNION", "2", "h:{a}:1", "h:{b}:1", "WITHSCORES"], ["h:{a}:1", "h:{b}:1"]),
        (["LMPOP", "2", "h:{a}:1", "h:{b}:1", "LEFT"], ["h:{a}:1", "h:{b}:1"]),
        (["BLMPOP", "5", "2", "h:{a}:1", "h:{b}:1", "LEFT"], ["h:{a}:1", "h:{b}:1"]),
    ])
    func keyShapes(command: [String], keys: [String]) {
        #expect(ClusterRoute(RedisCommand(command[0], Array(command.dropFirst()))) == .crossSlot(keys: keys))
    }

    /// A key count that is not a positive number (negative, zero, huge, not a number) names no keys after it: the command
    /// is routed as a keyless one (or by its destination) and Redis refuses it. A negative count trapped building the key
    /// range, and a huge one overflowed: the process went down with a caller's malformed command.
    @Test("a malformed key count routes without crashing", arguments: [
        ["ZUNION", "-1", "h:{a}:1"], ["BLMPOP", "0", "-1", "h:{a}:1", "LEFT"], ["EVALSHA", "x", "9223372036854775807", "h:{a}:1"],
        ["ZUNION", "9223372036854775807", "h:{a}:1"], ["ZUNIONSTORE", "h:{a}:d", "-5", "h:{b}:1"], ["ZINTERCARD", "many", "h:{a}:1"],
        ["EVAL", "return 1", "0", "h:{a}:1"],
    ])
    func malformedKeyCounts(command: [String]) {
        let route = ClusterRoute(RedisCommand(command[0], Array(command.dropFirst())))
        if command[0] == "ZUNIONSTORE" {
            #expect(route != .anyNode, "routed by its destination")
        } else if command[2] == "9223372036854775807" || command[1] == "9223372036854775807" {
            #expect(route != .anyNode, "a huge count names every key that follows")
        } else {
            #expect(route == .anyNode, "\(route)")
        }
    }
}

/// A fixed-seed source of random numbers: SplitMix64, as HoopoeCore's (which this target, on `Redis` alone, cannot
/// import), so the same seed gives the same keys on every run.
private struct SeededBytes: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
