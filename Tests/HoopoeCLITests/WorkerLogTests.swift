import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// The worker's log lines: one per job start, finish and failure, with id, type, queue, attempt and
/// duration; `LOG_FORMAT=json` gives one JSON object a line; phone numbers never appear whole.
@Suite struct WorkerLogTests {
    /// Dead jobs whose invalid type is 60 KB were logged with it whole: 60 KB lines, which the worker's threads wrote
    /// into stderr at once, spliced into each other past a pipe's atomic 4 KiB (a review saw 2 of 308 lines broken), and
    /// which Docker and CRI split at 16 KB. Each value is cut (after masking), and every line is whole JSON.
    @Test func aLineIsBoundedAndWholeWhenManyJobsFailAtOnce() async throws {
        let h = try CLIHarness()
        let stream = h.jobs.keys("default").stream
        let type = String(repeating: "t", count: 60_000)
        for n in 0..<40 {
            try await h.redis.send("XADD", stream, "*", "job", #"{"id":"big-\#(n)","type":"\#(type)","payload":{"phone":"09121234567"}}"#)
        }
        let worker = try ChildProcess(BuiltProducts.hoopoe, ["worker", "--concurrency", "20"], environment: [
            "REDIS_URL": try TestRedis.url(), "HOOPOE_NAMESPACE": h.namespace, "LOG_LEVEL": "info", "LOG_FORMAT": "json",
        ])
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").dead == 40 }, "\(worker.output.suffix(2000))")
        worker.signal(SIGTERM)
        #expect(await worker.wait(timeout: .seconds(10)) == 0)
        let lines = worker.output.split(separator: "\n").map(String.init)
        #expect(lines.count >= 40)
        #expect(lines.allSatisfy { JSONValue.parse(Array($0.utf8)) != nil }, "every line is JSON")
        #expect(lines.allSatisfy { $0.utf8.count < 16_384 }, "longest line \(lines.map(\.utf8.count).max() ?? 0) bytes")
        #expect(worker.output.contains("(60000 characters)"), "a cut value says how long it was")
    }

    @Test func jsonLinesPerJobWithPhoneNumbersMasked() async throws {
        let h = try CLIHarness()
        let stream = h.jobs.keys("default").stream
        // An id that carries a phone number, as some services build them (an id allows no `+`): it is logged with every line.
        try await h.redis.send("XADD", stream, "*", "job", #"{"id":"sms-989121234567","type":"diag.record","payload":{"key":"\#(h.namespace):k","member":"m"}}"#)
        try await h.redis.send("XADD", stream, "*", "job", #"{"id":"j-unknown","type":"no.such.type","payload":{}}"#)
        let worker = try ChildProcess(BuiltProducts.hoopoe, ["worker"], environment: [
            "REDIS_URL": try TestRedis.url(), "HOOPOE_NAMESPACE": h.namespace, "LOG_LEVEL": "info", "LOG_FORMAT": "json",
        ])
        #expect(try await h.eventually {
            let dead = try await h.jobs.info(queue: "default").dead
            let ran = try await h.redis.send("SISMEMBER", "\(h.namespace):k", "m").int
            return dead == 1 && ran == 1
        })
        worker.signal(SIGTERM)
        #expect(await worker.wait(timeout: .seconds(10)) == 0)

        let lines = worker.output.split(separator: "\n").map(String.init)
        let objects = lines.compactMap { JSONValue.parse(Array($0.utf8)) }
        #expect(objects.count == lines.count, "every line is JSON: \(lines.filter { JSONValue.parse(Array($0.utf8)) == nil })")
        #expect(!worker.output.contains("989121234567"), "the phone number is masked: \(worker.output)")
        func line(_ message: String) -> JSONValue? { objects.first { $0["message"] == .string(message) } }
        let started = try #require(line("job started"))
        let done = try #require(line("job done"))
        for object in [started, done] {
            #expect(object["job.type"] == .string("diag.record") && object["queue"] == .string("default") && object["job.attempt"] == .string("1"))
            #expect(object["job.id"] == .string("sms-98912****567"))
        }
        #expect(done["duration"] != nil)
        let dead = try #require(objects.first { ($0["message"].flatMap { if case .string(let s) = $0 { s } else { nil } } ?? "").contains("dead set") })
        #expect(dead["job.id"] == .string("j-unknown") && dead["level"] == .string("error"))
    }

    /// A job's type is whatever its writer put there: one holding a newline and a terminal escape sequence is logged
    /// on one line in text, and `dead list` and `dead show` print it escaped, so it can neither forge a log line nor
    /// drive the operator's terminal.
    @Test func controlCharactersFromRedisArePrintedEscaped() async throws {
        let h = try CLIHarness()
        try await h.redis.send(
            "XADD", h.jobs.keys("default").stream, "*", "job",
            #"{"id":"j-ctl","type":"no.such\u001b]0;owned\u0007\nforged line","payload":{}}"#)
        let worker = try ChildProcess(BuiltProducts.hoopoe, ["worker"], environment: [
            "REDIS_URL": try TestRedis.url(), "HOOPOE_NAMESPACE": h.namespace, "LOG_LEVEL": "info",
        ])
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").dead == 1 })
        worker.signal(SIGTERM)
        #expect(await worker.wait(timeout: .seconds(10)) == 0)

        let dead = try #require(worker.output.split(separator: "\n").first { $0.contains("dead set") })
        #expect(dead.contains(#"job.type=no.such\u{1B}]0;owned\u{7}\nforged line"#), "\(dead)")
        #expect(!worker.output.contains("\u{1B}") && !worker.output.contains("\nforged"), "\(worker.output)")
        let (listStatus, list) = try await h.run(["dead", "list"])
        #expect(listStatus == 0 && list.contains(#"no.such\u{1B}]0;owned\u{7}\nforged line"#), "\(list)")
        let (showStatus, show) = try await h.run(["dead", "show", "j-ctl"])
        #expect(showStatus == 0 && show.contains(#"type:        no.such\u{1B}]0;owned\u{7}\nforged line"#), "\(show)")
        for output in [list, show] {
            #expect(!output.contains("\u{1B}") && !output.contains("\u{7}") && !output.contains("\nforged"), "\(output)")
        }
    }
}
