import Testing

/// The Redis settings beyond the URL's host (TLS files, durable writes, the Sentinel and Cluster forms) stop every
/// command with exit 78 naming the setting, and never print a password.
@Suite struct RedisSettingsTests {
    @Test(arguments: [["worker"], ["ping"], ["enqueue", "diag.record"], ["queues"]])
    func aTLSFileWithoutTLSIsABadSettingNamed(command: [String]) async throws {
        let h = try CLIHarness()
        let result = try await h.run(command, environment: ["REDIS_TLS_CA": "/etc/ssl/certs/ca-certificates.crt"], timeout: .seconds(15))
        #expect(result.status == 78, "\(result.output)")
        #expect(result.output.contains("bad configuration: REDIS_TLS_CA: is set, but the Redis URL does not use TLS"), "\(result.output)")
    }

    /// A TLS file that can be read but not used (here a directory) stops the command with exit 78 naming its setting,
    /// before any connection: it was "unreachable" (exit 2), which an orchestrator retries for ever.
    @Test func aTLSFileOpenSSLCannotUseIsExit78NamingIt() async throws {
        let h = try CLIHarness()
        let result = try await h.run(["ping"], environment: ["REDIS_URL": "rediss://127.0.0.1:1/0", "REDIS_TLS_CA": "/etc"], timeout: .seconds(15))
        #expect(result.status == 78, "\(result.output)")
        #expect(result.output.contains("bad configuration: REDIS_TLS_CA: TLS: cannot load the CA file '/etc'"), "\(result.output)")
    }

    @Test(arguments: [
        ("redis-sentinel://:secret-pw@127.0.0.1:26379/0", "master= is missing"),
        ("redis-cluster://:secret-pw@127.0.0.1:7000/2", "only database 0"),
        ("rediss://:secret-pw@127.0.0.1:6380/0?ca=/nonexistent/ca.pem", "ca= in the Redis URL: cannot read '/nonexistent/ca.pem'"),
        ("redis://:secret-pw@127.0.0.1/0?tls_ca=/x", "unknown option 'tls_ca'"),
    ])
    func aBadURLOfAnyFormIsExit78NamingThePart(url: String, part: String) async throws {
        let h = try CLIHarness()
        let result = try await h.run(["ping"], environment: ["REDIS_URL": url], timeout: .seconds(15))
        #expect(result.status == 78, "\(result.output)")
        #expect(result.output.contains(part), "\(result.output)")
        #expect(!result.output.contains("secret-pw"), "\(result.output)")
    }

    /// A malformed URL never prints its password (an outside review saw each of these print `paW0RD`): from
    /// `REDIS_URL` it stops `hoopoe worker` with exit 78 naming the variable; from `--redis-url` it is a usage error (64).
    @Test(arguments: [
        "redis:/u:paW0RD@127.0.0.1:7602/0", "redis//u:paW0RD@127.0.0.1:7602/0", "rediss//:paW0RD@127.0.0.1:7602/0",
        "redis://127.0.0.1:7602/0&password=paW0RD", "redis://127.0.0.1:7602/0?pass=paW0RD", "redis://127.0.0.1:7602/0?passwd=paW0RD",
        "redis://127.0.0.1:7602/0?auth=paW0RD",
    ])
    func aMalformedURLNeverPrintsItsPassword(url: String) async throws {
        let h = try CLIHarness()
        let worker = try await h.run(["worker"], environment: ["REDIS_URL": url], timeout: .seconds(15))
        #expect(worker.status == 78, "\(worker.output)")
        #expect(worker.output.contains("bad configuration: REDIS_URL: Redis "), "\(worker.output)")
        #expect(!worker.output.contains("paW0RD"), "\(worker.output)")
        let ping = try await h.run(["ping", "--redis-url", url], timeout: .seconds(15))
        #expect(ping.status == 64, "\(ping.output)")
        #expect(ping.output.contains("--redis-url: Redis "), "\(ping.output)")
        #expect(!ping.output.contains("paW0RD"), "\(ping.output)")
    }

    @Test func aBadWaitSettingIsExit78() async throws {
        let h = try CLIHarness()
        let result = try await h.run(["worker"], environment: ["REDIS_WAIT_REPLICAS": "all"], timeout: .seconds(15))
        #expect(result.status == 78, "\(result.output)")
        #expect(result.output.contains("bad configuration: REDIS_WAIT_REPLICAS: 'all' is not a number of replicas"), "\(result.output)")
    }
}
