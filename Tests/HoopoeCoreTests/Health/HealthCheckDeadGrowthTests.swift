import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// `dead_jobs` counts the jobs put in the dead sets since the previous run, from the burials the kill script counts:
/// it compared the dead sets' sizes, which a set at its cap (trimmed with every burial) or a `dead delete` between two
/// runs kept the same while jobs died.
struct HealthCheckDeadGrowthTests {
    /// A worker whose dead set holds at most `cap` jobs.
    private func worker(_ h: EngineHarness, cap: Int) -> (Worker, Task<Void, any Error>) {
        var options = WorkerOptions.fastTest()
        options.deadMaxJobs = cap
        return h.startWorker(options: options)
    }

    /// Enqueues `count` jobs of a type no worker knows (each goes straight to the dead set) and waits until the
    /// kill script has counted `total` burials today.
    private func bury(_ h: EngineHarness, _ count: Int, total: Int) async throws {
        for _ in 0..<count { try await h.jobs.enqueue(type: "no.such.type", payload: .object([:])) }
        #expect(try await h.eventually { try await h.buriedToday() >= total }, "\(total) burials counted")
    }

    @Test func aFullDeadSetStillReportsTheJobsThatDied() async throws {
        let h = try EngineHarness()
        let (worker, task) = worker(h, cap: 2)
        defer { worker.shutdown() }
        try await bury(h, 2, total: 2)
        let check = HealthCheck(jobs: h.jobs)
        let baseline = try #require(await check.run().finding("dead_jobs"))
        #expect(baseline.numbers["dead"] == 2, "the set is at its cap: \(baseline.message)")

        try await bury(h, 3, total: 5)
        #expect(try await h.jobs.info(queue: "default").dead == 2, "the set stayed at its cap")
        let grown = try #require(await check.run().finding("dead_jobs"))
        #expect(grown.status == .warn, "\(grown.message)")
        #expect(grown.numbers["growth"] == 3, "\(grown.message)")
        #expect(grown.numbers["dead"] == 2)
        #expect(grown.message.hasPrefix("3 job(s) put in the dead set since the last check") && grown.message.contains("(default +3), 2 dead now"), "\(grown.message)")

        let quiet = try #require(await check.run().finding("dead_jobs"))
        #expect(quiet.status == .ok && quiet.numbers["growth"] == 0, "\(quiet.message)")
        #expect(quiet.message.hasPrefix("2 dead job(s), none new since the last check"), "\(quiet.message)")
        worker.shutdown()
        try await task.value
    }

    /// A death and a `dead delete` between two runs: the set's size did not change, and the death was not reported.
    @Test func aDeathHiddenByADeleteIsReported() async throws {
        let h = try EngineHarness()
        let (worker, task) = worker(h, cap: 10_000)
        defer { worker.shutdown() }
        try await bury(h, 1, total: 1)
        let check = HealthCheck(jobs: h.jobs)
        #expect(await check.run().finding("dead_jobs")?.numbers["dead"] == 1)

        let old = try #require(try await h.jobs.deadJobs(queue: "default").first)
        try await bury(h, 1, total: 2)
        #expect(try await h.jobs.deleteDead(id: old.id, queue: "default"))
        #expect(try await h.jobs.info(queue: "default").dead == 1)
        let grown = try #require(await check.run().finding("dead_jobs"))
        #expect(grown.status == .warn && grown.numbers["growth"] == 1, "\(grown.message)")
        worker.shutdown()
        try await task.value
    }

    /// The counters are per UTC day by the burying worker's clock: a burial counted under yesterday (a worker whose
    /// clock is behind, just after midnight) or tomorrow (one ahead) after the baseline is new too; what the days held
    /// at the baseline is not.
    @Test func burialsCountedOnTheDaysAroundTodayAreNewOnlyAfterTheBaseline() async throws {
        let h = try EngineHarness()
        let keys = h.jobs.keys("default")
        let day = { (offset: Double) in Self.utcDay(Date().addingTimeInterval(offset * 86_400)) }
        try await h.redis.send("SADD", h.jobs.global.queues, "default")  // the queue is known
        try await h.redis.send("HSET", keys.stats(day: day(0)), "dead:a", "7", "processed:a", "40")
        try await h.redis.send("HSET", keys.stats(day: day(-1)), "dead:a", "5")
        let check = HealthCheck(jobs: h.jobs)
        let first = try #require(await check.run().finding("dead_jobs"))
        #expect(first.message.contains("first run, baseline recorded"), "\(first.message)")
        #expect(await check.run().finding("dead_jobs")?.numbers["growth"] == 0, "what the days held at the baseline is not new")

        try await h.redis.send("HINCRBY", keys.stats(day: day(-1)), "dead:b", "2")
        try await h.redis.send("HINCRBY", keys.stats(day: day(1)), "dead:a", "1")
        try await h.redis.send("HINCRBY", keys.stats(day: day(0)), "processed:a", "9")  // not a burial
        let grown = try #require(await check.run().finding("dead_jobs"))
        #expect(grown.numbers["growth"] == 3, "\(grown.message)")
        #expect(try await h.redis.send("HGET", check.keys.dead, "death_days").string == [day(-1), day(0), day(1)].joined(separator: ","))
        #expect(try await h.redis.send("HGET", check.keys.dead, "deaths:default").string == "7,7,1")
    }

    /// A baseline of a release that compared sizes (only `at` and `queue:<name>`): the run says growth is measured from
    /// it on, instead of reporting every burial of the last days as new.
    @Test func aBaselineOfAnOlderReleaseStartsTheCount() async throws {
        let h = try EngineHarness()
        let keys = h.jobs.keys("default")
        try await h.redis.send("SADD", h.jobs.global.queues, "default")
        try await h.redis.send("HSET", keys.stats(day: Self.utcDay(Date())), "dead:a", "4")
        let check = HealthCheck(jobs: h.jobs)
        try await h.redis.send("HSET", check.keys.dead, "at", String(Date().timeIntervalSince1970 - 60), "queue:default", "0")
        let first = try #require(await check.run().finding("dead_jobs"))
        #expect(first.status == .ok && first.numbers["growth"] == 0, "\(first.message)")
        #expect(first.message.contains("older release"), "\(first.message)")
        try await h.redis.send("HINCRBY", keys.stats(day: Self.utcDay(Date())), "dead:a", "1")
        #expect(await check.run().finding("dead_jobs")?.numbers["growth"] == 1)
    }

    /// `YYYY-MM-DD` in UTC, as the counters' keys name a day.
    static func utcDay(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter.string(from: date)
    }
}

extension EngineHarness {
    /// The burials the kill script counted today (UTC) in `default`.
    fileprivate func buriedToday() async throws -> Int {
        try await jobs.counters(queue: "default")["dead"] ?? 0
    }
}
