import Foundation
import HoopoeCore
import Redis
import TestSupport
import Testing

/// `hoopoe worker` refuses a domain setting it cannot use before it touches Redis: exit 78 (EX_CONFIG) and a
/// message naming the variable, never echoing a secret.
@Suite struct WorkerConfigurationTests {
    @Test(arguments: [
        (["SMS_DRY_RUN": "maybe"], "SMS_DRY_RUN"),
        (["HOOPOE_TIME_ZONE": "Asia/Atlantis"], "HOOPOE_TIME_ZONE"),
        (["IPPANEL_API_KEY": "secret-ippanel-key"], "IPPANEL_FROM_NUMBER"),
        (["KAVENEGAR_API_KEY": "secret-kavenegar-key", "KAVENEGAR_BASE_URL": "api.kavenegar.com"], "KAVENEGAR_BASE_URL"),
        // The receipt link is a Kavenegar token: an underscore would fail every expiration reminder with 431.
        (["RECEIPT_BASE_URL": "https://kamva.ir/email_receipt"], "RECEIPT_BASE_URL"),
        (["HOOPOE_EVENTS_MAXLEN": "lots"], "HOOPOE_EVENTS_MAXLEN"),
        (["HOOPOE_EVENTS_MAXLEN": "10"], "HOOPOE_EVENTS_MAXLEN"),
        // Its braces would be read as part of every queue's hash tag: each settle would miss its keys.
        (["HOOPOE_NAMESPACE": "{hoopoe}"], "HOOPOE_NAMESPACE"),
    ])
    func badSettingStopsStartUpNamingTheVariable(environment: [String: String], key: String) async throws {
        let h = try CLIHarness()
        let (status, output) = try await h.run(["worker"], environment: environment, timeout: .seconds(15))
        #expect(status == 78, "\(output)")
        #expect(output.contains(key), "\(output)")
        #expect(!output.contains("secret-"), "no API key in the output: \(output)")
    }

    /// A log level or format the process does not know stops it: before, `LOG_FORMAT=jsn` quietly logged text a log
    /// shipper could not parse, and `LOG_LEVEL=verbose` quietly logged at info.
    @Test(arguments: [["worker"], ["scheduler", "--schedule", "jobs/schedule.yaml"], ["dashboard", "--port", "0"], ["dev", "fake-providers"]])
    func anUnknownLogLevelOrFormatStopsStartUp(command: [String]) async throws {
        let h = try CLIHarness()
        for (key, value) in [("LOG_LEVEL", "verbose"), ("LOG_FORMAT", "jsn")] {
            let (status, output) = try await h.run(command, environment: [key: value], timeout: .seconds(15))
            #expect(status == 78, "\(key)=\(value): \(output)")
            #expect(output.contains("bad configuration: \(key): 'jsn'") || output.contains("bad configuration: \(key): 'verbose'"), "\(output)")
        }
    }

    /// `LOG_LEVEL=warn`, as many tools spell it, is taken: refused, a deployment that set it would not start. (The
    /// dashboard gets past the log setup and stops at the next setting, a bad base path.)
    @Test func warnIsALogLevel() async throws {
        let h = try CLIHarness()
        let (status, output) = try await h.run(["dashboard", "--port", "0"], environment: ["LOG_LEVEL": "warn", "HOOPOE_DASHBOARD_BASE_PATH": "no slash"])
        #expect(status == 78 && output.contains("HOOPOE_DASHBOARD_BASE_PATH") && !output.contains("LOG_LEVEL"), "\(output)")
    }

    /// An unusable Redis URL names where it came from: `REDIS_URL` is a bad setting (exit 78, as every other),
    /// `--redis-url` a usage error (64). Every command alike; the password is never printed.
    @Test(arguments: [["worker"], ["scheduler"], ["ping"], ["enqueue", "diag.record"], ["queues"]])
    func anUnusableRedisURLNamesItsSource(command: [String]) async throws {
        let h = try CLIHarness()
        let bad = "redis://:secret-pw@127.0.0.1:6379/abc"
        let fromEnvironment = try await h.run(command, environment: ["REDIS_URL": bad], timeout: .seconds(15))
        #expect(fromEnvironment.status == 78, "\(fromEnvironment.output)")
        #expect(fromEnvironment.output.contains("bad configuration: REDIS_URL:") && fromEnvironment.output.contains("database 'abc'"), "\(fromEnvironment.output)")
        let fromFlag = try await h.run(command + ["--redis-url", bad], timeout: .seconds(15))
        #expect(fromFlag.status == 64, "\(fromFlag.output)")
        #expect(fromFlag.output.contains("--redis-url:") && !fromFlag.output.contains("REDIS_URL:"), "\(fromFlag.output)")
        #expect(!(fromEnvironment.output + fromFlag.output).contains("secret-pw"))
    }

    /// Issue 11: a number of seconds becomes a `Duration` through `Int`; 1e300 or inf trapped. Refused as a usage
    /// error (64) naming the flag.
    @Test(arguments: [
        (["--lease", "1e300"], "--lease"), (["--lease", "inf"], "--lease"), (["--lease", "nan"], "--lease"),
        (["--shutdown-timeout", "1e300"], "--shutdown-timeout"), (["--shutdown-timeout", "-1"], "--shutdown-timeout"),
    ])
    func outOfRangeSecondsAreAUsageErrorNamingTheFlag(arguments: [String], flag: String) async throws {
        let h = try CLIHarness()
        let (status, output) = try await h.run(["worker"] + arguments, timeout: .seconds(15))
        #expect(status == 64, "\(output)")
        #expect(output.contains(flag), "\(output)")
    }

    /// Counts past what the worker can hold (a hand-back's `unpack` in Lua, the weights' sum) and a namespace with
    /// braces given as a flag: usage errors naming the flag.
    @Test(arguments: [
        (["--concurrency", "1001"], "--concurrency must be 1 to 1000"), (["--concurrency", "0"], "--concurrency"),
        (["--queues", "a:9223372036854775807,b:1"], "from 1 to 1000"), (["--namespace", "{x}"], "--namespace: '{x}' holds a brace"),
        (["--namespace", "a b"], "--namespace: 'a b' holds a space"),
    ])
    func outOfRangeCountsAreAUsageErrorNamingTheFlag(arguments: [String], message: String) async throws {
        let h = try CLIHarness()
        let (status, output) = try await h.run(["worker"] + arguments, timeout: .seconds(15))
        #expect(status == 64, "\(output)")
        #expect(output.contains(message), "\(output)")
    }

    @Test func aHugeDurationIsAUsageErrorNamingTheOption() async throws {
        let h = try CLIHarness()
        let (status, output) = try await h.run(["health-check", "--max-latency", "1e300d"])
        #expect(status == 64, "\(output)")
        #expect(output.contains("--max-latency '1e300d' is not a duration"), "\(output)")
    }

    /// HOOPOE_EVENTS_MAXLEN caps the engine's events too (`job.dead`), not only the domain jobs': a stream of 1,000
    /// events is trimmed to about 100 when the worker buries one malformed job (the default would keep all 1,001).
    @Test func eventsMaxLengthCapsTheEnginesEvents() async throws {
        let h = try CLIHarness()
        let events = h.jobs.global.events
        _ = try await h.redis.pipeline((0..<1_000).map { _ in RedisCommand("XADD", events, "*", "type", "filler") })
        let worker = try await h.startWorker([], environment: ["HOOPOE_EVENTS_MAXLEN": "100"])
        defer { worker.signal(SIGKILL) }
        try await h.redis.send("XADD", h.jobs.keys("default").stream, "*", "job", "not json")
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").dead == 1 }, "\(worker.output)")
        let length = try await h.redis.send("XLEN", events).int ?? 0
        // MAXLEN ~ trims whole nodes of the stream (100 entries each by default): about 100, never the 1,001.
        #expect(length <= 200, "\(length) events kept")
    }
}
