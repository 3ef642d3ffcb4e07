import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// `hoopoe enqueue` whose outcome is not known names the job: exit 4 (the answer lost) and exit 1 (too few replicas
/// confirmed it) said "the job may have been enqueued; check (hoopoe queues, hoopoe job show)" and printed no id, so
/// there was no job to look for. The id is made before sending, named on stderr, and `--id` sends it again.
@Suite struct EnqueueUnknownOutcomeTests {
    private static let payload = #"{"key":"k","member":"m"}"#

    /// The ids of the jobs in `queue`'s stream, in order.
    private static func streamIDs(_ redis: RedisClient, namespace: String, queue: String = "default") async throws -> [String] {
        let entries = try await redis.send("XRANGE", "\(namespace):{\(queue)}:stream", "-", "+").array ?? []
        return entries.compactMap { entry in
            let fields = entry.array?.last?.array ?? []
            guard let text = fields.last?.bytes, let envelope = JSONValue.parse(text) else { return nil }
            return envelope["id"]?.stringValue
        }
    }

    /// `hoopoe enqueue ARGUMENTS`, keeping stdout alone or stderr alone.
    private static func run(_ arguments: [String], keeping stream: String, environment: [String: String]) async throws -> (status: Int32, output: String) {
        let redirect = stream == "stdout" ? "2>/dev/null" : "2>&1 >/dev/null"
        let process = try ChildProcess("/bin/sh", ["-c", "exec \"$0\" \"$@\" \(redirect)", BuiltProducts.hoopoe, "enqueue"] + arguments, environment: environment)
        guard let status = await process.wait(timeout: .seconds(20)) else {
            process.signal(SIGKILL)
            throw TestSupportError("hoopoe enqueue did not finish: \(process.output)")
        }
        return (status, process.output)
    }

    /// The lost-answer tests' set-up: a private Redis, a client to it for looking, and a proxy in front of it that drops
    /// one reply, so `hoopoe enqueue` through the proxy writes its job and never hears so. ``close()`` when done.
    private struct LostAnswer {
        let h: CLIHarness
        let server: RedisServer
        let control: RedisClient
        let proxy: ReplyDroppingProxy

        /// The next reply to `command` that contains `text` is dropped.
        init(dropping command: String, containing text: String) throws {
            h = try CLIHarness()
            server = try RedisServer()
            control = try RedisClient(url: server.url)
            proxy = try ReplyDroppingProxy(to: server.port)
            proxy.dropNextReply(toCommand: command, containing: text)
        }

        /// `hoopoe enqueue ARGUMENTS` through the proxy (its answer lost, as set up), stdout and stderr together.
        func enqueueThroughProxy(_ arguments: [String]) async throws -> (status: Int32, output: String) {
            try await h.run(["enqueue"] + arguments + ["--redis-url", "redis://127.0.0.1:\(proxy.port)/0"])
        }

        /// `hoopoe enqueue ARGUMENTS` straight to the server, keeping stdout alone or stderr alone.
        func enqueueDirectly(_ arguments: [String], keeping stream: String) async throws -> (status: Int32, output: String) {
            try await EnqueueUnknownOutcomeTests.run(
                arguments, keeping: stream, environment: ["REDIS_URL": server.url, "HOOPOE_NAMESPACE": h.namespace, "LOG_LEVEL": "warning"])
        }

        /// The ids of the jobs in the default queue's stream, in order.
        func streamIDs() async throws -> [String] { try await EnqueueUnknownOutcomeTests.streamIDs(control, namespace: h.namespace) }

        func close() {
            proxy.close()
            control.close()
        }
    }

    /// A unique job whose answer was lost: exit 4 names the id it was written with, and sent again with `--id` it is
    /// that job (exit 0, its id on stdout), not a duplicate and not a second job.
    @Test func aLostAnswerNamesTheJobAndAUniqueJobSentAgainWithItsIDIsThatJob() async throws {
        // The script's reply (`enqueued`, id) lost on the way back.
        let f = try LostAnswer(dropping: "EVAL", containing: "enqueued")
        defer { f.close() }
        let unique = ["diag.record", "--payload", Self.payload, "--unique-key", "u7"]
        let lost = try await f.enqueueThroughProxy(unique)
        #expect(lost.status == 4, "\(lost.output)")
        let written = try await f.streamIDs()
        let id = try #require(written.first, "the job was written: \(lost.output)")
        #expect(lost.output.contains("job \(id) may have been enqueued"), "\(lost.output)")
        #expect(lost.output.contains("hoopoe job show \(id)") && lost.output.contains("send it again with --id \(id)"), "\(lost.output)")

        let again = try await f.enqueueDirectly(unique + ["--id", id], keeping: "stdout")
        #expect(again.status == 0 && again.output.trimmingCharacters(in: .whitespacesAndNewlines) == id, "the resend is that job: \(again.output)")
        #expect(try await f.streamIDs() == [id], "no second job")
        // Another id with the key is the duplicate it always was.
        let other = try await f.enqueueDirectly(unique, keeping: "stderr")
        #expect(other.status == 3 && other.output.contains("refused: job \(id) with unique key 'u7'"), "\(other.output)")
    }

    /// A plain job whose answer was lost: the id is named, and so is what a resend does (a second job). `--help`'s
    /// rule holds: sent again with its id, it is written twice.
    @Test func aLostAnswerNamesAPlainJobAndSaysAResendRunsItTwice() async throws {
        let f = try LostAnswer(dropping: "XADD", containing: "-")
        defer { f.close() }
        let lost = try await f.enqueueThroughProxy(["diag.record", "--payload", Self.payload])
        #expect(lost.status == 4, "\(lost.output)")
        let id = try #require(try await f.streamIDs().first, "\(lost.output)")
        #expect(lost.output.contains("job \(id) may have been enqueued") && lost.output.contains("a plain job that was written runs twice"), "\(lost.output)")

        let again = try await f.enqueueDirectly(["diag.record", "--payload", Self.payload, "--id", id], keeping: "stdout")
        #expect(again.status == 0 && again.output.trimmingCharacters(in: .whitespacesAndNewlines) == id, "\(again.output)")
        #expect(try await f.streamIDs() == [id, id], "two jobs with one id, as --help says")
        let help = try await f.h.run(["enqueue", "--help"]).output.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(help.contains("A plain job (no --unique-key) sent again is a second job with the same id, and both run"), "\(help)")
        #expect(help.contains("a --unique-key job still pending or running is that job, not a duplicate"), "\(help)")
    }

    /// With `REDIS_WAIT_REPLICAS` and no replica: exit 1, nothing on stdout (no id a script takes for success), and
    /// the job's id on stderr, the id it is on the primary with.
    @Test func tooFewReplicasNameTheJobOnStderrOnly() async throws {
        let h = try CLIHarness()
        let server = try RedisServer()
        let control = try RedisClient(url: server.url)
        defer { control.close() }
        let environment = [
            "REDIS_URL": server.url, "HOOPOE_NAMESPACE": h.namespace, "LOG_LEVEL": "warning", "REDIS_WAIT_REPLICAS": "1", "REDIS_WAIT_TIMEOUT_MS": "100",
        ]
        let stdout = try await Self.run(["diag.record", "--payload", Self.payload], keeping: "stdout", environment: environment)
        #expect(stdout.status == 1 && stdout.output.isEmpty, "nothing on stdout: \(stdout.output)")
        let stderr = try await Self.run(["diag.record", "--payload", Self.payload, "--unique-key", "w1"], keeping: "stderr", environment: environment)
        #expect(stderr.status == 1, "\(stderr.output)")
        let ids = try await Self.streamIDs(control, namespace: h.namespace)
        #expect(ids.count == 2, "both are on the primary: \(ids)")
        let second = try #require(ids.last)
        #expect(stderr.output.contains("0 of 1 replicas acknowledged") && stderr.output.contains("(job \(second))"), "\(stderr.output)")
        #expect(stderr.output.contains("send it again with --id \(second)"), "\(stderr.output)")
    }

    /// A write the server refuses (`min-replicas-to-write` unmet: the shipped Sentinel setting after a failover) ran
    /// nothing: exit 2 naming the server's error, as for an unreachable Redis, with `REDIS_WAIT_REPLICAS` too. It read
    /// "notReplicated: the write reached the primary" (exit 1) when the `WAIT` verdict was judged first (decision 0110).
    @Test func aRefusedWriteExits2NamingTheRefusal() async throws {
        let h = try CLIHarness()
        let server = try RedisServer()
        let control = try RedisClient(url: server.url)
        defer { control.close() }
        _ = try await control.send("CONFIG", "SET", "min-replicas-to-write", "1")
        for wait in ["0", "1"] {
            let environment = [
                "REDIS_URL": server.url, "HOOPOE_NAMESPACE": h.namespace, "LOG_LEVEL": "warning", "REDIS_WAIT_REPLICAS": wait, "REDIS_WAIT_TIMEOUT_MS": "100",
            ]
            for unique in [[], ["--unique-key", "w-\(wait)"]] {
                let result = try await Self.run(["diag.record", "--payload", Self.payload] + unique, keeping: "stderr", environment: environment)
                #expect(result.status == 2 && result.output.contains("NOREPLICAS"), "wait \(wait) \(unique): \(result.output)")
                #expect(!result.output.contains("reached the primary"), "\(result.output)")
            }
        }
        #expect(try await Self.streamIDs(control, namespace: h.namespace).isEmpty)
    }

    /// A `--id` no job can have is a usage error naming the option, before anything is written.
    @Test func anIDNoJobCanHaveIsRefused() async throws {
        let h = try CLIHarness()
        for (id, reason) in [("a b", "may only contain"), (String(repeating: "x", count: 129), "at most 128")] {
            let (status, output) = try await h.run(["enqueue", "diag.record", "--payload", Self.payload, "--id", id])
            #expect(status == 64 && output.contains("--id ") && output.contains(reason), "\(output)")
        }
        let (status, output) = try await h.run(["enqueue", "diag.record", "--payload", Self.payload, "--id", "order-17:retry.2"])
        #expect(status == 0 && output.split(separator: "\n").contains("order-17:retry.2"), "\(output)")
        #expect(try await h.jobs.find(id: "order-17:retry.2", queue: "default") != nil)
    }
}
