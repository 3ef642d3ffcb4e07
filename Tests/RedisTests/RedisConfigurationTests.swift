import Redis
import Testing

@Suite struct RedisConfigurationTests {
    @Test func tcpURLWithUserPasswordAndDatabase() throws {
        let c = try RedisConfiguration(url: "redis://app:p%40ss%3Aword@redis.internal:6380/4")
        #expect(c.endpoint == .tcp(host: "redis.internal", port: 6380))
        #expect(c.username == "app")
        #expect(c.password == "p@ss:word")
        #expect(c.database == 4)
        #expect(c.redactedURL == "redis://app:***@redis.internal:6380/4")
    }

    @Test func defaultsAndPasswordOnly() throws {
        let plain = try RedisConfiguration(url: "redis://localhost")
        #expect(plain.endpoint == .tcp(host: "localhost", port: 6379))
        #expect(plain.database == 0 && plain.username == nil && plain.password == nil)
        let passwordOnly = try RedisConfiguration(url: "redis://:secret@127.0.0.1:7000/1")
        #expect(passwordOnly.username == nil && passwordOnly.password == "secret")
        #expect(passwordOnly.redactedURL == "redis://:***@127.0.0.1:7000/1")
        let ipv6 = try RedisConfiguration(url: "redis://[::1]:6390/0")
        #expect(ipv6.endpoint == .tcp(host: "::1", port: 6390))
    }

    @Test func unixSocketURL() throws {
        let c = try RedisConfiguration(url: "unix:///run/redis/redis.sock?db=2&timeout=1.5")
        #expect(c.endpoint == .unix(path: "/run/redis/redis.sock"))
        #expect(c.database == 2)
        #expect(c.commandTimeout == .milliseconds(1500))
    }

    @Test(arguments: [
        ("http://localhost", "unknown scheme"),
        ("rediss://localhost:6380", "TLS"),
        ("redis://localhost:notaport", "port"),
        ("redis://localhost:6379/x", "database"),
        ("unix://relative.sock", "absolute path"),
        ("localhost:6379", "expected redis://"),
    ])
    func invalidURLsSayWhatIsWrong(url: String, reason: String) {
        #expect {
            try RedisConfiguration(url: url)
        } throws: { error in
            let error = error as? RedisError
            return error?.code == .invalidURL && error?.message.contains(reason) == true
        }
    }

    @Test func invalidURLErrorNeverEchoesThePassword() {
        #expect {
            try RedisConfiguration(url: "redis://u:topsecret@host:badport/0")
        } throws: { error in
            "\(error)".contains("topsecret") == false && "\(error)".contains("u:***@host")
        }
    }

    /// The usual form has no user (`redis://:password@host`): the password is not taken for one.
    @Test(arguments: ["redis://:topsecret@host:6379/abc", "redis://:topsecret@host:badport/0", "redis://topsecret@host/x"])
    func invalidURLWithoutAUserNeverEchoesThePassword(url: String) {
        #expect {
            try RedisConfiguration(url: url)
        } throws: { error in
            "\(error)".contains("topsecret") == false && "\(error)".contains("***@host")
        }
    }
}
