import Foundation
import HoopoeCore
import HoopoeScheduler
import Redis
import TestSupport
import Testing

/// The deployment check's `scheduler` finding beyond a heartbeat: the tasks' last ticks, read from a real Redis, and
/// a schedule file that is missing.
struct HealthCheckSchedulerTests {
    private let everyMinute = "tasks:\n  - name: minutely\n    cron: \"* * * * *\"\n    type: diag.record\n"

    /// A schedule file holding `yaml`, removed by the caller.
    private func scheduleFile(_ yaml: String) throws -> URL {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("hoopoe-schedule-\(UUID().uuidString).yaml")
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    /// A worker and a scheduler with fresh beats; the scheduler started `upFor` seconds ago.
    private func beat(_ h: EngineHarness, schedulerUpFor upFor: TimeInterval) async throws {
        try await Heartbeat(kind: "worker", id: "w1", jobs: h.jobs) { ["queues": "default"] }.beat()
        let started = String(Date().timeIntervalSince1970 - upFor)
        try await Heartbeat(kind: "scheduler", id: "s1", jobs: h.jobs) { ["started_at": started] }.beat()
    }

    private func finding(_ h: EngineHarness, _ file: URL, named: Bool = true) async -> HealthFinding? {
        let check = ScheduleFileCheck.at(file, named: named, lastTicks: RedisLastTickStore(redis: h.redis, prefix: h.namespace))
        return await HealthCheck(jobs: h.jobs, options: HealthCheckOptions(scheduleFile: check)).run().finding("scheduler")
    }

    /// The last whole minute at or before `date`.
    private func minute(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 60).rounded(.down) * 60)
    }

    @Test func aTaskWhoseTickWentUnhandledFailsWhileItsSchedulerBeats() async throws {
        let h = try EngineHarness()
        let file = try scheduleFile(everyMinute)
        defer { try? FileManager.default.removeItem(at: file) }
        try await beat(h, schedulerUpFor: 600)
        let task = try #require(ScheduleFile.load(contentsOf: file).enabledTasks.first)
        let store = RedisLastTickStore(redis: h.redis, prefix: h.namespace)
        // Handled up to five minutes ago: four ticks since then went unhandled (a scheduler whose enqueues fail).
        try await store.advanceLastTick(of: task, to: minute(Date()).addingTimeInterval(-300))
        let late = try #require(await finding(h, file))
        #expect(late.status == .fail, "\(late)")
        #expect(late.message.contains("minutely ("), "\(late.message)")
        #expect(late.numbers["late_tasks"] == 1)
        #expect((late.numbers["most_late_seconds"] ?? 0) > 180, "\(late.numbers)")
        // Handled up to the current minute: on time.
        try await store.advanceLastTick(of: task, to: minute(Date()))
        let onTime = try #require(await finding(h, file))
        #expect(onTime.status == .ok, "\(onTime)")
        #expect(onTime.numbers["late_tasks"] == 0)
    }

    @Test func aTaskNoSchedulerKnowsFailsOnceTheSchedulersHadTimeToPlanIt() async throws {
        let h = try EngineHarness()
        let file = try scheduleFile(everyMinute)
        defer { try? FileManager.default.removeItem(at: file) }
        // A scheduler started a moment ago may not have planned the task yet.
        try await beat(h, schedulerUpFor: 5)
        let fresh = try #require(await finding(h, file))
        #expect(fresh.status == .ok, "\(fresh)")
        // One up for ten minutes has planned every task it knows: it was started before the task was in its file.
        try await beat(h, schedulerUpFor: 600)
        let stale = try #require(await finding(h, file))
        #expect(stale.status == .fail, "\(stale)")
        #expect(stale.message.contains("never handled by a scheduler: minutely"), "\(stale.message)")
        #expect(stale.numbers["unhandled_tasks"] == 1)
    }

    @Test func aRealSchedulersTicksKeepTheCheckHealthy() async throws {
        let h = try EngineHarness()
        let file = try scheduleFile(everyMinute)
        defer { try? FileManager.default.removeItem(at: file) }
        try await beat(h, schedulerUpFor: 600)
        let scheduler = JobScheduler(
            tasks: try ScheduleFile.load(contentsOf: file).tasks, lastTicks: RedisLastTickStore(redis: h.redis, prefix: h.namespace),
            sink: JobQueueTickSink(jobs: h.jobs), clock: RedisSchedulerClock(redis: h.redis))
        await scheduler.runOnce()
        let report = try #require(await finding(h, file))
        #expect(report.status == .ok, "\(report)")
        #expect(report.message.contains("every task on time"), "\(report.message)")
    }

    @Test func aNamedScheduleFileThatIsMissingFailsAndAMissingDefaultDoesNot() async throws {
        let h = try EngineHarness()
        try await beat(h, schedulerUpFor: 600)
        let missing = URL(fileURLWithPath: "/nonexistent/schedule.yaml")
        let named = try #require(await finding(h, missing))
        #expect(named.status == .fail, "\(named)")
        #expect(named.message.contains("/nonexistent/schedule.yaml (--schedule)"), "\(named.message)")
        let byDefault = try #require(await finding(h, missing, named: false))
        #expect(byDefault.status == .ok, "\(byDefault)")
        #expect(byDefault.message.contains("the default, relative to the working directory"), "\(byDefault.message)")
    }

    /// A schedule the scheduler refuses: the finding names each problem, as `hoopoe schedule list` does. It gave only
    /// the error's first line ("bad.yaml: 1 problem, the scheduler cannot start"), which says neither what nor where.
    @Test func aScheduleThatCannotBeLoadedNamesItsProblems() async throws {
        let h = try EngineHarness()
        try await beat(h, schedulerUpFor: 600)
        let badCron = try scheduleFile("tasks:\n  - name: t1\n    cron: \"61 * * * *\"\n    type: diag.record\n")
        defer { try? FileManager.default.removeItem(at: badCron) }
        let cron = try #require(await finding(h, badCron))
        #expect(cron.status == .fail, "\(cron)")
        #expect(cron.message.contains("1 problem, the scheduler cannot start; line 3: task \"t1\": cron: "), "\(cron.message)")
        #expect(cron.message.contains("minute: 61 is out of range"), "\(cron.message)")
        #expect(!cron.message.contains("\n"), "one line: \(cron.message)")

        // A directory where the file should be (a ConfigMap key missing, mounted with subPath).
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hoopoe-schedule-dir-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let directory = try #require(await finding(h, folder))
        #expect(directory.status == .fail && directory.message.contains("is a directory, not a file"), "\(directory.message)")

        // Many problems: the first five, and how many more; a value quoted in one is masked.
        var many = "tasks:\n  - name: phone\n    cron: \"* * * * *\"\n    type: diag.record\n    payload: {to: 09121234567}\n"
        for index in 1...7 { many += "  - name: t\(index)\n    cron: \"6\(index) * * * *\"\n    type: diag.record\n" }
        let manyFile = try scheduleFile(many)
        defer { try? FileManager.default.removeItem(at: manyFile) }
        let listed = try #require(await finding(h, manyFile))
        #expect(listed.message.contains("task \"t4\"") && !listed.message.contains("task \"t5\""), "\(listed.message)")
        #expect(listed.message.contains("and 3 more (`hoopoe schedule list` names them all)"), "\(listed.message)")
        #expect(listed.message.contains("task \"phone\"") && !listed.message.contains("1234567"), "\(listed.message)")
    }
}
