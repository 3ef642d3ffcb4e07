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
    /// - Throws: ``RedisError`` with code `invalidURL`, saying which part is wrong (never echoing a password, nor an
    ///   unknown option's value: see ``redact(_:)``).
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

    /// A URL that failed to parse, with nothing shown that may be a secret: the authority's password and every
    /// option's value but those of the options this parser knows and shows (``URLOptions/shown``). A URL that failed
    /// to parse may be malformed anywhere, so the secrets are read widely:
    /// - the credentials are everything up to the last `@` anywhere (`redis://:top?sec=ret@host` hides `top?sec=ret`),
    ///   from the scheme's `://` or, when a slash or colon is missing, from whatever run of `:` and `/` follows the
    ///   scheme (`redis:/u:pw@host`, `redis//u:pw@host`);
    /// - an option is a `name=value` after `?`, `&`, `/` or `;`, in the query or not (`redis://host/0&password=pw`),
    ///   and the value of an unknown one is hidden too: it may be a password under another name (`pass`, `passwd`,
    ///   `auth`, `pwd`) or a misspelt one. A hidden value runs on up to the next option that is shown
    ///   (`password=top&secret` hides `top&secret`).
    /// Hiding a host or an option too is the price: it is the operator's own URL, and the message says which part is
    /// wrong.
    static func redact(_ url: String) -> String {
        guard let credentials = unparsedCredentials(url) else { return url[...].maskingOptionValues() }
        let at = credentials.endIndex
        // Empty subsequences kept: in `:password@` the user is empty, not the password.
        let user = credentials.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let shownUser = user.contains(where: { "?&=#/".contains($0) }) ? "" : user
        return String(url[..<credentials.startIndex]) + (credentials.contains(":") ? "\(shownUser):***" : "***")
            + url[at...].maskingOptionValues()
    }

    /// The credentials of a URL that failed to parse, read widely: from the end of the scheme's separator to the last
    /// `@` anywhere.
    private static func unparsedCredentials(_ url: String) -> Substring? {
        guard let at = url.lastIndex(of: "@") else { return nil }
        return url[credentialsStart(url[..<at])..<at]
    }

    /// Where the credentials start in `head` (the URL before its last `@`): after `://`, else after the run of `:` and
    /// `/` that follows a scheme-like word (`redis:/`, `redis//`, `rediss:`), else at the start (`pw@host`).
    private static func credentialsStart(_ head: Substring) -> String.Index {
        if let separator = head.firstRange(of: "://") { return separator.upperBound }
        let scheme = head.prefix { $0.isASCII && ($0.isLetter || $0.isNumber || "+.-".contains($0)) }
        let separator = head[scheme.endIndex...].prefix { $0 == ":" || $0 == "/" }
        return separator.isEmpty ? head.startIndex : separator.endIndex
    }

    /// The parts of a URL that may be a secret, read as widely as ``redact(_:)`` reads them.
    static func possibleSecrets(in url: String) -> [Substring] {
        guard let credentials = unparsedCredentials(url) else { return url[...].maskedOptionValues() }
        return [credentials] + url[credentials.endIndex...].maskedOptionValues()
    }

    /// `message` with each quoted part (`'…'`) cleared of possible secrets. A part that is a piece of one is replaced
    /// by `'***'` whole: a URL whose password holds a raw `?` or `&` is parsed into pieces (a port, an option's name)
    /// that are the password's. A part that holds one (`database '0&password=pw'`) keeps the rest:
    /// `database '0&password=***'`.
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
                result += masking(secrets, in: quoted)
            }
            result += "'"
            rest = rest[rest.index(after: close)...]
        }
        result += rest
        return scrubbed
            ? result + " (part of a password, not shown: percent-encode a password's reserved characters, & is %26, ? is %3F, @ is %40)"
            : result
    }

    /// `text` (a part of the URL an error quotes) with every secret in it, or a secret's head at its end or tail at
    /// its start (the part was cut from the URL across one), replaced by `***`. Only matches that begin and end where
    /// the URL's parts do (at a separator, or the text's ends) count: a short secret inside a word (`pw` in `pwd`) is
    /// a coincidence, not a leak.
    private static func masking(_ secrets: [Substring], in text: Substring) -> String {
        let characters = Array(text)
        var hidden = [Bool](repeating: false, count: characters.count)
        func isSeparator(_ i: Int) -> Bool { "?&/;=:@,#".contains(characters[i]) }
        for secret in secrets.map(Array.init) {
            for start in characters.indices where start == 0 || isSeparator(start - 1) {
                var length = 0
                while length < secret.count, start + length < characters.count, characters[start + length] == secret[length] { length += 1 }
                let end = start + length
                // The whole secret, ending where a part does; or its head, running to the end of the text.
                if length > 0, (length == secret.count && (end == characters.count || isSeparator(end))) || end == characters.count {
                    for i in start..<end { hidden[i] = true }
                }
            }
            // The secret's tail at the text's start, ending where a part does.
            let longest = min(secret.count - 1, characters.count)
            guard longest >= 1 else { continue }
            for end in 1...longest where (end == characters.count || isSeparator(end)) && characters[..<end].elementsEqual(secret[(secret.count - end)...]) {
                for i in 0..<end { hidden[i] = true }
            }
        }
        var result = ""
        var index = 0
        while index < characters.count {
            if hidden[index] {
                result += "***"
                while index < characters.count, hidden[index] { index += 1 }
            } else {
                result.append(characters[index])
                index += 1
            }
        }
        return result
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
    /// The query's parts without `=`: not named in an error unless they are an option's name (one may be a password).
    private var bare: Set<String> = []

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
                if parts.count == 1 { bare.insert(String(parts[0])) }
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
        // Named options first, then a bare part that is no option's name (named in no message), then a bare option name:
        // a bare option name after a bare part is read as a piece of it, and its message would be scrubbed to `'***'`.
        func rank(_ key: String) -> Int { !bare.contains(key) ? 0 : URLOptions.all.contains(key) ? 2 : 1 }
        for key in options.keys.sorted(by: { (rank($0), $0) < (rank($1), $1) }) where !accepted.contains(key) {
            if rank(key) == 1 {
                throw invalid("a part of the query is not an option (name=value, like timeout=5); it is not shown, as it may be a password: a password goes before the host, as in redis://:PASSWORD@host:6379 (a unix:// URL takes password=PASSWORD)")
            }
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
            if try flag("sentinel_tls") ?? tlsOn {
                // The data nodes' files, not their `server_name`: that is the name the data nodes' certificates hold (the
                // sentinels announce them by address); the sentinels are checked against their names in the URL. Copied,
                // it failed every sentinel link whose certificate did not hold the data nodes' name too.
                var sentinelTLS = configuration.tls ?? RedisTLS()
                sentinelTLS.serverName = nil
                settings.tls = sentinelTLS
            } else {
                settings.tls = nil
            }
            configuration.topology = .sentinel(settings)
        }
        if let timeout = options["timeout"] {
            // Below a millisecond it would round to 0, which the socket takes for "no timeout at all".
            // Decimal only (DecimalNumber): `Double` took `timeout=0x10` for 16 s.
            guard let seconds = DecimalNumber.parse(timeout), seconds >= 0.001, seconds <= 86_400 else {
                throw invalid("timeout '\(timeout)' is not seconds from 0.001 to 86400, written in decimal (like 1.5)")
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
/// that failed to parse (only the values of ``shown`` options are shown; after any other, the text up to the next
/// shown option is read as its value: a raw `&` in a password would otherwise show its tail).
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
    /// The options whose values may be shown: every option but the passwords.
    static let shown = all.subtracting(["password", "sentinel_password"])
}

extension Substring {
    /// The values ``RedisConfiguration/redact(_:)`` hides: each option's (`name=value` after `?`, `&`, `/` or `;`, or
    /// at the start) unless the option is one that is shown, each run on over the segments after it up to the next
    /// option that is shown or hides its own value. Inside a hidden value an unknown `name=` is a piece of it
    /// (`password=top&sec=ret`), not an option whose name could be shown.
    ///
    /// A query part without `=` (`?paW0RD`, `&paW0RD`) that is not an option's name is hidden whole, with what follows it
    /// up to the next shown option: a password written where an option goes is no option, and its name would be the
    /// password. The part is read up to the next `&`, as the parser reads it: `?db/W0RD` is no option, though `db` is.
    fileprivate func maskedOptionValues() -> [Substring] {
        var values: [Substring] = []
        var hiding = false
        for segment in split(omittingEmptySubsequences: false, whereSeparator: { "?&/;".contains($0) }) {
            let equals = segment.firstIndex(of: "=")
            let name = equals.map { String(segment[..<$0]) }
            if hiding, let last = values.indices.last, !(name.map(URLOptions.all.contains) ?? false) {
                values[last] = self[values[last].startIndex..<segment.endIndex]
            } else if let name, let equals {
                hiding = !URLOptions.shown.contains(name)
                if hiding { values.append(segment[segment.index(after: equals)...]) }
            } else if !segment.isEmpty, segment.startIndex > startIndex, "?&".contains(self[index(before: segment.startIndex)]),
                !URLOptions.all.contains(String(self[segment.startIndex...].prefix { $0 != "&" }))
            {
                // Hidden like a value: what follows up to the next shown option may be the rest of it (`?pa/W0RD`).
                hiding = true
                values.append(segment)
            }
        }
        return values
    }

    /// This text with every value ``maskedOptionValues()`` finds replaced by `***`
    /// (`/0&password=top&secret` becomes `/0&password=***`).
    fileprivate func maskingOptionValues() -> String {
        var result = ""
        var last = startIndex
        for value in maskedOptionValues() {
            result += self[last..<value.startIndex] + "***"
            last = value.endIndex
        }
        return result + self[last...]
    }
}
