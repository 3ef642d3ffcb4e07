import Foundation
import HoopoeCore
import Redis
import TestSupport
import Testing

/// `hoopoe functions load|show`, and the library hoopoe composes: the domain's public scripts answer through
/// `FCALL` exactly as `EVAL` of their documented files (jobs/lua/) does. Each test has a redis-server of its own:
/// functions belong to the whole server, so loading or deleting them must not touch other tests.
@Suite struct FunctionsCommandTests {
    static func run(_ arguments: [String], _ server: RedisServer) async throws -> (status: Int32, output: String) {
        let process = try ChildProcess(BuiltProducts.hoopoe, arguments, environment: ["REDIS_URL": server.url, "LOG_LEVEL": "info"])
        return (await process.wait(timeout: .seconds(20)) ?? -1, process.output)
    }

    @Test func loadLoadsOnceAndShowPrintsWhatItLoads() async throws {
        let server = try RedisServer()
        let redis = try RedisClient(url: server.url)
        defer { redis.close() }
        let first = try await Self.run(["functions", "load"], server)
        #expect(first.status == 0 && first.output.contains(" loaded on "), "\(first.output)")
        #expect(first.output.contains("hoopoe_enqueue, hoopoe_freecredit, hoopoe_gift_wheel, hoopoe_library_version"), "\(first.output)")
        let version = try await redis.send("FCALL_RO", "hoopoe_library_version", "0").string ?? "?"
        #expect(first.output.contains("hoopoe function library \(version) loaded"), "\(first.output)")
        let again = try await Self.run(["functions", "load"], server)
        #expect(again.status == 0 && again.output.contains("\(version) already loaded"), "\(again.output)")

        let shown = try await Self.run(["functions", "show"], server)
        #expect(shown.status == 0 && shown.output.hasPrefix("#!lua name=hoopoe\n"))
        let loaded = try await redis.send("FUNCTION", "LIST", "LIBRARYNAME", "hoopoe", "WITHCODE").array?.first?.array ?? []
        let code = zip(loaded, loaded.dropFirst()).first { $0.0.string == "library_code" }?.1.string
        #expect(code == shown.output, "show prints the code load sends")
    }

    @Test func aWorkerLoadsItAtStartAndAgainAfterAFlush() async throws {
        let server = try RedisServer()
        let redis = try RedisClient(url: server.url)
        defer { redis.close() }
        let worker = try ChildProcess(BuiltProducts.hoopoe, ["worker", "--queues", "default"], environment: ["REDIS_URL": server.url, "LOG_LEVEL": "info"])
        defer { worker.signal(SIGKILL) }
        let loaded: () async -> Bool = { (try? await redis.send("FCALL_RO", "hoopoe_library_version", "0").string?.count) == 40 }
        #expect(try await eventually(timeout: .seconds(15)) { await loaded() }, "\(worker.output)")
        try await redis.send("FUNCTION", "FLUSH")
        #expect(try await eventually(timeout: .seconds(25)) { await loaded() }, "loaded again at the next 15 s check: \(worker.output)")
        worker.signal(SIGTERM)
        #expect(await worker.wait(timeout: .seconds(30)) == 0, "\(worker.output)")
        #expect(worker.output.contains("loaded the hoopoe function library"), "\(worker.output)")
    }

    /// On a Redis without functions (6.2, or here 7.0 with them renamed away) the worker and the scheduler warn once
    /// and run: they use EVALSHA, and only services' FCALL needs the library (decision 0022). The library's keeper
    /// stopping made its service group end them: exit 1 a second after start, and a restart loop under a supervisor.
    @Test func aRedisWithoutFunctionsRunsTheWorkerAndTheScheduler() async throws {
        let server = try RedisServer(arguments: ["--rename-command", "FCALL_RO", "", "--rename-command", "FUNCTION", "", "--rename-command", "FCALL", ""])
        let redis = try RedisClient(url: server.url)
        defer { redis.close() }
        let namespace = "nofunctions"
        let schedule = try TemporaryFiles.write("""
            tasks:
              - {name: every.second, cron: "* * * * * *", type: diag.record, payload: {key: "\(namespace):ticks", member: "t"}}

            """, prefix: "hoopoe-schedule-", suffix: ".yaml")
        defer { try? FileManager.default.removeItem(atPath: schedule) }
        let environment = ["REDIS_URL": server.url, "HOOPOE_NAMESPACE": namespace, "LOG_LEVEL": "info"]
        let worker = try ChildProcess(BuiltProducts.hoopoe, ["worker", "--queues", "default"], environment: environment)
        defer { worker.signal(SIGKILL) }
        let scheduler = try ChildProcess(BuiltProducts.hoopoe, ["scheduler", "--schedule", schedule], environment: environment)
        defer { scheduler.signal(SIGKILL) }
        // The scheduler's ticks reach the worker, which runs them: for longer than the keeper took to end both.
        #expect(try await eventually(timeout: .seconds(20)) { try await redis.send("SCARD", "\(namespace):ticks").int == 1 }, "\(worker.output)\n\(scheduler.output)")
        try await Task.sleep(for: .seconds(3))
        #expect(worker.poll() == nil && scheduler.poll() == nil, "both still run: \(worker.output)\n\(scheduler.output)")
        try await redis.send("DEL", "\(namespace):ticks")
        #expect(try await eventually(timeout: .seconds(10)) { try await redis.send("SCARD", "\(namespace):ticks").int == 1 }, "ticks still run")
        for process in [worker, scheduler] {
            #expect(process.output.contains("has no functions"), "warned once: \(process.output)")
            process.signal(SIGTERM)
            #expect(await process.wait(timeout: .seconds(30)) == 0, "\(process.output)")
        }
    }

    @Test func anUnreachableRedisExits2AndARefusedCommandIsNamed() async throws {
        let server = try RedisServer()
        let admin = try RedisClient(url: server.url)
        defer { admin.close() }
        try await admin.send(RedisCommand("ACL", ["SETUSER", "narrow", "on", ">pw", "~*", "-@all", "+ping", "+fcall_ro"]))
        let narrow = try ChildProcess(BuiltProducts.hoopoe, ["functions", "load"], environment: ["REDIS_URL": "redis://narrow:pw@127.0.0.1:\(server.port)/0"])
        #expect(await narrow.wait(timeout: .seconds(20)) == 1)
        #expect(narrow.output.contains("refused FUNCTION") && narrow.output.contains("ACL"), "\(narrow.output)")
        server.stop()
        let gone = try await Self.run(["functions", "load"], server)
        #expect(gone.status == 2, "\(gone.output)")
    }

    /// The domain's functions against their documented files: the same calls, in two namespaces, give the same
    /// replies (a grant, a cooldown refusal, a replay; a check, a record, a duplicate, the daily limit).
    @Test func domainFunctionsAnswerAsTheirScriptsDo() async throws {
        let server = try RedisServer()
        let redis = try RedisClient(url: server.url)
        defer { redis.close() }
        #expect(try await Self.run(["functions", "load"], server).status == 0)
        let lua = BuiltProducts.projectRoot.appendingPathComponent("jobs/lua")
        let now = 1_795_400_000.0
        let freecredit: [(keys: (String) -> [String], arguments: [String])] = [
            ({ ["\($0):{freecredit}:last:u1", "\($0):{freecredit}:month:u1:1404-05", "\($0):{freecredit}:result:r1", "\($0):{freecredit}:notify:r1"] },
             ["\(now)", "120", "3", "\(now + 86_400 * 10)", "93", "u1", "r1", "604800", "3600"]),
            ({ ["\($0):{freecredit}:last:u1", "\($0):{freecredit}:month:u1:1404-05", "\($0):{freecredit}:result:r2", "\($0):{freecredit}:notify:r2"] },
             ["\(now + 10)", "120", "3", "\(now + 86_400 * 10)", "93", "u1", "r2", "604800", "3600"]),
            ({ ["\($0):{freecredit}:last:u1", "\($0):{freecredit}:month:u1:1404-05", "\($0):{freecredit}:result:r1", "\($0):{freecredit}:notify:r1"] },
             ["\(now + 20)", "120", "3", "\(now + 86_400 * 10)", "93", "u1", "r1", "604800", "3600"]),
        ]
        let wheelArguments = { (gift: String, at: Double) in ["\(at)", "\(at - 86_400)", "", "\(now - 86_400 * 5)", "\(now + 86_400 * 25)", "1", "5", gift, "3000000"] }
        let wheel: [(keys: (String) -> [String], arguments: [String])] = [
            ({ ["\($0):{gifts}:wheel:u1"] }, wheelArguments("", now)),
            ({ ["\($0):{gifts}:wheel:u1"] }, wheelArguments("g1", now)),
            ({ ["\($0):{gifts}:wheel:u1"] }, wheelArguments("g1", now + 5)),
            ({ ["\($0):{gifts}:wheel:u1"] }, wheelArguments("g2", now + 10)),
        ]
        for (name, calls) in [("freecredit", freecredit), ("gift_wheel", wheel)] {
            let source = try String(contentsOf: lua.appendingPathComponent("\(name).lua"), encoding: .utf8)
            var byEval: [String] = []
            var byFcall: [String] = []
            for call in calls {
                var eval = RedisCommand("EVAL", source, String(call.keys("ev").count))
                eval.append(contentsOf: call.keys("ev") + call.arguments)
                byEval.append(Self.words(try await redis.send(eval)))
                var fcall = RedisCommand("FCALL", "hoopoe_\(name)", String(call.keys("fc").count))
                fcall.append(contentsOf: call.keys("fc") + call.arguments)
                byFcall.append(Self.words(try await redis.send(fcall)))
            }
            #expect(byFcall == byEval, "\(name)")
            #expect(Set(byFcall).count == calls.count, "\(name): each call answered differently: \(byFcall)")
        }
    }

    /// jobs/PROTOCOL.md's `FCALL hoopoe_enqueue` line, as written, answers what the page says: `enqueued` and the
    /// id, then `duplicate` and that id; the job it wrote is one a worker reads.
    @Test func theProtocolPagesFcallExampleAnswersAsItSays() async throws {
        let page = try String(contentsOf: BuiltProducts.projectRoot.appendingPathComponent("jobs/PROTOCOL.md"), encoding: .utf8)
        let line = try #require(page.split(separator: "\n").first { $0.hasPrefix("FCALL hoopoe_enqueue 5 hoopoe:") })
        let words = Self.shellWords(String(line))
        #expect(words.count == 14, "\(words)")
        let server = try RedisServer()
        let redis = try RedisClient(url: server.url)
        defer { redis.close() }
        #expect(try await Self.run(["functions", "load"], server).status == 0)
        let id = words[9]
        #expect(Self.words(try await redis.send(RedisCommand(words[0], Array(words.dropFirst())))) == "enqueued \(id)")
        #expect(Self.words(try await redis.send(RedisCommand(words[0], Array(words.dropFirst())))) == "duplicate \(id)")
        let entry = try await redis.send("XRANGE", "hoopoe:{default}:stream", "-", "+").array?.first?.array?.last?.array
        let envelope = try JobEnvelope.decode(Array((entry?.last?.string ?? "").utf8))
        #expect(envelope.id == id && envelope.type == "diag.record" && envelope.uniqueKey == "report-176")
    }

    /// A command line's words: spaces separate, single quotes keep a word whole ('' is an empty word).
    static func shellWords(_ line: String) -> [String] {
        var words: [String] = []
        var word = ""
        var quoted = false
        var started = false
        for character in line {
            if character == "'" {
                quoted.toggle()
                started = true
            } else if character == " " && !quoted {
                if started { words.append(word) }
                word = ""
                started = false
            } else {
                word.append(character)
                started = true
            }
        }
        if started { words.append(word) }
        return words
    }

    static func words(_ reply: RedisReply) -> String {
        (reply.array ?? [reply]).map { $0.string ?? $0.int.map(String.init) ?? "?" }.joined(separator: " ")
    }
}
