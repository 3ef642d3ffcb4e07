import Foundation
import HoopoeScheduler
import TestSupport
import Testing

@Suite struct TickPlannerTests {
    let planner = TickPlanner(gracePeriod: 60)

    func task(_ cron: String, catchUp: CatchUpPolicy = .once) throws -> ScheduledTask {
        try ScheduledTask(name: "t", cron: CronExpression(cron), timeZone: #require(TimeZone(identifier: "UTC")), type: "t", catchUp: catchUp)
    }

    /// 2025-06-01 at `time` (HH:mm or HH:mm:ss), UTC.
    func at(_ time: String) throws -> Date {
        let full = time.count == 5 ? time + ":00" : time
        return try #require(SchedulerTestTime.date("2025-06-01T\(full)Z"))
    }

    @Test func nothingDue() throws {
        let plan = planner.plan(for: try task("0 * * * *"), lastTick: try at("09:00"), now: try at("09:30"))
        #expect(plan.ticks.isEmpty)
        #expect(plan.lastTick == nil)
        #expect(!plan.missedTicks)
    }

    @Test func oneTickOnTime() throws {
        let plan = planner.plan(for: try task("0 * * * *"), lastTick: try at("09:00"), now: try at("10:00:05"))
        #expect(plan.ticks == [try at("10:00")])
        #expect(plan.lastTick == (try at("10:00")))
        #expect(!plan.missedTicks)
    }

    @Test func severalOnTimeTicksAreAllEnqueuedInOrderAndAreNotMissed() throws {
        let plan = planner.plan(for: try task("* * * * * *"), lastTick: try at("10:00:00"), now: try at("10:00:05.5"))
        #expect(plan.ticks == (try (1...5).map { try at("10:00:0\($0)") }))
        #expect(plan.lastTick == (try at("10:00:05")))
        #expect(!plan.missedTicks)
    }

    @Test func outageWithOnceRunsTheLatestMissedTickOnce() throws {
        let plan = planner.plan(for: try task("0 * * * *", catchUp: .once), lastTick: try at("06:00"), now: try at("09:30"))
        #expect(plan.ticks == [try at("09:00")])
        #expect(plan.lastTick == (try at("09:00")))
        #expect(plan.latestMissedTick == (try at("09:00")))
    }

    @Test func outageWithSkipRunsNothingButMovesPastTheMissedTicks() throws {
        let plan = planner.plan(for: try task("0 * * * *", catchUp: .skip), lastTick: try at("06:00"), now: try at("09:30"))
        #expect(plan.ticks.isEmpty)
        #expect(plan.lastTick == (try at("09:00")))
        #expect(plan.latestMissedTick == (try at("09:00")))
    }

    @Test func outageEndingJustAfterATick() throws {
        // 07:00 and 08:00 were missed; 09:00 is on time (10 s late).
        let once = planner.plan(for: try task("0 * * * *", catchUp: .once), lastTick: try at("06:00"), now: try at("09:00:10"))
        #expect(once.ticks == [try at("09:00")])
        #expect(once.latestMissedTick == (try at("08:00")))
        let skip = planner.plan(for: try task("0 * * * *", catchUp: .skip), lastTick: try at("06:00"), now: try at("09:00:10"))
        #expect(skip.ticks == [try at("09:00")])
        #expect(skip.lastTick == (try at("09:00")))
        #expect(skip.latestMissedTick == (try at("08:00")))
    }

    /// After an outage, a frequent task's on-time ticks are many (12 of a task every 5 s in the 60 s grace period):
    /// `skip` enqueues the latest only, not the burst.
    @Test func outageWithSkipRunsOnlyTheLatestOnTimeTick() throws {
        let skip = planner.plan(for: try task("*/5 * * * * *", catchUp: .skip), lastTick: try at("09:00"), now: try at("09:05:00"))
        #expect(skip.ticks == [try at("09:05")])
        #expect(skip.lastTick == (try at("09:05")))
        #expect(skip.missedTicks)
        let once = planner.plan(for: try task("*/5 * * * * *", catchUp: .once), lastTick: try at("09:00"), now: try at("09:05:00"))
        #expect(once.ticks == [try at("09:05")])
    }

    @Test func aSingleLateTickIsMissed() throws {
        let once = planner.plan(for: try task("0 * * * *", catchUp: .once), lastTick: try at("09:00"), now: try at("10:02"))
        #expect(once.ticks == [try at("10:00")])
        #expect(once.missedTicks)
        let skip = planner.plan(for: try task("0 * * * *", catchUp: .skip), lastTick: try at("09:00"), now: try at("10:02"))
        #expect(skip.ticks.isEmpty)
        #expect(skip.lastTick == (try at("10:00")))
    }

    @Test func graceBoundary() throws {
        let skip = try task("0 * * * *", catchUp: .skip)
        let exactly = planner.plan(for: skip, lastTick: try at("09:00"), now: try at("10:01:00"))
        #expect(exactly.ticks == [try at("10:00")])
        #expect(!exactly.missedTicks)
        let over = planner.plan(for: skip, lastTick: try at("09:00"), now: try at("10:01:00.5"))
        #expect(over.ticks.isEmpty)
        #expect(over.missedTicks)
    }

    @Test func neverRunStartsFromNowWithoutReplayingHistory() throws {
        let hourly = try task("0 * * * *")
        // A tick 30 s ago, within the grace period: still not enqueued on a first start (no downtime to catch up).
        let inGrace = planner.plan(for: hourly, lastTick: nil, now: try at("09:00:30"))
        #expect(inGrace.ticks.isEmpty)
        #expect(inGrace.lastTick == (try at("09:00:29")))
        let onTheTick = planner.plan(for: hourly, lastTick: nil, now: try at("09:00:00.3"))
        #expect(onTheTick.ticks == [try at("09:00")], "a start within the tick's own second runs it")
        #expect(!inGrace.missedTicks)
        let next = planner.plan(for: hourly, lastTick: inGrace.lastTick, now: try at("10:00:00.2"))
        #expect(next.ticks == [try at("10:00")] && !next.missedTicks)
        let later = planner.plan(for: hourly, lastTick: nil, now: try at("09:30:00.7"))
        #expect(later.ticks.isEmpty)
        #expect(later.lastTick == (try at("09:29:59")))
        #expect(!later.missedTicks)
    }

    /// Issue 11: a per-second task's first start enqueued every tick of the last 60 s at once.
    @Test func aFirstStartEnqueuesNoPastTickOfAPerSecondTask() throws {
        for policy in CatchUpPolicy.allCases {
            let everySecond = try task("* * * * * *", catchUp: policy)
            let first = planner.plan(for: everySecond, lastTick: nil, now: try at("09:00:30.5"))
            #expect(first.ticks == [try at("09:00:30")], "only the current second's tick: \(policy)")
            #expect(first.lastTick == (try at("09:00:30")))
            let second = planner.plan(for: everySecond, lastTick: first.lastTick, now: try at("09:00:31.01"))
            #expect(second.ticks == [try at("09:00:31")], "\(policy)")
        }
    }

    @Test func resumesNormallyAfterCatchingUp() throws {
        for policy in CatchUpPolicy.allCases {
            let hourly = try task("0 * * * *", catchUp: policy)
            let catchUp = planner.plan(for: hourly, lastTick: try at("06:00"), now: try at("09:30"))
            let next = planner.plan(for: hourly, lastTick: catchUp.lastTick, now: try at("10:00:01"))
            #expect(next.ticks == [try at("10:00")], "\(policy)")
            #expect(!next.missedTicks)
        }
    }

    /// Another scheduler's clock a moment ahead handled a tick this one has not reached: nothing until it does.
    @Test func aLastTickAheadOfThisClockPlansNothing() throws {
        let plan = planner.plan(for: try task("* * * * *"), lastTick: try at("10:01"), now: try at("10:00:30"))
        #expect(plan.ticks.isEmpty)
        #expect(plan.lastTick == nil)
        #expect(plan.discardedLastTick == nil)
    }

    /// A last tick further ahead than the grace period was written by a clock ahead (a host a year early, before NTP):
    /// planned as a task never run, not as "nothing until then", which stopped the task for as long.
    @Test func aLastTickFarAheadIsNotBelievedAndTheTaskStartsAfresh() throws {
        let ahead = try at("10:05")
        let now = try at("10:00:30")
        let plan = planner.plan(for: try task("* * * * *"), lastTick: ahead, now: now)
        #expect(plan.discardedLastTick == ahead)
        #expect(plan.ticks.isEmpty && plan.lastTick == Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down) - 1))
        let ten = try at("10:00")
        let onTime = planner.plan(for: try task("* * * * *"), lastTick: ahead.addingTimeInterval(365 * 86_400), now: ten)
        #expect(onTime.ticks == [ten], "a tick of the current second runs, as at a first start")
    }

    @Test func longOutageOfAPerSecondTaskIsPlannedWithoutWalkingEveryTick() throws {
        let perSecond = try task("* * * * * *", catchUp: .once)
        let weekAgo = try at("10:00").addingTimeInterval(-7 * 86_400)
        var plan: TickPlan?
        let elapsed = threadCPUTime {  // CPU time: the parallel phase's load does not count
            plan = planner.plan(for: perSecond, lastTick: weekAgo, now: (try? at("10:00:00.5")) ?? Date())
        }
        #expect(plan?.ticks == [try at("10:00")])
        #expect(plan?.latestMissedTick == (try at("09:59:00")))  // 60.5 s late; 09:59:01 on is on time
        #expect(elapsed < .seconds(1))
    }
}
