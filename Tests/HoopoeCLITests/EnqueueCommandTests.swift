import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// `hoopoe enqueue` checks a job's type and payload shape before writing anything, and its help's examples work.
@Suite struct EnqueueCommandTests {
    /// Nothing was written: no queue, ready or scheduled job in the test's namespace.
    private func nothingEnqueued(_ h: CLIHarness) async throws -> Bool {
        let info = try await h.jobs.info(queue: "default")
        return info.ready == 0 && info.scheduled == 0
    }

    @Test func theHelpExamplesWorkAsWritten() async throws {
        let h = try CLIHarness()
        let help = try await h.run(["enqueue", "--help"]).output
        // The example lines, a trailing `\` joining a line with the next, as a shell would.
        var examples: [String] = []
        var pending = ""
        for line in help.split(separator: "\n", omittingEmptySubsequences: false).map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard !pending.isEmpty || line.hasPrefix("hoopoe enqueue ") else { continue }
            if line.hasSuffix("\\") {
                pending += line.dropLast() + " "
            } else {
                examples.append(pending + line)
                pending = ""
            }
        }
        #expect(examples.count == 3, "\(help)")
        let binaries = URL(fileURLWithPath: BuiltProducts.hoopoe).deletingLastPathComponent().path
        func run(_ example: String) throws -> ChildProcess {
            try ChildProcess("/bin/sh", ["-c", "cd '\(BuiltProducts.projectRoot.path)' && \(example)"], environment: [
                "PATH": "\(binaries):/usr/bin:/bin", "REDIS_URL": try TestRedis.url(), "HOOPOE_NAMESPACE": h.namespace,
            ])
        }
        for example in examples {
            let sent = Date().timeIntervalSince1970
            let shell = try run(example)
            #expect(await shell.wait(timeout: .seconds(20)) == 0, "\(example): \(shell.output)")
            let id = shell.output.split(separator: "\n").last.map(String.init) ?? ""
            let type = example.split(separator: " ")[2]
            let found = try await h.jobs.find(id: id, queue: "default")
            #expect(found?.envelope.type == String(type), "\(example) enqueued \(id): \(shell.output)")
            // When it runs, as the example says: now, in ten minutes, at 09:00 Tehran time (05:30 UTC).
            switch found?.state {
            case .ready?: #expect(!example.contains("--in") && !example.contains("--at"), "\(example) is ready now")
            case .scheduled(let at)?:
                if example.contains("--in 10m") {
                    #expect(abs(at - (sent + 600)) < 30, "\(example) runs at \(at), sent at \(sent)")
                } else {
                    #expect(example.contains("--at 2030-12-31T09:00:00+03:30") && at == 1_924_925_400, "\(example) runs at \(at)")
                }
            default: Issue.record("\(example): \(String(describing: found?.state))")
            }
            if example.contains("--unique-key gift-7") {  // the same key again, while the first waits: refused, exit 3
                let again = try run(example)
                #expect(await again.wait(timeout: .seconds(20)) == 3 && again.output.contains("refused: job \(id)"), "\(again.output)")
            }
        }
    }

    /// `--in` takes each unit its help names (and milliseconds, as the other duration options do), scaled right.
    @Test func delaysAreScaledByTheirUnit() async throws {
        let h = try CLIHarness()
        for (delay, seconds) in [("1500ms", 1.5), ("90s", 90.0), ("10m", 600.0), ("2h", 7200.0), ("1d", 86_400.0), ("0.5h", 1800.0)] {
            let sent = Date().timeIntervalSince1970
            let (status, output) = try await h.run(["enqueue", "diag.record", "--payload", #"{"key":"k","member":"m"}"#, "--in", delay])
            #expect(status == 0, "\(delay): \(output)")
            let id = output.split(separator: "\n").last.map(String.init) ?? ""
            guard case .scheduled(let at)? = try await h.jobs.find(id: id, queue: "default")?.state else {
                Issue.record("--in \(delay): not scheduled: \(output)")
                continue
            }
            #expect(abs(at - (sent + seconds)) < 10, "--in \(delay) runs at \(at), sent at \(sent)")
        }
    }

    /// An enqueue whose answer never came: the job is written, so the command must not say "unreachable" (exit 2,
    /// which a caller retries, enqueuing the job twice). It exits 4, saying the job may be enqueued. A Redis asleep
    /// when the command connects is unreachable, and nothing is written (the connection's first round trip is a
    /// `PING`): exit 2 says so truly. And the URL's `timeout=` is kept: an operator who gives a slow Redis 10 s gets
    /// 10 s, not the admin commands' 2 s.
    ///
    /// The Redis that does not answer is paused (`CLIENT PAUSE … ALL`), the pause in force once its reply came, before
    /// the command starts. A `DEBUG SLEEP` sent alongside, with a fixed 300 ms head start, was not always asleep yet when
    /// the command's `PING` and `XADD` came (a loaded machine), and they went through.
    @Test func anEnqueueWithoutAnAnswerSaysTheJobMayBeEnqueued() async throws {
        let h = try CLIHarness()
        let server = try RedisServer()
        let control = try RedisClient(url: server.url + "?timeout=20")  // its wait for the pause's end outlasts the default 5 s
        defer { control.close() }
        let stream = "\(h.namespace):{default}:stream"
        let payload = #"{"key":"k","member":"m"}"#
        // The XADD's reply lost on the way back (the connection drops after Redis ran it).
        let proxy = try ReplyDroppingProxy(to: server.port)
        defer { proxy.close() }
        proxy.dropNextReply(toCommand: "XADD", containing: "-")
        let lost = try await h.run(["enqueue", "diag.record", "--payload", payload, "--redis-url", "redis://127.0.0.1:\(proxy.port)/0"])
        #expect(lost.status == 4 && lost.output.contains("may have been enqueued") && !lost.output.contains("unreachable"), "\(lost.output)")
        #expect(try await control.send("XLEN", stream).int == 1, "written")
        // Redis is paused 8 s against the default 2 s; 5 s against `timeout=10` (past the default 2 s even for a
        // command that starts 3 s late, and 5 s short of its own).
        for (url, pause, expected) in [(server.url, "8000", Int32(2)), (server.url + "?timeout=10", "5000", Int32(0))] {
            try await control.send("CLIENT", "PAUSE", pause, "ALL")
            let (status, output) = try await h.run(["enqueue", "diag.record", "--payload", payload, "--redis-url", url])
            _ = try await control.send("PING")  // the paused server answers (the control connection too) once the pause ends
            #expect(status == expected, "\(url): \(output)")
        }
        #expect(try await control.send("XLEN", stream).int == 2, "the unreachable one wrote nothing, the patient one its job")
    }

    /// Run from another directory (where `jobs/sms_templates.yaml` is not), the domain types are still known; with
    /// `SMS_TEMPLATES_FILE` set, that file is the one read, as the worker reads it.
    @Test func domainTypesAreKnownFromAnyWorkingDirectory() async throws {
        let h = try CLIHarness()
        let sample = BuiltProducts.projectRoot.appendingPathComponent("jobs/samples/gift.expire.json").path
        let templates = BuiltProducts.projectRoot.appendingPathComponent("jobs/sms_templates.yaml").path
        for extra in [[:], ["SMS_TEMPLATES_FILE": templates]] {
            let shell = try ChildProcess(
                "/bin/sh", ["-c", "cd / && exec \"$0\" \"$@\"", BuiltProducts.hoopoe, "enqueue", "gift.expire", "--payload", "@" + sample],
                environment: ["REDIS_URL": try TestRedis.url(), "HOOPOE_NAMESPACE": h.namespace].merging(extra) { $1 })
            #expect(await shell.wait(timeout: .seconds(20)) == 0, "\(extra): \(shell.output)")
            #expect(!shell.output.contains("unknown job type"), "\(shell.output)")
        }
        #expect(try await h.jobs.info(queue: "default").ready == 2)
    }

    @Test func anUnknownTypeIsRefusedWithTheClosestName() async throws {
        let h = try CLIHarness()
        let (status, output) = try await h.run(["enqueue", "sms.sned", "--payload", "{}"])
        #expect(status == 64, "\(output)")
        #expect(output.contains("unknown job type 'sms.sned'; did you mean sms.send?"), "\(output)")
        #expect(try await nothingEnqueued(h))
    }

    @Test func invalidJSONIsRefusedWithItsPosition() async throws {
        let h = try CLIHarness()
        let (status, output) = try await h.run(["enqueue", "diag.record", "--payload", "{\"key\": \"k\",\n \"member\": m}"])
        #expect(status == 64, "\(output)")
        #expect(output.contains("--payload is not valid JSON: line 2, column 12: expected a value, found `m`"), "\(output)")
        let trailing = try await h.run(["enqueue", "diag.record", "--payload", #"{"key": "k", "member": "m",}"#])
        #expect(trailing.status == 64 && trailing.output.contains("line 1, column 28: trailing comma"), "\(trailing.output)")
        #expect(try await nothingEnqueued(h))
    }

    /// A payload file that is not UTF-8 is refused, naming the first bad byte's offset: it was decoded with U+FFFD in
    /// place of each bad byte, and a payload the file did not hold was enqueued.
    @Test func aPayloadFileThatIsNotUTF8IsRefusedNamingTheByte() async throws {
        let h = try CLIHarness()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("hoopoe-latin1-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        // {"key": "k", "member": "Jos<E9>"}: "José" in Latin-1, its é the byte 0xE9 at offset 27.
        try Data(#"{"key": "k", "member": "Jos"#.utf8 + [0xE9] + #""}"#.utf8).write(to: file)
        let (status, output) = try await h.run(["enqueue", "diag.record", "--payload", "@" + file.path])
        #expect(status == 64, "\(output)")
        #expect(output.contains("is not UTF-8: the byte at offset 27 (counting from 0), 0xE9"), "\(output)")
        #expect(try await nothingEnqueued(h))
    }

    @Test func aPayloadThatDoesNotFitNamesTheField() async throws {
        let h = try CLIHarness()
        let (status, output) = try await h.run(["enqueue", "sendinblue.register", "--payload", #"{"user_id": "1", "email": 5}"#])
        #expect(status == 64, "\(output)")
        #expect(output.contains("payload does not match sendinblue.register") && output.contains("email should be a string"), "\(output)")
        let missing = try await h.run(["enqueue", "diag.record", "--payload", #"{"key": "k"}"#])
        #expect(missing.status == 64 && missing.output.contains("missing key 'member'"), "\(missing.output)")
        #expect(try await nothingEnqueued(h))
    }

    @Test func aDelayNeedsAUnit() async throws {
        let h = try CLIHarness()
        let (status, output) = try await h.run(["enqueue", "diag.record", "--payload", #"{"key":"k","member":"m"}"#, "--in", "90"])
        #expect(status == 64, "\(output)")
        #expect(output.contains("--in '90' needs a unit: 90s, 90m, 90h or 90d"), "\(output)")
        // The same limit as every other duration option (DurationText): ten years.
        let tooLong = try await h.run(["enqueue", "diag.record", "--payload", #"{"key":"k","member":"m"}"#, "--in", "3651d"])
        #expect(tooLong.status == 64 && tooLong.output.contains("--in '3651d' is not a delay like 90s, 10m, 2h or 1d (at most 3650d)"), "\(tooLong.output)")
        #expect(try await nothingEnqueued(h))
    }

    /// Foundation's ISO 8601 parser rolled 30 February into March, ignored trailing text and read +99:00 as +09:00:
    /// the job was scheduled at a time no one wrote.
    @Test func anImpossibleAtIsRefusedNamingTheOption() async throws {
        let h = try CLIHarness()
        for at in ["2026-02-30T09:00:00Z", "2026-11-24T09:00:00Zjunk", "2026-11-24T09:00:00+99:00"] {
            let (status, output) = try await h.run(["enqueue", "diag.record", "--payload", #"{"key":"k","member":"m"}"#, "--at", at])
            #expect(status == 64, "\(at): \(output)")
            #expect(output.contains("--at '\(at)'"), "\(at): \(output)")
        }
        #expect(try await nothingEnqueued(h))
        let (status, output) = try await h.run(["enqueue", "diag.record", "--payload", #"{"key":"k","member":"m"}"#, "--at", "2028-02-29T09:00:00+03:30"])
        #expect(status == 0, "\(output)")
        let info = try await h.jobs.info(queue: "default")
        #expect(info.scheduled + info.ready == 1, "a real 29 February is enqueued (ready once it has passed)")
    }

    /// A run time is Unix seconds from 0 (jobs/PROTOCOL.md, "Enqueue options"), as the clients refuse a negative `at`:
    /// 1900 typed for 1990 or 2900 ran the job at once, as a time past.
    @Test func anAtBefore1970IsRefusedNamingTheOption() async throws {
        let h = try CLIHarness()
        for at in ["1900-01-01T00:00:00Z", "1969-12-31T23:59:59Z"] {
            let (status, output) = try await h.run(["enqueue", "diag.record", "--payload", #"{"key":"k","member":"m"}"#, "--at", at])
            #expect(status == 64 && output.contains("--at '\(at)' is before 1970"), "\(at): \(output)")
        }
        #expect(try await nothingEnqueued(h))
        let (status, output) = try await h.run(["enqueue", "diag.record", "--payload", #"{"key":"k","member":"m"}"#, "--at", "1970-01-01T00:00:00Z"])
        #expect(status == 0, "the epoch itself is a time past: now. \(output)")
        #expect(try await h.jobs.info(queue: "default").ready == 1)
    }

    @Test func anUnreachableRedisExits2LikeEveryOtherCommand() async throws {
        let h = try CLIHarness()
        let server = try RedisServer()
        server.stop()
        let (status, output) = try await h.run(["enqueue", "diag.record", "--payload", #"{"key":"k","member":"m"}"#, "--redis-url", server.url])
        #expect(status == 2, "\(output)")
        #expect(output.contains("127.0.0.1:\(server.port) unreachable"), "\(output)")
    }

    /// A duplicate's refusal names its unique key masked, as every other output does (a review found it printed whole).
    @Test func aDuplicateIsRefusedWithItsUniqueKeyMasked() async throws {
        let h = try CLIHarness()
        let arguments = ["enqueue", "diag.record", "--payload", #"{"key":"k","member":"m"}"#, "--unique-key", "sms-09121234567", "--in", "1h"]
        let first = try await h.run(arguments)
        #expect(first.status == 0, "\(first.output)")
        let second = try await h.run(arguments)
        #expect(second.status == 3, "\(second.output)")
        #expect(second.output.contains("with unique key 'sms-0912****567'"), "\(second.output)")
        #expect(!second.output.contains("09121234567"), "\(second.output)")
    }

    /// --unique-key promised "while pending or running" with a lock that lapses 24 h after the run time, unsaid and
    /// with no way to set it: --unique-for sets it, and its bounds are checked before anything is sent.
    @Test func uniqueForSetsTheLocksLifetime() async throws {
        let h = try CLIHarness()
        let payload = #"{"key":"k","member":"m"}"#
        let (status, output) = try await h.run(["enqueue", "diag.record", "--payload", payload, "--unique-key", "u-for", "--unique-for", "2h"])
        #expect(status == 0, "\(output)")
        let ttl = try await h.redis.send("TTL", "\(h.namespace):{default}:unique:u-for").int ?? -1
        #expect(ttl > 7000 && ttl <= 7200, "TTL \(ttl)")
        for (arguments, message) in [
            (["--unique-for", "2h"], "--unique-for needs --unique-key"),
            (["--unique-key", "u2", "--unique-for", "31d"], "at most 30d"),
            (["--unique-key", "u2", "--unique-for", "7200"], "is not a duration"),
            (["--at", "9999-01-01T00:00:00Z"], "more than 3650 days ahead"),
        ] {
            let refused = try await h.run(["enqueue", "diag.record", "--payload", payload] + arguments)
            #expect(refused.status == 64 && refused.output.contains(message), "\(arguments): \(refused.output)")
        }
        #expect(try await h.jobs.info(queue: "default").ready == 1, "only the first was sent")
    }

    @Test func warnsWhenNoLiveWorkerServesTheQueue() async throws {
        let h = try CLIHarness()
        let payload = #"{"key":"k","member":"m"}"#
        let (status, output) = try await h.run(["enqueue", "diag.record", "--payload", payload, "--queue", "emails", "--in", "1h"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("warning: no live worker serves queue `emails`"), "\(output)")
        try await Heartbeat(kind: "worker", id: "w1", jobs: h.jobs) { ["queues": "default,emails"] }.beat()
        let served = try await h.run(["enqueue", "diag.record", "--payload", payload, "--queue", "emails", "--in", "1h"])
        #expect(served.status == 0 && !served.output.contains("warning"), "\(served.output)")
    }

    /// A heartbeat hash written by hand with `ttl` inf trapped `Duration.seconds` after the job was written.
    @Test func aHeartbeatWithAnInfiniteTTLDoesNotCrashTheEnqueue() async throws {
        let h = try CLIHarness()
        try await Heartbeat(kind: "worker", id: "w1", jobs: h.jobs) { ["queues": "default"] }.beat()
        try await h.redis.send("HSET", "\(h.namespace):process:w1", "ttl", "inf")
        let (status, output) = try await h.run(["enqueue", "diag.record", "--payload", #"{"key":"k","member":"m"}"#])
        #expect(status == 0, "\(output)")
    }
}
