import Redis
import TestSupport
import Testing

/// Reply conversion, against a real server and offline through hiredis's reader.
@Suite struct RedisReplyTests {
    @Test func everyRESPTypeFromTheServer() async throws {
        let redis = try TestRedis.client()
        defer { redis.close() }
        let key = TestRedis.uniquePrefix()
        #expect(try await redis.send("SET", key, "v") == .status("OK"))
        #expect(try await redis.send("INCRBY", "\(key):n", "-42") == .integer(-42))
        #expect(try await redis.send("GET", "\(key):missing") == .null)
        #expect(try await redis.send("GET", key) == .bulk(Array("v".utf8)))
        let error = try await redis.pipeline([RedisCommand("NOSUCHCOMMAND")])[0]
        #expect(error.errorMessage?.hasPrefix("ERR unknown command") == true)
        // MGET puts nil inside an array.
        let mget = try await redis.send("MGET", key, "\(key):missing", key)
        #expect(mget == .array([.bulk(Array("v".utf8)), .null, .bulk(Array("v".utf8))]))
    }

    @Test func nestedArraysFromAScript() async throws {
        let redis = try TestRedis.client()
        defer { redis.close() }
        let script = RedisScript(name: "nested", source: "return {1, {2, {'three', {}}}, 'x', redis.status_reply('fine')}")
        let reply = try await redis.run(script)
        #expect(reply == .array([.integer(1), .array([.integer(2), .array([.bulk(Array("three".utf8)), .array([])])]), .bulk([120]), .status("fine")]))
    }

    @Test func binarySafeBulkStrings() async throws {
        let redis = try TestRedis.client()
        defer { redis.close() }
        let key = TestRedis.uniquePrefix()
        let binary: [UInt8] = [0, 1, 0, 255, 13, 10, 0]
        var set = RedisCommand("SET", key)
        set.append(bytes: binary)
        try await redis.send(set)
        #expect(try await redis.send("GET", key).bytes == binary)
        #expect(try await redis.send("STRLEN", key) == .integer(7))

        let persian = "سلام، هدهد! پیامک یادآوری ۱۴۰۳/۰۹/۰۲"
        try await redis.send("SET", "\(key):fa", persian)
        #expect(try await redis.send("GET", "\(key):fa").string == persian)
        #expect(try await redis.send("STRLEN", "\(key):fa").int == persian.utf8.count)
    }

    @Test func oneMebibyteValue() async throws {
        let redis = try TestRedis.client()
        defer { redis.close() }
        let key = TestRedis.uniquePrefix()
        let value = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        var set = RedisCommand("SET", key)
        set.append(bytes: value)
        try await redis.send(set)
        let back = try await redis.send("GET", key)
        #expect(back.bytes?.count == 1 << 20)
        #expect(back.bytes == value)
        try await redis.send("DEL", key)
    }

    @Test func offlineParsingOfEveryType() throws {
        let resp = "+OK\r\n-ERR bad\r\n:-7\r\n$5\r\na\u{0}b\r\n\r\n$-1\r\n*3\r\n:1\r\n*-1\r\n*2\r\n$0\r\n\r\n*0\r\n"
        let replies = try RedisReply.parse(resp: Array(resp.utf8))
        #expect(replies == [
            .status("OK"), .error("ERR bad"), .integer(-7), .bulk([97, 0, 98, 13, 10]), .null,
            .array([.integer(1), .null, .array([.bulk([]), .array([])])]),
        ])
    }

    @Test func offlineParsingRejectsGarbageAndTruncation() {
        #expect(throws: RedisError.self) { try RedisReply.parse(resp: Array("?what\r\n".utf8)) }
        #expect(throws: RedisError.self) { try RedisReply.parse(resp: Array("*2\r\n:1\r\n".utf8)) }
    }

    @Test func accessors() {
        #expect(RedisReply.bulk(Array("12".utf8)).int == 12)
        #expect(RedisReply.bulk(Array("1.5".utf8)).double == 1.5)
        #expect(RedisReply.status("OK").string == "OK")
        #expect(RedisReply.integer(3).string == nil)
        #expect(RedisReply.null.isNull)
    }
}
