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
        ("redis://h:6379/0?ca=/tmp/ca.pem", "TLS option"),
        ("unix:///tmp/r.sock?insecure=true", "TLS option"),
        ("redis://h:6379/0?tiemout=2", "unknown option 'tiemout'"),
        ("redis://h1:6379,h2:6379/0", "takes one host"),
        ("rediss://h:6380/0?insecure=maybe", "insecure='maybe'"),
        ("rediss://h:6380/0?ca=", "ca= is empty"),
        ("rediss://h:6380/0?server_name=", "server_name= is empty"),
        ("redis://[::1:6379/0", "closing ]"),
        ("redis://[::1]x/0", "after host"),
        ("redis-sentinel://h1:26379,h2:26379/0", "master= is missing"),
        ("redis-sentinel://h1:26379,,h2/0?master=m", "empty host"),
        ("redis-sentinel://h1:265379/0?master=m", "port '265379' of host 'h1'"),
        ("redis-sentinel://h1/0?master=m&tls=sure", "tls='sure'"),
        ("redis-sentinel://h1/0?master=m&ca=/x", "TLS option"),
        ("redis-cluster://h1:7000,h2:7001/3", "only database 0"),
        ("redis-cluster://:7000", "no host"),
        ("redis-cluster://h1:7000?master=m", "unknown option 'master'"),
        ("rediss-cluster://h1:x", "port 'x'"),
        ("redis://h/0?wait_replicas=-1", "wait_replicas '-1'"),
        ("redis://h/0?wait_timeout_ms=0", "wait_timeout_ms '0'"),
        ("redis://h/0?timeout=abc", "timeout 'abc'"),
        // Rounded to 0 ms, a timeout the socket would take for none at all.
        ("redis://h/0?timeout=0.0004", "timeout '0.0004' is not seconds from 0.001"),
        // A WAIT of 2^63 ms trapped converting it back to an Int.
        ("redis://h/0?wait_replicas=1&wait_timeout_ms=9223372036854775807", "wait_timeout_ms '9223372036854775807' is not milliseconds from 1 to 3600000"),
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

    @Test func tlsURLWithFilesAndServerName() throws {
        let c = try RedisConfiguration(url: "rediss://app:pw@redis.example.com:6380/2?ca=/etc/ca.pem&cert=/etc/c.pem&key=/etc/k.pem&server_name=r.internal")
        #expect(c.endpoint == .tcp(host: "redis.example.com", port: 6380))
        #expect(c.topology == .standalone)
        #expect(c.tls == RedisTLS(caFile: "/etc/ca.pem", certificateFile: "/etc/c.pem", keyFile: "/etc/k.pem", serverName: "r.internal"))
        #expect(c.database == 2 && c.password == "pw")
        #expect(c.redactedURL == "rediss://app:***@redis.example.com:6380/2?ca=/etc/ca.pem&cert=/etc/c.pem&key=/etc/k.pem&server_name=r.internal")
        let bare = try RedisConfiguration(url: "rediss://redis.example.com")
        #expect(bare.tls == RedisTLS() && bare.endpoint == .tcp(host: "redis.example.com", port: 6379))
        let insecure = try RedisConfiguration(url: "rediss://h?insecure=true")
        #expect(insecure.tls?.insecure == true && insecure.redactedURL == "rediss://h:6379/0?insecure=true")
        #expect(try RedisConfiguration(url: "redis://h").tls == nil)
    }

    @Test func sentinelURL() throws {
        let c = try RedisConfiguration(
            url: "redis-sentinel://app:data-pw@s1:26379,[::1]:26380,s3/3?master=mymaster&sentinel_user=watch&sentinel_password=s%26pw&tls=true&ca=/ca.pem")
        let sentinels: [RedisConfiguration.Endpoint] = [.tcp(host: "s1", port: 26379), .tcp(host: "::1", port: 26380), .tcp(host: "s3", port: 26379)]
        let tls = RedisTLS(caFile: "/ca.pem")
        #expect(c.topology == .sentinel(RedisSentinelSettings(sentinels: sentinels, masterName: "mymaster", username: "watch", password: "s&pw", tls: tls)))
        #expect(c.tls == tls)
        #expect(c.username == "app" && c.password == "data-pw" && c.database == 3)
        #expect(c.endpoint == sentinels[0])
        #expect(c.redactedURL == "redis-sentinel://app:***@s1:26379,[::1]:26380,s3:26379/3?master=mymaster&sentinel_user=watch&sentinel_password=***&tls=true&ca=/ca.pem")
        let plain = try RedisConfiguration(url: "redis-sentinel://s1/0?master=m&tls=true&sentinel_tls=false")
        guard case .sentinel(let settings) = plain.topology else { Issue.record("not sentinel"); return }
        #expect(plain.tls == RedisTLS() && settings.tls == nil)
        #expect(plain.redactedURL == "redis-sentinel://s1:26379/0?master=m&tls=true&sentinel_tls=false")
    }

    @Test func clusterURLs() throws {
        let c = try RedisConfiguration(url: "redis-cluster://:pw@n1:7000,n2:7001,n3")
        let seeds: [RedisConfiguration.Endpoint] = [.tcp(host: "n1", port: 7000), .tcp(host: "n2", port: 7001), .tcp(host: "n3", port: 6379)]
        #expect(c.topology == .cluster(seeds: seeds) && c.tls == nil && c.database == 0 && c.password == "pw")
        #expect(c.redactedURL == "redis-cluster://:***@n1:7000,n2:7001,n3:6379")
        let tls = try RedisConfiguration(url: "rediss-cluster://n1:7000/0?ca=/ca.pem")
        #expect(tls.topology == .cluster(seeds: [.tcp(host: "n1", port: 7000)]) && tls.tls == RedisTLS(caFile: "/ca.pem"))
        #expect(tls.redactedURL == "rediss-cluster://n1:7000?ca=/ca.pem")
        let flag = try RedisConfiguration(url: "redis-cluster://n1:7000?tls=true")
        #expect(flag.tls == RedisTLS())
    }

    @Test func durableWriteOptions() throws {
        let c = try RedisConfiguration(url: "redis://h/0?wait_replicas=2&wait_timeout_ms=250")
        #expect(c.waitReplicas == 2 && c.waitTimeout == .milliseconds(250))
        #expect(c.redactedURL == "redis://h:6379/0?wait_replicas=2&wait_timeout_ms=250")
        let off = try RedisConfiguration(url: "redis://h")
        #expect(off.waitReplicas == 0 && off.waitTimeout == .seconds(1))
    }

    /// `server_name=` is the data nodes' name (the sentinels announce them by address); the sentinel links keep the
    /// CA and client files but are checked against the sentinels' own names in the URL.
    @Test func serverNameIsTheDataNodesNotTheSentinels() throws {
        let c = try RedisConfiguration(url: "redis-sentinel://s1:26379/0?master=m&tls=true&ca=/ca.pem&server_name=redis.internal")
        #expect(c.tls?.serverName == "redis.internal")
        guard case .sentinel(let settings) = c.topology else { Issue.record("not sentinel"); return }
        #expect(settings.tls?.caFile == "/ca.pem" && settings.tls?.serverName == nil)
    }

    /// What `redactedURL` prints is a URL that means the same (the passwords aside): an operator can copy it.
    @Test(arguments: [
        "redis://h:6380/4", "rediss://h:6380/1?ca=/ca.pem&insecure=true", "unix:///run/r.sock?db=3&user=app",
        "redis-sentinel://s1:26379,s2:26380/2?master=m&sentinel_user=w&tls=true&server_name=redis.internal",
        "redis-cluster://n1:7000,n2:7001", "rediss-cluster://n1:7000?cert=/c.pem&key=/k.pem", "redis://[::1]:6390/0?wait_replicas=1&wait_timeout_ms=500",
    ])
    func redactedURLParsesBackToTheSameConfiguration(url: String) throws {
        let c = try RedisConfiguration(url: url)
        #expect(try RedisConfiguration(url: c.redactedURL) == c)
        #expect(c.redactedURL == url)
    }

    /// No form prints a password: not the data nodes', not the sentinels', not one in a unix URL's query.
    @Test(arguments: [
        "redis://u:topsecret@h/0", "rediss://:topsecret@h/0?ca=/ca.pem", "unix:///r.sock?password=topsecret",
        "redis-sentinel://:topsecret@s1/0?master=m&sentinel_password=topsecret", "redis-cluster://u:topsecret@n1:7000,n2:7001",
        "rediss-cluster://topsecret@n1:7000",
    ])
    func redactedURLNeverPrintsAPassword(url: String) throws {
        let c = try RedisConfiguration(url: url)
        #expect(!c.redactedURL.contains("topsecret") && c.redactedURL.contains("***"), "\(c.redactedURL)")
    }

    /// A URL that fails to parse is echoed without any of its passwords.
    @Test(arguments: [
        "redis-sentinel://:topsecret@s1/0?sentinel_password=topsecret2&master=m&tls=bad",
        "redis-sentinel://s1/0?sentinel_password=topsecret2&password=topsecret&master=",
        "unix:///r.sock?password=topsecret&db=x", "rediss-cluster://u:topsecret@n1:7000/4",
    ])
    func invalidURLNeverEchoesAnyPassword(url: String) {
        #expect {
            try RedisConfiguration(url: url)
        } throws: { error in
            !"\(error)".contains("topsecret") && "\(error)".contains("***")
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

    /// A raw `?` in the password ends the authority where the URL's query starts: every part the parser would then
    /// name (a port, an option) is a piece of the password. The error says what to encode and quotes none of it.
    @Test(arguments: ["redis://:top?secret@host:6379/0", "redis://u:top?secret@host/0", "rediss://:top?secret@host:6380", "redis-sentinel://:top?secret@h1:26379/0?master=m"])
    func aRawQuestionMarkInThePasswordIsNeverEchoed(url: String) {
        #expect {
            try RedisConfiguration(url: url)
        } throws: { error in
            let text = "\(error)"
            return !text.contains("top") && !text.contains("secret") && text.contains("percent-encode") && text.contains("***@h")
        }
    }

    /// A password with a raw `?` or `&` that the parser splits into other parts (a port, an option's name): no piece
    /// of it is echoed, in the URL or in the message, however the rest of the URL reads.
    @Test(arguments: [
        "redis://:top?sec=ret@host:6379/0", "redis://u:top?timeout=1@host/0", "unix:///r.sock?password=top&sec",
        "unix:///r.sock?db=1&password=top&sec=ret", "redis-sentinel://s1/0?master=m&sentinel_password=top&sec&tls=true",
        "redis-sentinel://:top&sec@s1/0?master=m&tls=maybe",
    ])
    func aPasswordSplitByTheParserIsNeverEchoed(url: String) {
        #expect {
            try RedisConfiguration(url: url)
        } throws: { error in
            let text = "\(error)"
            return !text.contains("top") && !text.contains("sec") && !text.contains("ret") && text.contains("***")
        }
    }

    /// A URL malformed where the parser does not expect it never shows its password, and the error still says what
    /// is wrong: credentials after a scheme missing a slash or a colon (`redis:/`, `redis//`), a password option
    /// outside the query (`/0&password=`), a password under a name the parser does not know (`pass`, `passwd`,
    /// `auth`, `pwd`), any unknown option's value (an outside review saw each print `paW0RD`), a password written in the
    /// query without a name.
    @Test(arguments: [
        ("redis:/u:paW0RD@127.0.0.1:7602/0", "expected redis://", "redis:/u:***@127.0.0.1:7602/0"),
        ("redis//u:paW0RD@127.0.0.1:7602/0", "expected redis://", "redis//u:***@127.0.0.1:7602/0"),
        ("rediss//:paW0RD@127.0.0.1:7602/0", "expected redis://", "rediss//:***@127.0.0.1:7602/0"),
        ("redis:u:paW0RD@127.0.0.1:7602/0", "expected redis://", "redis:u:***@127.0.0.1:7602/0"),
        ("paW0RD@127.0.0.1:7602/0", "expected redis://", "***@127.0.0.1:7602/0"),
        ("redis://127.0.0.1:7602/0&password=paW0RD", "database '0&password=***' is not a number", "redis://127.0.0.1:7602/0&password=***"),
        ("redis://127.0.0.1:7602/0/password=paW0RD", "database '0/password=***' is not a number", "redis://127.0.0.1:7602/0/password=***"),
        ("redis://127.0.0.1:7602/0?pass=paW0RD", "unknown option 'pass'", "redis://127.0.0.1:7602/0?pass=***"),
        ("redis://127.0.0.1:7602/0?passwd=paW0RD", "unknown option 'passwd'", "redis://127.0.0.1:7602/0?passwd=***"),
        ("redis://127.0.0.1:7602/0?auth=paW0RD", "unknown option 'auth'", "redis://127.0.0.1:7602/0?auth=***"),
        ("redis://127.0.0.1:7602/0?timeout=1&pwd=paW0RD", "unknown option 'pwd'", "redis://127.0.0.1:7602/0?timeout=1&pwd=***"),
        ("redis://127.0.0.1:7602/0?PASSWORD=paW0RD", "unknown option 'PASSWORD'", "redis://127.0.0.1:7602/0?PASSWORD=***"),
        ("redis://127.0.0.1:7602/0?tiemout=paW0RD", "unknown option 'tiemout'", "redis://127.0.0.1:7602/0?tiemout=***"),
        ("redis-cluster://127.0.0.1:7000?password=paW0RD&x", "unknown option 'password'", "redis-cluster://127.0.0.1:7000?password=***"),
        ("rediss://h:6380/0?ca=/ca.pem&auth=paW0RD&cert=/c.pem", "unknown option 'auth'", "rediss://h:6380/0?ca=/ca.pem&auth=***&cert=/c.pem"),
        // A password written where an option goes, without a name (session 44: it was echoed as an option's name).
        ("redis://127.0.0.1:7602/0?paW0RD", "a part of the query is not an option", "redis://127.0.0.1:7602/0?***"),
        ("redis://127.0.0.1:7602/0?timeout=1&paW0RD", "a part of the query is not an option", "redis://127.0.0.1:7602/0?timeout=1&***"),
        ("redis://127.0.0.1:7602/0?paW0RD&timeout=1", "a part of the query is not an option", "redis://127.0.0.1:7602/0?***&timeout=1"),
        ("redis-sentinel://127.0.0.1:26379/0?master=m&paW0RD", "a part of the query is not an option", "redis-sentinel://127.0.0.1:26379/0?master=m&***"),
        ("redis://127.0.0.1:7602/0?pa/W0RD", "a part of the query is not an option", "redis://127.0.0.1:7602/0?***"),
        ("redis://127.0.0.1:7602/0?pa;W0RD&timeout=1", "a part of the query is not an option", "redis://127.0.0.1:7602/0?***&timeout=1"),
        ("redis://127.0.0.1:7602/0?db/W0RD", "a part of the query is not an option", "redis://127.0.0.1:7602/0?***"),
        ("redis://127.0.0.1:7602/0?master;W0RD&timeout=1", "a part of the query is not an option", "redis://127.0.0.1:7602/0?***&timeout=1"),
        ("unix:///tmp/r.sock?password;S3cret", "a part of the query is not an option", "unix:///tmp/r.sock?***"),
        // A bare part beside an option's bare name: the part is what the message is about, and neither is quoted.
        ("redis://127.0.0.1:7602/0?pw&master", "a part of the query is not an option", "redis://127.0.0.1:7602/0?***"),
        // An option's name without its value is named as before: it is not a password.
        ("redis://127.0.0.1:7602/0?master", "unknown option 'master'", "redis://127.0.0.1:7602/0?master"),
    ])
    func aMalformedURLNeverEchoesAPasswordAndSaysWhatIsWrong(url: String, reason: String, shown: String) {
        #expect {
            try RedisConfiguration(url: url)
        } throws: { error in
            let error = error as? RedisError
            let text = error.map { "\($0)" } ?? ""
            return error?.code == .invalidURL && !text.contains("paW0RD") && error?.message.contains(reason) == true && error?.endpoint == shown
        }
    }

    /// An `@` inside an option's value is not taken for the end of credentials.
    @Test func anAtSignInAnOptionValueIsNotCredentials() throws {
        let configuration = try RedisConfiguration(url: "redis-sentinel://h1:26379/0?master=m&sentinel_user=ops@example")
        #expect(configuration.redactedURL.contains("ops@example") || configuration.redactedURL.contains("ops%40example"))
    }
}
