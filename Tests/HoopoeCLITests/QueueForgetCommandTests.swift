import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// `hoopoe queue forget NAME`, as an operator runs it: a retired queue gone from `hoopoe queues`; refused, exit 3, while
/// it holds jobs (saying which and what to run) or a live worker serves it; `--force` deletes the jobs and prints how many.
struct QueueForgetCommandTests {
    /// The queue names `hoopoe queues --json` lists.
    private static func listed(_ h: CLIHarness) async throws -> [String] {
        let (status, json) = try await h.json(["queues", "--json"])
        #expect(status == 0)
        return (json["queues"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
    }

    /// Every key of `queue` (`<ns>:{<queue>}:…`).
    private static func keys(of queue: String, _ h: CLIHarness) async throws -> [String] {
        let pattern = GlobPattern.literal("\(h.namespace):{\(queue)}:") + "*"
        return (try await h.redis.send("KEYS", pattern).array ?? []).compactMap(\.string)
    }

    @Test func aRetiredQueueIsForgottenAndNoLongerListed() async throws {
        let h = try CLIHarness()
        let k = h.jobs.keys("old-mail")
        _ = try await h.redis.pipeline([
            RedisCommand("XGROUP", "CREATE", k.stream, QueueKeys.group, "0", "MKSTREAM"), RedisCommand("SADD", h.jobs.global.queues, "old-mail"),
            RedisCommand("HSET", k.stats(day: "2025-01-01"), "processed:sms.send", "12"),
        ])
        _ = try await h.jobs.pause(queue: "old-mail")
        try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "mail"))
        #expect(try await Self.listed(h) == ["mail", "old-mail"])

        let (status, output) = try await h.run(["queue", "forget", "old-mail"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("forgot queue old-mail: 2 key(s) removed"), "\(output)")
        #expect(!output.contains("deleted with it"), "\(output)")
        #expect(try await Self.listed(h) == ["mail"])
        #expect(try await Self.keys(of: "old-mail", h).isEmpty)
        #expect(try await h.jobs.pausedQueues().isEmpty)
        #expect(try await h.jobs.info(queue: "mail").ready == 1)
    }

    /// Each kind of job refuses it (exit 3), naming how many and the command for it, and nothing goes; `--force`
    /// deletes them with it and prints their numbers.
    @Test func jobsRefuseItUntilForcedAndForceCountsThem() async throws {
        let h = try CLIHarness()
        let k = h.jobs.keys("held")
        try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "held"))
        try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "held"))
        _ = try await h.redis.send("XGROUP", "CREATE", k.stream, QueueKeys.group, "0", "MKSTREAM")
        _ = try await h.redis.send("XREADGROUP", "GROUP", QueueKeys.group, "gone", "COUNT", "1", "STREAMS", k.stream, ">")
        try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "held", runAt: Date().addingTimeInterval(3600)))
        try await h.seedDead(id: "dead-1", queue: "held", type: "diag.record", payload: .object([:]), reason: "boom")
        let keys = try await Self.keys(of: "held", h).sorted()

        let (status, output) = try await h.run(["queue", "forget", "held"])
        #expect(status == 3, "\(output)")
        #expect(output.contains("queue held holds 1 ready, 1 in flight, 1 scheduled, 1 dead job(s); nothing was forgotten"), "\(output)")
        for advice in ["hoopoe queue clear held --scheduled --yes", "a worker serving held recovers and runs them", "hoopoe dead delete ID", "--force"] {
            #expect(output.contains(advice), "\(advice): \(output)")
        }
        #expect(try await Self.keys(of: "held", h).sorted() == keys)
        #expect(try await Self.listed(h) == ["held"])

        let (forced, forcedOutput) = try await h.run(["queue", "forget", "held", "--force"])
        #expect(forced == 0, "\(forcedOutput)")
        #expect(forcedOutput.contains("forgot queue held: \(keys.count) key(s) removed"), "\(forcedOutput)")
        #expect(forcedOutput.contains("deleted with it: 1 ready, 1 in flight, 1 scheduled, 1 dead job(s)"), "\(forcedOutput)")
        #expect(try await Self.keys(of: "held", h).isEmpty)
        #expect(try await Self.listed(h).isEmpty)
    }

    /// Dead jobs alone: the message is about them, not about clearing.
    @Test func deadJobsAloneAreNamedWithTheirCommand() async throws {
        let h = try CLIHarness()
        try await h.seedDead(id: "dead-1", queue: "graveyard", type: "diag.record", payload: .object([:]), reason: "boom")
        let (status, output) = try await h.run(["queue", "forget", "graveyard"])
        #expect(status == 3, "\(output)")
        #expect(output.contains("holds 1 dead job(s)") && output.contains("hoopoe dead list --queue graveyard"), "\(output)")
        #expect(!output.contains("queue clear"), "\(output)")
    }

    /// A live worker serving it refuses it, `--force` too, naming the worker.
    @Test func aLiveWorkerRefusesItEvenWithForce() async throws {
        let h = try CLIHarness()
        _ = try await h.redis.send("XGROUP", "CREATE", h.jobs.keys("busy").stream, QueueKeys.group, "0", "MKSTREAM")
        try await Heartbeat(kind: "worker", id: "w-busy", jobs: h.jobs) { ["queues": "busy"] }.beat()
        for arguments in [["queue", "forget", "busy"], ["queue", "forget", "busy", "--force"]] {
            let (status, output) = try await h.run(arguments)
            #expect(status == 3, "\(output)")
            #expect(output.contains("queue busy is served by 1 live worker(s): w-busy (host "), "\(output)")
            #expect(output.contains("nothing was forgotten") && output.contains("Stop them"), "\(output)")
        }
        #expect(try await Self.listed(h) == ["busy"])
    }

    /// A queue Redis has nothing of is exit 1 naming the known ones; a name no queue can have is a usage error; a name
    /// only a service's XADD could make (`a*b`) is forgotten, and `aXb`, which it matches as a pattern, kept.
    @Test func unknownNamesAndGlobNames() async throws {
        let h = try CLIHarness()
        for queue in ["a*b", "aXb"] {
            _ = try await h.redis.send("XGROUP", "CREATE", h.jobs.keys(queue).stream, QueueKeys.group, "0", "MKSTREAM")
        }
        let (missing, missingOutput) = try await h.run(["queue", "forget", "nope"])
        #expect(missing == 1 && missingOutput.contains("no queue named nope (known queues: a*b, aXb)"), "\(missingOutput)")
        let (bad, badOutput) = try await h.run(["queue", "forget", "x}y"])
        #expect(bad == 64 && badOutput.contains("the queue name must not contain '}'"), "\(badOutput)")
        let (glob, globOutput) = try await h.run(["queue", "forget", "a*b"])
        #expect(glob == 0 && globOutput.contains("forgot queue a*b: 1 key(s) removed"), "\(globOutput)")
        #expect(try await Self.listed(h) == ["aXb"])
    }

    /// `--help` says what goes (job history too) and what refuses it.
    @Test func helpSaysWhatGoesAndWhatRefusesIt() async throws {
        let h = try CLIHarness()
        let (status, help) = try await h.run(["queue", "forget", "--help"])
        #expect(status == 0)
        let flat = help.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for phrase in ["its job history and counters too, for good", "Refused while a live worker serves the queue", "--force", "Exit 0 forgotten"] {
            #expect(flat.contains(phrase), "\(phrase): \(help)")
        }
        let (_, queueHelp) = try await h.run(["queue", "--help"])
        #expect(queueHelp.contains("forget"), "\(queueHelp)")
    }
}
