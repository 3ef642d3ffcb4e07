/// The URL forms of ``RedisConfiguration``, one environment variable (`REDIS_URL`) for every process:
///
/// - `redis://[[user]:password@]host[:port][/db]` — one server over TCP.
/// - `rediss://[[user]:password@]host[:port][/db][?ca=PATH&cert=PATH&key=PATH&insecure=true&server_name=NAME]` — over TLS.
/// - `unix:///path/redis.sock[?db=N&user=U&password=P]` — a local socket.
/// - `redis-sentinel://[[user]:password@]h1[:p1],h2[:p2]/db?master=NAME[&sentinel_user=U&sentinel_password=P&tls=true&sentinel_tls=false]`
///   — the primary the sentinels name (port 26379 by default); user and password are the data nodes'.
/// - `redis-cluster://[[user]:password@]h1[:p1],h2[:p2]` and `rediss-cluster://...` (or `tls=true`) — a cluster
///   reached through its seed nodes (database 0 only).
///
/// Every form also takes `timeout=SECONDS` (command timeout), `wait_replicas=N` and `wait_timeout_ms=MS` (durable
/// writes). An unknown option, or a TLS option without TLS, is an error: a typo must not silently weaken the
/// connection.
extension RedisConfiguration {
    /// Parses any of the URL forms above.
    /// - Throws: ``RedisError`` with code `invalidURL`, saying which part is wrong (never echoing a password).
    public init(url: String) throws {
        self.init()
        var parser = URLParser(url: url)
        try parser.parse(into: &self)
    }

    /// The URL with every password replaced by `***`, safe for logs and error messages. Parsing it (with the
    /// passwords put back) gives this configuration again.
    public var redactedURL: String {
        var options: [String] = []
        func add(_ key: String, _ value: String?) { if let value { options.append("\(key)=\(value)") } }
        let authority = Self.authority(username: username, password: password)
        var url: String
        switch (topology, endpoint) {
        case (.standalone, .unix(let path)):
            url = "unix://\(path)"
            add("db", String(database))
            add("user", username)
            add("password", password.map { _ in "***" })
        case (.standalone, .tcp):
            url = "\(tls == nil ? "redis" : "rediss")://\(authority)\(endpoint)/\(database)"
        case (.sentinel(let sentinel), _):
            url = "redis-sentinel://\(authority)\(sentinel.sentinels.map(\.description).joined(separator: ","))/\(database)"
            add("master", sentinel.masterName)
            add("sentinel_user", sentinel.username)
            add("sentinel_password", sentinel.password.map { _ in "***" })
            if tls != nil { add("tls", "true") }
            if (sentinel.tls != nil) != (tls != nil) { add("sentinel_tls", sentinel.tls == nil ? "false" : "true") }
        case (.cluster(let seeds), _):
            url = "\(tls == nil ? "redis" : "rediss")-cluster://\(authority)\(seeds.map(\.description).joined(separator: ","))"
        }
        if let tls {
            add("ca", tls.caFile)
            add("cert", tls.certificateFile)
            add("key", tls.keyFile)
            if tls.insecure { add("insecure", "true") }
            add("server_name", tls.serverName)
        }
        if waitReplicas > 0 {
            add("wait_replicas", String(waitReplicas))
            add("wait_timeout_ms", String(Int(waitTimeout.seconds * 1000)))
        }
        return options.isEmpty ? url : url + "?" + options.joined(separator: "&")
    }

    private static func authority(username: String?, password: String?) -> String {
        if password != nil { return "\(username ?? ""):***@" }
        return username.map { "\($0)@" } ?? ""
    }

    /// Replaces the passwords in a URL string that failed to parse: the authority's and every `…password=` option.
    /// A URL that failed to parse may hold a password with a raw reserved character, so the credentials are read
    /// widely: everything up to the last `@` anywhere (`redis://:top?sec=ret@host` hides `top?sec=ret`), and a password
    /// option's value up to the next option this parser knows (`password=top&secret` hides `top&secret`). Hiding a
    /// host or an option too is the price: it is the operator's own URL, and the message says which part is wrong.
    static func redact(_ url: String) -> String {
        guard let credentials = unparsedCredentials(url) else { return url.replacingPasswordOptions() }
        let at = credentials.endIndex
        // Empty subsequences kept: in `:password@` the user is empty, not the password.
        let user = credentials.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let shownUser = user.contains(where: { "?&=#/".contains($0) }) ? "" : user
        return String(url[..<credentials.startIndex]) + (credentials.contains(":") ? "\(shownUser):***" : "***")
            + String(url[at...]).replacingPasswordOptions()
    }

    /// The credentials of a URL that failed to parse, read widely: from the scheme's `://` to the last `@` anywhere.
    private static func unparsedCredentials(_ url: String) -> Substring? {
        guard let schemeEnd = url.firstRange(of: "://"), let at = url[schemeEnd.upperBound...].lastIndex(of: "@") else { return nil }
        return url[schemeEnd.upperBound..<at]
    }

    /// The parts of a URL that may be a password, read as widely as ``redact(_:)`` reads them.
    static func possibleSecrets(in url: String) -> [Substring] {
        (unparsedCredentials(url).map { [$0] } ?? []) + url.passwordOptionValues()
    }

    /// `message` with each quoted part (`'…'`) that is a piece of a possible password replaced by `'***'`: a URL
    /// whose password holds a raw `?` or `&` is parsed into pieces (a port, an option's name) that are the password's.
    static func scrub(_ message: String, of url: String) -> String {
        let secrets = possibleSecrets(in: url).filter { !$0.isEmpty }
        guard !secrets.isEmpty else { return message }
        var result = ""
        var scrubbed = false
        var rest = Substring(message)
        while let open = rest.firstIndex(of: "'"), let close = rest[rest.index(after: open)...].firstIndex(of: "'") {
            let quoted = rest[rest.index(after: open)..<close]
            result += rest[...open]
            if !quoted.isEmpty && secrets.contains(where: { $0.contains(quoted) }) {
                result += "***"
                scrubbed = true
            } else {
                result += quoted
            }
            result += "'"
            rest = rest[rest.index(after: close)...]
        }
        result += rest
        return scrubbed
            ? result + " (part of a password, not shown: percent-encode a password's reserved characters, & is %26, ? is %3F, @ is %40)"
            : result
    }

    /// The `@` that ends credentials holding a raw `?` (`redis://:pa?ss@host`): an `@` after the first `?` whose text
    /// since that `?` is not an option (`name=value`). Such a URL cannot be parsed as written — the `?` starts the
    /// query — and every part it would be read as (a port, an option's name) is a piece of the password.
    static func unencodedCredentialsEnd(_ url: String, after start: String.Index) -> String.Index? {
        let rest = url[start...]
        guard let question = rest.firstIndex(of: "?"), let at = rest[question...].firstIndex(of: "@") else { return nil }
        let between = rest[rest.index(after: question)..<at]
        return between.contains("=") || between.contains("&") ? nil : at
    }

    static func percentDecode(_ text: some StringProtocol) -> String {
        guard text.contains("%") else { return String(text) }
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"), let h = iterator.next(), let l = iterator.next(),
                let value = UInt8(String(decoding: [h, l], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Reads one URL into a configuration, part by part, each failure naming its part.
private struct URLParser {
    let url: String
    private var options: [String: String] = [:]

    init(url: String) { self.url = url }

    private func invalid(_ why: String) -> RedisError {
        RedisError(.invalidURL, endpoint: RedisConfiguration.redact(url), message: RedisConfiguration.scrub(why, of: url))
    }

    mutating func parse(into configuration: inout RedisConfiguration) throws(RedisError) {
        guard let schemeEnd = url.firstRange(of: "://") else {
            throw invalid("expected redis://host:port/db, rediss://, unix:///path, redis-sentinel:// or redis-cluster://")
        }
        if RedisConfiguration.unencodedCredentialsEnd(url, after: schemeEnd.upperBound) != nil {
            // Said without quoting any part: each would be a piece of the password.
            throw invalid("the user or password holds a character URLs reserve ('?', '#', '/' or '@'): percent-encode it (? is %3F, # is %23, / is %2F, @ is %40)")
        }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        var rest = Substring(url[schemeEnd.upperBound...])
        if let question = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: question)...].split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                options[String(parts[0])] = parts.count > 1 ? RedisConfiguration.percentDecode(parts[1]) : ""
            }
            rest = rest[..<question]
        }
        var accepted = URLOptions.everyForm
        var tlsOn = false
        switch scheme {
        case "unix":
            guard rest.hasPrefix("/") else { throw invalid("a unix URL needs an absolute path: unix:///path/redis.sock") }
            configuration.endpoint = .unix(path: String(rest))
            accepted.formUnion(URLOptions.unix)
            if let db = options["db"] { configuration.database = try database(db, part: "db") }
            if let user = options["user"], !user.isEmpty { configuration.username = user }
            configuration.password = options["password"]
        case "redis", "rediss":
            let hosts = try authority(&rest, into: &configuration)
            guard hosts.count == 1 else {
                throw invalid("\(scheme):// takes one host; for several use redis-sentinel:// or redis-cluster://")
            }
            configuration.endpoint = try endpoint(hosts[0], defaultPort: 6379)
            try path(rest, into: &configuration)
            tlsOn = scheme == "rediss"
        case "redis-sentinel":
            let hosts = try authority(&rest, into: &configuration)
            let sentinels = try hosts.map { (host) throws(RedisError) in try endpoint(host, defaultPort: 26379) }
            try path(rest, into: &configuration)
            accepted.formUnion(URLOptions.sentinel)
            guard let master = options["master"], !master.isEmpty else {
                throw invalid("master= is missing: redis-sentinel://h1:26379,h2:26379/0?master=NAME names the primary to ask for")
            }
            tlsOn = try flag("tls") ?? false
            var settings = RedisSentinelSettings(sentinels: sentinels, masterName: master)
            if let user = options["sentinel_user"], !user.isEmpty { settings.username = user }
            settings.password = options["sentinel_password"]
            configuration.endpoint = sentinels[0]
            configuration.topology = .sentinel(settings)
        case "redis-cluster", "rediss-cluster":
            let hosts = try authority(&rest, into: &configuration)
            let seeds = try hosts.map { (host) throws(RedisError) in try endpoint(host, defaultPort: 6379) }
            try path(rest, into: &configuration)
            guard configuration.database == 0 else {
                throw invalid("database \(configuration.database): a cluster has only database 0")
            }
            accepted.formUnion(URLOptions.cluster)
            let tlsFlag = try flag("tls") ?? false
            tlsOn = scheme == "rediss-cluster" || tlsFlag
            configuration.endpoint = seeds[0]
            configuration.topology = .cluster(seeds: seeds)
        default:
            throw invalid("unknown scheme '\(scheme)': use redis://, rediss://, unix://, redis-sentinel://, redis-cluster:// or rediss-cluster://")
        }
        if tlsOn { accepted.formUnion(URLOptions.tls) }
        for key in options.keys.sorted() where !accepted.contains(key) {
            if URLOptions.tls.contains(key) {
                throw invalid("option '\(key)' is a TLS option, but this URL does not use TLS (rediss://, rediss-cluster:// or tls=true)")
            }
            throw invalid("unknown option '\(key)'")
        }
        if tlsOn {
            var tls = RedisTLS(caFile: try file("ca"), certificateFile: try file("cert"), keyFile: try file("key"))
            tls.insecure = try flag("insecure") ?? false
            if let name = options["server_name"] {
                guard !name.isEmpty else { throw invalid("server_name= is empty") }
                tls.serverName = name
            }
            configuration.tls = tls
        }
        if case .sentinel(var settings) = configuration.topology {
            settings.tls = (try flag("sentinel_tls") ?? tlsOn) ? (configuration.tls ?? RedisTLS()) : nil
            configuration.topology = .sentinel(settings)
        }
        if let timeout = options["timeout"] {
            // Below a millisecond it would round to 0, which the socket takes for "no timeout at all".
            guard let seconds = Double(timeout), seconds >= 0.001, seconds <= 86_400 else {
                throw invalid("timeout '\(timeout)' is not seconds from 0.001 to 86400")
            }
            configuration.commandTimeout = .milliseconds(Int(seconds * 1000))
            configuration.commandTimeoutInURL = true
        }
        if let replicas = options["wait_replicas"] {
            guard let n = Int(replicas), n >= 0 else { throw invalid("wait_replicas '\(replicas)' is not a number of replicas") }
            configuration.waitReplicas = n
            configuration.waitOptionsInURL.insert("wait_replicas")
        }
        if let milliseconds = options["wait_timeout_ms"] {
            guard let n = Int(milliseconds), (1...RedisConfiguration.maxWaitTimeoutMilliseconds).contains(n) else {
                throw invalid("wait_timeout_ms '\(milliseconds)' is not milliseconds from 1 to \(RedisConfiguration.maxWaitTimeoutMilliseconds)")
            }
            configuration.waitTimeout = .milliseconds(n)
            configuration.waitOptionsInURL.insert("wait_timeout_ms")
        }
    }

    /// Takes `user:password@` off the front of `rest` (leaving `hosts/db`) and returns the comma-separated hosts.
    private func authority(_ rest: inout Substring, into configuration: inout RedisConfiguration) throws(RedisError) -> [Substring] {
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                let user = RedisConfiguration.percentDecode(credentials[..<colon])
                configuration.username = user.isEmpty ? nil : user
                configuration.password = RedisConfiguration.percentDecode(credentials[credentials.index(after: colon)...])
            } else if !credentials.isEmpty {
                // `redis://secret@host`: a bare word is the password, as redis-cli reads it.
                configuration.password = RedisConfiguration.percentDecode(credentials)
            }
        }
        let hostList = rest.firstIndex(of: "/").map { rest[..<$0] } ?? rest
        rest = rest[hostList.endIndex...]
        let hosts = hostList.split(separator: ",", omittingEmptySubsequences: false)
        guard !hosts.contains(where: \.isEmpty) else { throw invalid(hosts.count > 1 ? "an empty host in the host list" : "no host") }
        return hosts
    }

    /// `host`, `host:port` or `[v6]:port`.
    private func endpoint(_ hostPort: Substring, defaultPort: Int) throws(RedisError) -> RedisConfiguration.Endpoint {
        var host = hostPort
        var port = defaultPort
        var portText: Substring?
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { throw invalid("host '\(hostPort)' has no closing ]") }
            host = hostPort[hostPort.index(after: hostPort.startIndex)..<close]
            let after = hostPort[hostPort.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty { throw invalid("unexpected '\(after)' after host '[\(host)]'") }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = hostPort[..<colon]
            portText = hostPort[hostPort.index(after: colon)...]
        }
        if let portText {
            guard let n = Int(portText), (1...65535).contains(n) else { throw invalid("port '\(portText)' of host '\(host)' is not a port number") }
            port = n
        }
        guard !host.isEmpty else { throw invalid("no host") }
        return .tcp(host: String(host), port: port)
    }

    /// `/db` (or nothing).
    private func path(_ rest: Substring, into configuration: inout RedisConfiguration) throws(RedisError) {
        guard rest.hasPrefix("/") else { return }
        let db = rest.dropFirst()
        if !db.isEmpty { configuration.database = try database(db, part: "database") }
    }

    private func database(_ text: some StringProtocol, part: String) throws(RedisError) -> Int {
        guard let n = Int(text), n >= 0 else { throw invalid("\(part) '\(text)' is not a number") }
        return n
    }

    private func flag(_ key: String) throws(RedisError) -> Bool? {
        guard let value = options[key] else { return nil }
        switch value.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw invalid("\(key)='\(value)' is not true or false")
        }
    }

    private func file(_ key: String) throws(RedisError) -> String? {
        guard let path = options[key] else { return nil }
        guard !path.isEmpty else { throw invalid("\(key)= is empty: give the path of a PEM file") }
        return path
    }
}

/// The option names of the URL forms, one list for the parser (which a form accepts) and for the redaction of a URL
/// that failed to parse (after a password option, the text up to the next `&` that starts a known option is read as
/// the password's: a raw `&` in a password would otherwise show its tail).
enum URLOptions {
    /// Taken by every form.
    static let everyForm: Set<String> = ["timeout", "wait_replicas", "wait_timeout_ms"]
    /// `unix://` only.
    static let unix: Set<String> = ["db", "user", "password"]
    /// `redis-sentinel://` only.
    static let sentinel: Set<String> = ["master", "sentinel_user", "sentinel_password", "tls", "sentinel_tls"]
    /// `redis-cluster://` only.
    static let cluster: Set<String> = ["tls"]
    /// Any form that uses TLS.
    static let tls: Set<String> = ["ca", "cert", "key", "insecure", "server_name"]
    /// Every option any form takes.
    static let all = everyForm.union(unix).union(sentinel).union(cluster).union(tls)
}

extension String {
    /// The query's segments (`?`/`&`-separated), each with whether it continues a password option's value.
    private func querySegments() -> [(text: Substring, inPassword: Bool)] {
        guard let question = firstIndex(of: "?") else { return [] }
        var segments: [(text: Substring, inPassword: Bool)] = []
        var inPassword = false
        for segment in self[index(after: question)...].split(separator: "&", omittingEmptySubsequences: false) {
            let name = segment.firstIndex(of: "=").map { segment[..<$0] }
            if let name, URLOptions.all.contains(String(name)) || name.hasSuffix("password") {
                inPassword = name.hasSuffix("password")
                segments.append((segment, false))
            } else {
                segments.append((segment, inPassword))
            }
        }
        return segments
    }

    /// The values of the password options, each with any segments that continue it.
    fileprivate func passwordOptionValues() -> [Substring] {
        var values: [Substring] = []
        for (segment, continues) in querySegments() {
            if continues, let last = values.indices.last {
                values[last] = self[values[last].startIndex..<segment.endIndex]
            } else if let equals = segment.firstIndex(of: "="), segment[..<equals].hasSuffix("password") {
                values.append(segment[segment.index(after: equals)...])
            }
        }
        return values
    }

    /// Every `password=…` and `…_password=…` option's value replaced by `***`, with any text after it up to the next
    /// known option (`password=top&secret` becomes `password=***`).
    fileprivate func replacingPasswordOptions() -> String {
        guard contains("password=") else { return self }
        var result = ""
        var last = startIndex
        for value in passwordOptionValues() {
            result += self[last..<value.startIndex] + "***"
            last = value.endIndex
        }
        return result + self[last...]
    }
}
