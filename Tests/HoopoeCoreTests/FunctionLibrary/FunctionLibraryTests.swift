import Foundation
import HoopoeJSON
import Logging
import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// The function library on a real redis-server of its own (functions belong to the whole server, so these tests
/// do not share the suite's Redis): the scripts run unchanged as functions, and the loader and keeper keep exactly
/// this library loaded.
@Suite struct FunctionLibraryTests {
    static let engine = FunctionLibrary(scripts: FunctionLibrary.engineScripts)

    @Test func theCodeRegistersEveryScriptAsAFunctionUnderTheLibraryHeader() {
        let code = Self.engine.code
        #expect(code.hasPrefix("#!lua name=hoopoe\n"))
        #expect(code.contains("redis.register_function('hoopoe_enqueue', function(KEYS, ARGV)\n\(JobStore.enqueueScript.source)"))
        #expect(Self.engine.functionNames == ["hoopoe_enqueue", "hoopoe_library_version"])
        #expect(code.hasSuffix("callback=function() return '\(Self.engine.version)' end, flags={'no-writes'}}\n"))
        let other = FunctionLibrary(scripts: [RedisScript(name: "enqueue", source: JobStore.enqueueScript.source + "\n-- changed")])
        #expect(other.version != Self.engine.version, "a changed script is another version")
    }

    @Test func loadsOnceChecksCheaplyAndReplacesAnotherVersion() async throws {
        let server = try RedisServer()
        let redis = try RedisClient(url: server.url)
        defer { redis.close() }
        let loader = FunctionLibraryLoader(library: Self.engine, redis: redis)
        #expect(try await loader.loaded() == .absent)
        #expect(try await loader.ensure() == .loaded(over: .absent))
        #expect(try await loader.ensure() == .alreadyLoaded)
        #expect(try await redis.send("FCALL_RO", "hoopoe_library_version", "0").string == Self.engine.version)

        // Another release's library (here: a changed script) is replaced, and that one then replaces this one back.
        let older = FunctionLibraryLoader(library: FunctionLibrary(scripts: [RedisScript(name: "enqueue", source: "return {'old', ARGV[2]}")]), redis: redis)
        #expect(try await older.ensure() == .loaded(over: .other(version: Self.engine.version)))
        #expect(try await loader.ensure() == .loaded(over: .other(version: older.library.version)))

        // FUNCTION FLUSH (or a restart without persistence) forgets it: absent again.
        try await redis.send("FUNCTION", "FLUSH")
        #expect(try await loader.loaded() == .absent)
    }

    @Test func theKeeperLoadsAtStartAndAgainAfterARestartWithoutPersistence() async throws {
        let server = try RedisServer()
        let redis = try RedisClient(url: server.url)
        defer { redis.close() }
        let loader = FunctionLibraryLoader(library: Self.engine, redis: redis)
        let keeper = FunctionLibraryKeeper(loader: loader, logger: Logger(label: "test"), interval: .milliseconds(200))
        let running = Task { await keeper.run() }
        defer { running.cancel() }
        #expect(try await eventually { try await loader.loaded() == .current })
        server.kill()
        try server.start()
        #expect(try await eventually(timeout: .seconds(15)) { (try? await loader.loaded()) == .current }, "loaded again after the restart")
    }

    @Test func aUserWithoutFcallIsToldWhichCommandItLacks() async throws {
        let server = try RedisServer()
        let admin = try RedisClient(url: server.url)
        defer { admin.close() }
        try await admin.send(RedisCommand("ACL", ["SETUSER", "narrow", "on", ">pw", "~*", "-@all", "+ping"]))
        let narrow = try RedisClient(url: "redis://narrow:pw@127.0.0.1:\(server.port)/0")
        defer { narrow.close() }
        await #expect(throws: RedisError.self) { try await FunctionLibraryLoader(library: Self.engine, redis: narrow).ensure() }
        do {
            try await FunctionLibraryLoader(library: Self.engine, redis: narrow).ensure()
        } catch let error as RedisError {
            #expect(error.code == .permissionDenied && error.operatorLine.contains("FCALL_RO"), "\(error.operatorLine)")
        }
    }

    @Test func aRedisWithoutFunctionsIsNamedAsTooOld() {
        // Redis 6.2 answers FCALL_RO so; no 6.2 server is installed here to ask.
        let error = RedisError.reply("ERR unknown command `FCALL_RO`, with args beginning with: `hoopoe_library_version` `0` ", endpoint: "h:6379", command: "FCALL_RO")
        let classified = FunctionLibraryError.classify(error, endpoint: "h:6379")
        #expect(classified as? FunctionLibraryError == .noFunctions(endpoint: "h:6379"))
        #expect("\(classified)".contains("needs Redis 7.0 or later"))
        let other = RedisError.reply("ERR something else", endpoint: "h:6379", command: "FCALL_RO")
        #expect(FunctionLibraryError.classify(other, endpoint: "h:6379") is RedisError)
    }

    /// jobs/conformance/enqueue.json's script cases: `FCALL hoopoe_enqueue` answers and writes what `EVALSHA` of the
    /// same script does, each in a namespace of its own.
    @Test func fcallOfEnqueueMatchesEvalshaForEveryConformanceCase() async throws {
        let server = try RedisServer()
        let redis = try RedisClient(url: server.url)
        defer { redis.close() }
        try await FunctionLibraryLoader(library: Self.engine, redis: redis).ensure()
        let cases = try ConformanceTests.vectors("enqueue.json")["script"]?.arrayValue ?? []
        #expect(cases.count >= 9)
        var failures: [String] = []
        for (index, item) in cases.enumerated() {
            let name = item["name"]?.stringValue ?? "?"
            let now = Date().timeIntervalSince1970
            var outcomes: [[String]] = []
            for way in ["eval", "fcall"] {
                let namespace = "fl\(index)-\(way)"
                let keys = (item["keys"]?.arrayValue ?? []).compactMap(\.stringValue).map { $0.replacingOccurrences(of: "{ns}", with: namespace) }
                var seen: [String] = []
                for argv in [item["argv"], item["then"]?["argv"]].compactMap({ $0?.arrayValue }) {
                    let arguments = argv.compactMap(\.stringValue).map { Self.substitute($0, now: now) }
                    seen.append(try await Self.call(way, keys: keys, arguments: arguments, redis: redis))
                }
                seen += try await Self.state(of: keys, redis: redis).map { $0.replacingOccurrences(of: namespace, with: "{ns}") }
                outcomes.append(seen)
            }
            if outcomes[0] != outcomes[1] { failures.append("\(name):\n  EVALSHA \(outcomes[0])\n  FCALL   \(outcomes[1])") }
            if let want = item["reply"]?.arrayValue?.compactMap(\.stringValue), outcomes[1].first != want.joined(separator: " ") {
                failures.append("\(name): FCALL answered \(outcomes[1].first ?? "?"), the vectors say \(want)")
            }
            if let want = item["error_contains"]?.stringValue, outcomes[1].first?.contains(want) != true {
                failures.append("\(name): FCALL answered \(outcomes[1].first ?? "?"), want an error containing \(want)")
            }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    /// One call, its reply as words, or its error's message.
    static func call(_ way: String, keys: [String], arguments: [String], redis: RedisClient) async throws -> String {
        do {
            let reply: RedisReply
            if way == "eval" {
                reply = try await redis.run(JobStore.enqueueScript, keys: keys, arguments: arguments)
            } else {
                var command = RedisCommand("FCALL", "hoopoe_enqueue", String(keys.count))
                command.append(contentsOf: keys + arguments)
                reply = try await redis.send(command)
            }
            return (reply.array ?? []).map { $0.string ?? "?" }.joined(separator: " ")
        } catch let error as RedisError {
            return "error: \(error.message)"
        }
    }

    /// What the keys hold, comparable across two namespaces (a TTL rounded to tens of seconds).
    static func state(of keys: [String], redis: RedisClient) async throws -> [String] {
        var lines: [String] = []
        for key in keys {
            switch try await redis.send("TYPE", key).string ?? "none" {
            case "stream":
                let entries = try await redis.send("XRANGE", key, "-", "+").array ?? []
                lines += entries.map { "\(key) entry \(($0.array?.last?.array ?? []).map { $0.string ?? "?" })" }
            case "zset": lines.append("\(key) \((try await redis.send("ZRANGE", key, "0", "-1", "WITHSCORES").array ?? []).map { $0.string ?? "?" })")
            case "hash": lines.append("\(key) \((try await redis.send("HGETALL", key).array ?? []).map { $0.string ?? "?" })")
            case "string":
                // Rounded to the nearest 10 s: the two runs read a 90 s TTL up to a few seconds apart (truncating, 90 and
                // 89 fell on either side of a bucket and failed the comparison on a loaded machine).
                let ttl = try await redis.send("TTL", key).int ?? -2
                let rounded = ttl < 0 ? ttl : (ttl + 5) / 10 * 10
                lines.append("\(key) = \(try await redis.send("GET", key).string ?? "?") ttl ~\(rounded)")
            case let type: lines.append("\(key) \(type)")
            }
        }
        return lines
    }

    /// The vectors' placeholders: `$now+N` (seconds from now) and `$sized:N` (an envelope of N bytes).
    static func substitute(_ value: String, now: Double) -> String {
        if value.hasPrefix("$sized:"), let total = Int(value.dropFirst(7)) {
            let prefix = #"{"id":"s-huge","type":"diag.record","payload":{"key":""#
            let suffix = #""}}"#
            return prefix + String(repeating: "x", count: total - prefix.utf8.count - suffix.utf8.count) + suffix
        }
        var text = value
        while let marker = text.range(of: "$now+") {
            let digits = text[marker.upperBound...].prefix(while: \.isNumber)
            let end = text.index(marker.upperBound, offsetBy: digits.count)
            text.replaceSubrange(marker.lowerBound..<end, with: String(format: "%.6f", now + (Double(digits) ?? 0)))
        }
        return text
    }
}
