import Foundation
import HoopoeCore
import HoopoeJSON
import HoopoeScheduler
import Redis
import TestSupport
import Testing

/// What `hoopoe scheduler` and `hoopoe schedule list` check of a schedule file and how they say it: a payload too
/// large for a job stops both (it started, and failed every tick), their messages are masked (a phone in a cron or a
/// key was printed whole), and the TIME ZONE column shows the zone the file names (`UTC` was `GMT`).
@Suite struct ScheduleStartupChecksTests {
    private func schedule(_ yaml: String) throws -> String {
        try TemporaryFiles.write(yaml, prefix: "hoopoe-schedule-", suffix: ".yaml")
    }

    /// One `diag.record` task whose payload's `member` is `length` characters.
    private func taskWithMember(length: Int, type: String = "diag.record") -> String {
        "tasks:\n  - name: big.one\n    cron: \"* * * * *\"\n    type: \(type)\n"
            + "    payload: {key: k, member: \"\(String(repeating: "x", count: length))\"}\n"
    }

    /// One `diag.record` task whose payload's `key` names a key in the namespace (`${HOOPOE_NAMESPACE}`, four times)
    /// and whose `member` is `length` characters.
    private func taskInTheNamespace(memberLength length: Int) -> String {
        "tasks:\n  - name: keyed\n    cron: \"* * * * *\"\n    type: diag.record\n"
            + "    payload: {key: \"${HOOPOE_NAMESPACE}:a:${HOOPOE_NAMESPACE}:b:${HOOPOE_NAMESPACE}:c:${HOOPOE_NAMESPACE}\", "
            + "member: \"\(String(repeating: "x", count: length))\"}\n"
    }

    /// The widest a tick's job is written, as `hoopoe scheduler`'s start-up check (`ScheduleTypeCheck`) measures it: the
    /// last 10-digit tick, an enqueue time of 17 significant digits, and a queue name of 64 characters (another
    /// scheduler's file may claim a tick for its queue).
    private static let widestTick: Int64 = 9_999_999_999
    private static let widestEnqueueTime = 1_767_225_600.123_456_7
    private static let widestQueue = String(repeating: "q", count: EnvelopeRules.maxQueueLength)

    /// The file's only task.
    private func onlyTask(_ yaml: String) throws -> ScheduledTask {
        let path = try schedule(yaml)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try #require(try ScheduleFile.load(contentsOf: URL(fileURLWithPath: path)).tasks.first)
    }

    /// The bytes of the widest envelope a tick of the file's only task makes in `jobs`' namespace, measured by the
    /// engine's enqueue itself (`JobQueue.envelopeBytes`).
    private func widestTickBytes(_ yaml: String, jobs: JobQueue) throws -> Int {
        let task = try onlyTask(yaml)
        return try jobs.envelopeBytes(
            type: task.type, payload: task.jobPayload(namespace: jobs.namespace, tick: Self.widestTick),
            options: EnqueueOptions(queue: Self.widestQueue), enqueuedAt: Self.widestEnqueueTime)
    }

    /// The `member` length that makes the widest tick of `yaml(length)` exactly `bytes` long (each `x` is one byte).
    private func memberLength(widestTickOf bytes: Int, jobs: JobQueue, _ yaml: (Int) -> String) throws -> Int {
        bytes - (try widestTickBytes(yaml(0), jobs: jobs))
    }

    /// The `job` field of every entry of `queue`'s stream.
    private func storedEnvelopes(_ h: CLIHarness, queue: String) async throws -> [[UInt8]] {
        let entries = try await h.redis.send("XRANGE", h.jobs.keys(queue).stream, "-", "+").array ?? []
        return entries.compactMap { entry in
            guard let fields = entry.array?.last?.array, fields.count == 2 else { return nil }
            return fields[1].bytes
        }
    }

    /// A payload of 600 KB decodes, and was let through: the scheduler started and every tick's enqueue was refused
    /// ("over the 524288-byte limit"), in the log only. Both commands refuse it now, naming the task, the size and the
    /// limit; a type of another build's workers too (the limit holds for every enqueue).
    @Test(arguments: ["diag.record", "other.build.job"])
    func aPayloadOverTheEnvelopeLimitStopsTheSchedulerAndTheListing(type: String) async throws {
        let h = try CLIHarness()
        let path = try schedule(taskWithMember(length: 600_000, type: type))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let started = try await h.run(["scheduler", "--schedule", path], timeout: .seconds(10))
        #expect(started.status == 78, "\(started.output)")
        #expect(started.output.contains("task 'big.one'") && started.output.contains("over the 524288-byte limit"), "\(started.output)")
        #expect(started.output.contains(/be 600\d{3} bytes/), "the size is named: \(started.output)")
        #expect(try await h.jobs.liveProcesses().isEmpty, "it did not start: \(started.output)")
        let listed = try await h.run(["schedule", "list", "--schedule", path])
        #expect(listed.status == 1, "\(listed.output)")
        #expect(listed.output.contains("task 'big.one'") && listed.output.contains("over the 524288-byte limit"), "\(listed.output)")
    }

    /// A tick claimed for `queue` (as a scheduler whose file names that queue for the task would claim it): the sink
    /// enqueues it there.
    private func claim(_ h: CLIHarness, _ task: ScheduledTask, tick: Int64, for queue: String) async throws {
        _ = try await h.redis.send("SET", h.jobs.global.scheduleTickClaim(task: task.name, tick: tick), queue)
    }

    /// At the limit's edge, measured as the enqueue measures: a tick whose widest job is exactly the limit is listed,
    /// and the scheduler's sink enqueues it into a queue of the longest name another file claimed the tick for; one
    /// byte more is refused by both commands, and by the enqueue whenever the tick's time is written at its widest.
    /// The check rebuilt the envelope from its public fields in the task's own queue (`default`): a job 57 bytes over
    /// the limit in a claimed queue of 64 characters was listed and the scheduler started, to fail at every tick.
    @Test func aTickAtTheLimitIsListedAndEnqueuedAndOneByteMoreIsRefusedByBoth() async throws {
        let h = try CLIHarness()
        let limit = h.jobs.maxEnvelopeBytes
        let atLimit = try memberLength(widestTickOf: limit, jobs: h.jobs) { taskWithMember(length: $0) }
        let sink = JobQueueTickSink(jobs: h.jobs)

        let fitsPath = try schedule(taskWithMember(length: atLimit))
        defer { try? FileManager.default.removeItem(atPath: fitsPath) }
        let listed = try await h.run(["schedule", "list", "--schedule", fitsPath])
        #expect(listed.status == 0, "\(listed.output)")
        let fits = try onlyTask(taskWithMember(length: atLimit))
        try await claim(h, fits, tick: Self.widestTick, for: Self.widestQueue)
        let written = try await sink.enqueueTick(task: fits, tick: Date(timeIntervalSince1970: Double(Self.widestTick)))
        #expect(written.added && written.queue == Self.widestQueue)
        let stored = try #require(try await storedEnvelopes(h, queue: Self.widestQueue).last)
        let envelope = try JSONDecoder().decode(JobEnvelope.self, from: Data(stored))
        // Written as measured: the measure at the time it was written is its size, and at most the widest one's.
        let measured = try h.jobs.envelopeBytes(
            type: fits.type, payload: fits.jobPayload(namespace: h.namespace, tick: Self.widestTick),
            options: EnqueueOptions(queue: Self.widestQueue), enqueuedAt: envelope.enqueuedAt)
        #expect(stored.count == measured && stored.count <= limit, "\(stored.count) bytes, measured \(measured)")

        let overPath = try schedule(taskWithMember(length: atLimit + 1))
        defer { try? FileManager.default.removeItem(atPath: overPath) }
        for arguments in [["schedule", "list"], ["scheduler"]] {
            let refused = try await h.run(arguments + ["--schedule", overPath], timeout: .seconds(10))
            #expect(refused.status == (arguments == ["scheduler"] ? 78 : 1), "\(arguments): \(refused.output)")
            let named = refused.output.contains("would be \(limit + 1) bytes") && refused.output.contains("over the \(limit)-byte limit")
            #expect(named, "\(refused.output)")
        }
        // The enqueue: a real one writes the time it runs at, narrower than the widest about one time in four (16
        // significant digits or fewer), and a narrower time makes a job that fits. Tried at earlier ticks (each its
        // own once-key) until one is written at the widest: that one is refused, naming one byte over.
        let over = try onlyTask(taskWithMember(length: atLimit + 1))
        var refusal: EnqueueError?
        for tick in (1...30).map({ Self.widestTick - 60 * $0 }) {
            try await claim(h, over, tick: tick, for: Self.widestQueue)
            do {
                _ = try await sink.enqueueTick(task: over, tick: Date(timeIntervalSince1970: Double(tick)))
            } catch let error as EnqueueError {
                refusal = error
                break
            }
            let narrower = try #require(try await storedEnvelopes(h, queue: Self.widestQueue).last)
            #expect(narrower.count <= limit, "written only when it fits: \(narrower.count) bytes")
        }
        let refused = try #require(refusal, "no enqueue at the widest time in 30")
        #expect(refused.message.contains("is \(limit + 1) bytes, over the \(limit)-byte limit"), "\(refused)")
    }

    /// The namespace enters a tick's size: a payload's `${HOOPOE_NAMESPACE}` is filled with it. `schedule list`
    /// measured in `hoopoe` whatever the scheduler's namespace, so a payload at the limit there was listed while the
    /// scheduler, in a longer namespace, refused it (exit 78). It reads the namespace as the scheduler does now
    /// (`--namespace`, else `HOOPOE_NAMESPACE`: the harness's, longer than `hoopoe`).
    @Test func scheduleListMeasuresInTheSchedulersNamespace() async throws {
        let h = try CLIHarness()
        let limit = h.jobs.maxEnvelopeBytes
        let inHoopoe = JobQueue(redis: h.redis, namespace: "hoopoe")
        let atLimitInHoopoe = try memberLength(widestTickOf: limit, jobs: inHoopoe) { taskInTheNamespace(memberLength: $0) }
        let path = try schedule(taskInTheNamespace(memberLength: atLimitInHoopoe))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(h.namespace.count > "hoopoe".count)
        let over = limit + 4 * (h.namespace.count - "hoopoe".count)
        #expect(try widestTickBytes(taskInTheNamespace(memberLength: atLimitInHoopoe), jobs: h.jobs) == over)

        let scheduler = try await h.run(["scheduler", "--schedule", path], timeout: .seconds(10))
        #expect(scheduler.status == 78 && scheduler.output.contains("would be \(over) bytes"), "\(scheduler.output)")
        let listed = try await h.run(["schedule", "list", "--schedule", path])
        #expect(listed.status == 1 && listed.output.contains("would be \(over) bytes"), "\(listed.output)")
        let flagged = try await h.run(
            ["schedule", "list", "--schedule", path, "--namespace", h.namespace], environment: ["HOOPOE_NAMESPACE": "hoopoe"])
        #expect(flagged.status == 1 && flagged.output.contains("would be \(over) bytes"), "\(flagged.output)")
        // In `hoopoe` it is exactly the limit: listed.
        let inDefault = try await h.run(["schedule", "list", "--schedule", path, "--namespace", "hoopoe"])
        #expect(inDefault.status == 0, "\(inDefault.output)")
        let help = try await h.run(["schedule", "list", "--help"])
        let namesIt = help.output.contains("--namespace") && help.output.contains("HOOPOE_NAMESPACE")
        #expect(namesIt && !help.output.contains("--redis-url"), "\(help.output)")
        let braced = try await h.run(["schedule", "list", "--schedule", path, "--namespace", "{x}"])
        #expect(braced.status == 64 && braced.output.contains("--namespace:"), "\(braced.output)")
        // From the environment it is the scheduler's bad setting (78, the variable named), as for every command.
        let bracedSetting = try await h.run(["schedule", "list", "--schedule", path], environment: ["HOOPOE_NAMESPACE": "{x}"])
        #expect(bracedSetting.status == 78 && bracedSetting.output.contains("HOOPOE_NAMESPACE: '{x}' holds a brace"), "\(bracedSetting.output)")
    }

    /// A file with a phone number where a cron, a time zone, a name, a queue, a catch-up policy, an `enabled` or a key
    /// belongs: every command that prints the file's problems masks it. The scheduler and `schedule list` printed it
    /// whole (`invalid cron expression "09121234567 …"`); `health-check` masked it already.
    @Test func aPhoneInTheFileIsMaskedByEveryCommand() async throws {
        let h = try CLIHarness()
        let path = try schedule("""
            tasks:
              - name: "+989121234567"
                cron: "09121234567 * * * *"
                time_zone: "09121234567"
                type: diag.record
                queue: "{09121234567}"
                catch_up: "09121234567"
                enabled: "09121234567"
                "09121234567": x
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        for (arguments, status) in [(["scheduler"], Int32(78)), (["schedule", "list"], 1), (["health-check"], 1)] {
            let (exit, output) = try await h.run(arguments + ["--schedule", path], timeout: .seconds(10))
            #expect(exit == status, "\(arguments): \(output)")
            #expect(!output.contains("1234567"), "\(arguments) printed the number whole: \(output)")
            let masked = ["09121234567", "+989121234567"].map(PersonalDataMask.mask)
            #expect(masked.allSatisfy(output.contains), "\(arguments): \(output)")
        }
        // The scheduler names each key all the same.
        let output = try await h.run(["scheduler", "--schedule", path], timeout: .seconds(10)).output
        for key in ["cron", "time_zone", "queue", "catch_up", "enabled", "name", "unknown key"] {
            #expect(output.contains(key), "\(key): \(output)")
        }
    }

    /// The checks against the job types mask too: a type of another build is warned about, naming it masked; the
    /// listing masks it as well.
    @Test func theJobTypeChecksMessagesAreMasked() async throws {
        let h = try CLIHarness()
        let path = try schedule("tasks:\n  - {name: t, cron: \"0 0 1 1 *\", type: other.09121234567, payload: {}}\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (status, output) = try await h.run(["schedule", "list", "--schedule", path])
        #expect(status == 0, "\(output)")
        #expect(output.contains("is not one this build's workers run") && !output.contains("09121234567"), "\(output)")
    }

    /// The TIME ZONE column shows the zone as the file names it: `UTC` was listed as `GMT`, and `UTC+3` as `GMT+0300`.
    @Test func scheduleListShowsTheZoneAsTheFileNamesIt() async throws {
        let h = try CLIHarness()
        let path = try schedule("""
            tasks:
              - {name: utc, cron: "0 9 * * *", time_zone: UTC, type: diag.record, payload: {key: k, member: m}}
              - {name: offset, cron: "0 9 * * *", time_zone: UTC+3, type: diag.record, payload: {key: k, member: m}}
              - {name: berlin, cron: "0 9 * * *", time_zone: Europe/Berlin, type: diag.record, payload: {key: k, member: m}}
              - {name: default, cron: "0 9 * * *", type: diag.record, payload: {key: k, member: m}}
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (status, output) = try await h.run(["schedule", "list", "--schedule", path])
        #expect(status == 0, "\(output)")
        func row(_ name: String) -> [Substring] {
            output.split(separator: "\n").first { $0.hasPrefix(name + " ") }.map { $0.split(separator: " ", omittingEmptySubsequences: true) } ?? []
        }
        // TASK, then CRON's five fields, then TIME ZONE.
        #expect(row("utc").dropFirst(6).first == "UTC", "\(output)")
        #expect(row("offset").dropFirst(6).first == "UTC+3", "\(output)")
        #expect(row("offset").contains("+03:00"), "the next run in the zone: \(output)")
        #expect(row("berlin").dropFirst(6).first == "Europe/Berlin", "\(output)")
        #expect(row("default").dropFirst(6).first == "Asia/Tehran", "\(output)")
        #expect(!output.contains("GMT"), "\(output)")
    }
}
