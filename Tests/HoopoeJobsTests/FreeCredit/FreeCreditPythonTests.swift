import Foundation
import HoopoeJobs
import Redis
import Testing
import TestSupport

/// The Python examples services copy (jobs/examples/freecredit_request.py, gift_wheel.py, persian_month.py) against
/// the real worker and the Swift side: same keys, same months, same answers.
@Suite("Free credit and gifts: the Python examples")
struct FreeCreditPythonTests {
    static let noon = FreeCreditLimiterTests.noon

    /// Whether python3 has the redis package and the Tehran zone. scripts/install-deps.sh installs both (CI runs it),
    /// so a machine without them fails these tests rather than skipping them unseen.
    static let hasPython = ChildProcessProbe.python("import redis, zoneinfo; zoneinfo.ZoneInfo('Asia/Tehran')")

    static let pythonMissing: Comment = "python3 with the redis package and zoneinfo's Asia/Tehran (tzdata) is needed: run scripts/install-deps.sh"

    private func python(_ script: String, _ arguments: [String], _ h: DomainHarness, environment: [String: String] = [:]) async throws -> (Int32, String) {
        let path = BuiltProducts.projectRoot.appendingPathComponent("jobs/examples/\(script)").path
        let child = try ChildProcess("/usr/bin/env", ["python3", path] + arguments,
                                     environment: ["REDIS_URL": try TestRedis.url(), "HOOPOE_NAMESPACE": h.namespace].merging(environment) { $1 })
        guard let status = await child.wait(timeout: .seconds(120)) else { throw TestSupportError("python did not finish: \(child.output)") }
        return (status, child.output)
    }

    @Test("freecredit_request.py enqueues, waits for the worker's answer, and gets the cooldown the next time")
    func enqueueAndWait() async throws {
        try #require(Self.hasPython, Self.pythonMissing)
        let h = try await DomainHarness()
        try await h.setClock(Self.noon)
        let worker = try await h.startWorker()
        defer { worker.signal(SIGTERM) }
        let (status, output) = try await python("freecredit_request.py", ["176", "--amount", "93", "--request-id", "py-1", "--timeout", "30"], h)
        #expect(status == 0, "\(output)")
        let answer = try JSONDecoder().decode(FreeCreditAnswer.self, from: Data(output.utf8))
        #expect(answer.isGranted && answer.amount == 93 && answer.requestID == "py-1" && answer.userID == "176")
        let (again, second) = try await python("freecredit_request.py", ["176", "--request-id", "py-2", "--timeout", "30"], h)
        #expect(again == 2, "\(second)")
        let rejected = try JSONDecoder().decode(FreeCreditAnswer.self, from: Data(second.utf8))
        #expect(rejected.reason == "cooldown" && rejected.retryAfter == 120)
        #expect(try await h.events("freecredit.granted").count == 1)
        worker.signal(SIGTERM)
        #expect(await worker.wait(timeout: .seconds(30)) == 0, "\(worker.output)")
    }

    /// A request id decided for another user: the stored answer is that user's, and neither path hands it out.
    @Test("freecredit_request.py refuses a request id another user's request was decided under (exit 4), both ways")
    func requestIDOfAnotherUser() async throws {
        try #require(Self.hasPython, Self.pythonMissing)
        let h = try await DomainHarness()
        try await h.setClock(Self.noon)
        let (status, output) = try await python("freecredit_request.py", ["--direct", "176", "--request-id", "shared-1"], h)
        #expect(status == 0, "\(output)")
        for arguments in [["--direct", "177", "--request-id", "shared-1"], ["177", "--request-id", "shared-1", "--timeout", "5"]] {
            let (refused, text) = try await python("freecredit_request.py", arguments, h)
            #expect(refused == 4 && text.contains("\"status\": \"refused\"") && text.contains("decided for another user"), "\(arguments): \(text)")
        }
    }

    @Test("freecredit_request.py asked again with the same request id answers at once, worker or not (not after its timeout)")
    func repeatedRequestID() async throws {
        try #require(Self.hasPython, Self.pythonMissing)
        let h = try await DomainHarness()
        try await h.setClock(Self.noon)
        let worker = try await h.startWorker()
        let (status, output) = try await python("freecredit_request.py", ["176", "--amount", "40", "--request-id", "twice", "--timeout", "60"], h)
        #expect(status == 0, "\(output)")
        // The answer was pushed once and taken by the first call. The second must not wait the 60 s for a push.
        let started = ContinuousClock.now
        let (again, second) = try await python("freecredit_request.py", ["176", "--amount", "40", "--request-id", "twice", "--timeout", "60"], h)
        #expect(again == 0 && second == output, "\(second)")
        #expect(ContinuousClock.now - started < .seconds(30), "the repeated id waited for its timeout")
        worker.signal(SIGTERM)
        #expect(await worker.wait(timeout: .seconds(30)) == 0, "\(worker.output)")
        // Without a worker the stored answer still comes back.
        let (third, text) = try await python("freecredit_request.py", ["176", "--request-id", "twice", "--timeout", "60"], h)
        #expect(third == 0 && text == output, "\(text)")
        #expect(try await h.events("freecredit.granted").count == 1)
    }

    @Test("freecredit_request.py without a worker times out within its bound and says so")
    func boundedWait() async throws {
        try #require(Self.hasPython, Self.pythonMissing)
        let h = try await DomainHarness()
        let started = ContinuousClock.now
        let (status, output) = try await python("freecredit_request.py", ["1", "--request-id", "lonely", "--timeout", "1"], h)
        #expect(status == 3 && output.contains(#"{"request_id": "lonely", "status": "timeout"}"#), "\(output)")
        #expect(ContinuousClock.now - started < .seconds(30))
    }

    @Test("--direct shares the limiter with the worker's script: a Python grant puts Swift in cooldown")
    func directCall() async throws {
        try #require(Self.hasPython, Self.pythonMissing)
        let h = try await DomainHarness()
        let (status, output) = try await python("freecredit_request.py", ["--direct", "9", "--request-id", "d-1", "--now", "1733121000"], h)
        #expect(status == 0, "\(output)")
        let limiter = FreeCreditLimiter(services: try h.services())
        let swift = try await limiter.request(userID: "9", requestID: "d-2", amount: nil, now: Self.noon.addingTimeInterval(20)).answer
        #expect(swift.reason == "cooldown" && swift.retryAfter == 100)
        // And the month key is the same one: with the cap reached in Swift, Python sees monthly_limit.
        let (capped, text) = try await python("freecredit_request.py", ["--direct", "9", "--request-id", "d-3", "--now", "1733121300"], h,
                                              environment: ["FREECREDIT_MONTHLY_CAP": "1"])
        #expect(capped == 2 && text.contains("monthly_limit"), "\(text)")
    }

    /// Without `--now`, the direct call decides by Redis's clock, as the workers do: by its host's, a service whose clock
    /// ran behind the workers' by more than the cooldown granted again right after a worker's grant.
    @Test("--direct without --now decides by Redis's clock, not its host's")
    func directCallByRedisClock() async throws {
        try #require(Self.hasPython, Self.pythonMissing)
        #expect(FileManager.default.fileExists(atPath: FakeClock.library), "libfaketime is missing: scripts/install-deps.sh installs it")
        let h = try await DomainHarness()
        let offset = try await FakeClock.aheadOffset(preferred: 7_200, atLeast: 180)
        let (status, output) = try await python("freecredit_request.py", ["--direct", "11", "--request-id", "d-clock"], h, environment: FakeClock.environment(offset: offset))
        #expect(status == 0, "\(output)")
        let redisNow = Double(try await h.redis.send("TIME").array?.first?.string ?? "") ?? 0
        let answer = try JSONDecoder().decode(FreeCreditAnswer.self, from: Data(try #require(try await h.redis.send("GET", "\(h.namespace):{freecredit}:result:d-clock").bytes)))
        #expect(abs(answer.at - redisNow) < 60, "decided at \(answer.at), Redis's clock \(redisNow)")
    }

    @Test("gift_wheel.py counts in the same sorted set as gift.granted and agrees on retry_after")
    func giftWheel() async throws {
        try #require(Self.hasPython, Self.pythonMissing)
        let h = try await DomainHarness()
        let (status, output) = try await python("gift_wheel.py", ["5", "--record", "w-1", "--now", "1733121000"], h)
        #expect(status == 0 && output.contains("\"recorded\""), "\(output)")
        let verdict = try await GiftWheel(services: try h.services()).check(userID: "5", now: Self.noon.addingTimeInterval(60))
        #expect(verdict.kind == .dailyLimit && verdict.retryAfter == 86_341)
        let (refused, text) = try await python("gift_wheel.py", ["5", "--now", "1733121060"], h)
        #expect(refused == 2 && text.contains("\"retry_after\": 86341"), "\(text)")
    }

    @Test("persian_month.py agrees with the Swift Persian calendar on every month start and end, 1395-1420")
    func persianMonthsAgree() async throws {
        try #require(Self.hasPython, Self.pythonMissing)
        // One instant in the middle of every Persian month, from the Swift side.
        var instants: [Date] = []
        var date = Date(timeIntervalSince1970: 1_458_000_000)  // 15 Mar 2016 (Esfand 1394)
        let calendar = LocalCalendar.tehran
        while date < Date(timeIntervalSince1970: 2_500_000_000) {
            let month = MonthCalendar.persian.month(of: date, in: calendar)
            instants.append(month.start.addingTimeInterval(10 * 86_400))
            instants.append(month.end.addingTimeInterval(-1))
            date = month.end.addingTimeInterval(1)
        }
        let path = BuiltProducts.projectRoot.appendingPathComponent("jobs/examples/persian_month.py").path
        let child = try ChildProcess("/usr/bin/env", ["python3", path, "persian"] + instants.map { String(Int($0.timeIntervalSince1970)) })
        #expect(await child.wait(timeout: .seconds(60)) == 0, "\(child.output)")
        let rows = try JSONDecoder().decode([[JSONScalar]].self, from: Data(child.output.utf8))
        #expect(rows.count == instants.count)
        for (row, instant) in zip(rows, instants) {
            let month = MonthCalendar.persian.month(of: instant, in: calendar)
            #expect(row == [.text(month.label), .number(Int(month.start.timeIntervalSince1970)), .number(Int(month.end.timeIntervalSince1970))])
        }
    }
}

/// A string or a whole number in a JSON array.
enum JSONScalar: Decodable, Equatable {
    case text(String)
    case number(Int)

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Int.self) { self = .number(value) } else { self = .text(try container.decode(String.self)) }
    }
}
