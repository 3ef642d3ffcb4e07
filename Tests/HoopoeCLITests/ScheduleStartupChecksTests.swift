import Foundation
import HoopoeCore
import HoopoeJSON
import HoopoeScheduler
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

    /// The envelope of that task's tick, as a tick enqueues it: `tick` and the enqueue time as given.
    private func envelopeBytes(memberLength: Int, tick: Int64, enqueuedAt: Double) -> Int {
        JobEnvelope(
            type: "diag.record", queue: "default",
            payload: ["key": "k", "member": .string(String(repeating: "x", count: memberLength)), "tick": .integer(tick)],
            enqueuedAt: enqueuedAt
        ).encoded().count
    }

    /// The `member` length that makes the envelope exactly `bytes` long.
    private func memberLength(forEnvelopeOf bytes: Int, tick: Int64, enqueuedAt: Double) -> Int {
        let base = envelopeBytes(memberLength: 0, tick: tick, enqueuedAt: enqueuedAt)
        return bytes - base
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

    /// At the limit's edge: a payload whose job, with the tick the scheduler adds and its envelope, is a few bytes
    /// over the limit is refused though the payload alone fits; one that fits with the widest tick and enqueue time
    /// it can have is listed.
    @Test func theLimitIsTheEnvelopesWithItsTick() async throws {
        let h = try CLIHarness()
        let limit = h.jobs.maxEnvelopeBytes
        // Today's tick, and an enqueue time written shortest (whole seconds): every real enqueue is at least as large.
        let now = Int64(Date().timeIntervalSince1970)
        let over = memberLength(forEnvelopeOf: limit + 1, tick: now, enqueuedAt: Double(now))
        let overPath = try schedule(taskWithMember(length: over))
        defer { try? FileManager.default.removeItem(atPath: overPath) }
        let refused = try await h.run(["schedule", "list", "--schedule", overPath])
        #expect(refused.status == 1 && refused.output.contains("over the \(limit)-byte limit"), "\(refused.output)")

        let fits = memberLength(forEnvelopeOf: limit, tick: 9_999_999_999, enqueuedAt: 1_767_225_600.123_456_7)
        let fitsPath = try schedule(taskWithMember(length: fits))
        defer { try? FileManager.default.removeItem(atPath: fitsPath) }
        let listed = try await h.run(["schedule", "list", "--schedule", fitsPath])
        #expect(listed.status == 0, "\(listed.output)")
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
