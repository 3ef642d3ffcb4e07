/// Where the Redis server is and how to talk to it.
///
/// Built from a URL so one environment variable (`REDIS_URL`) configures every process:
/// `redis://[[user]:password@]host[:port][/db]` or `unix:///path/redis.sock?db=N[&user=U&password=P]`.
/// `rediss://` is refused: Debian 12's hiredis 0.14 has no TLS.
public struct RedisConfiguration: Sendable, Hashable {
    /// How to reach the server.
    public enum Endpoint: Sendable, Hashable, CustomStringConvertible {
        /// A TCP host and port.
        case tcp(host: String, port: Int)
        /// A Unix domain socket path.
        case unix(path: String)

        public var description: String {
            switch self {
            case .tcp(let host, let port): "\(host):\(port)"
            case .unix(let path): path
            }
        }
    }

    /// How to reach the server.
    public var endpoint: Endpoint
    /// The ACL user for `AUTH user password`; nil for the `default` user.
    public var username: String?
    /// The password; never printed (see ``redactedURL``).
    public var password: String?
    /// The logical database, selected on every new connection.
    public var database: Int
    /// How long one connection attempt may take.
    public var connectTimeout: Duration
    /// How long a reply may take before the command fails with a timeout.
    public var commandTimeout: Duration
    /// How long the next command keeps trying to reconnect (with backoff) after the connection dropped,
    /// before it fails. Covers a Redis restart or failover without failing every call in between.
    public var reconnectWindow: Duration
    /// Shared, pipelining connections in a ``RedisClient``. Each has its own thread; concurrent callers'
    /// commands are batched into one round trip, so a few connections serve many tasks.
    public var poolSize: Int

    /// - Parameters:
    ///   - endpoint: how to reach the server.
    ///   - username: ACL user, or nil.
    ///   - password: password, or nil.
    ///   - database: database number (0).
    ///   - connectTimeout: per connection attempt (5 s).
    ///   - commandTimeout: per reply (5 s).
    ///   - reconnectWindow: how long a command keeps reconnecting before it fails (3 s).
    ///   - poolSize: shared connections (1: one connection batches concurrent callers best; decision 0001).
    public init(
        endpoint: Endpoint = .tcp(host: "127.0.0.1", port: 6379), username: String? = nil, password: String? = nil,
        database: Int = 0, connectTimeout: Duration = .seconds(5), commandTimeout: Duration = .seconds(5),
        reconnectWindow: Duration = .seconds(3), poolSize: Int = 1
    ) {
        self.endpoint = endpoint
        self.username = username
        self.password = password
        self.database = database
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.reconnectWindow = reconnectWindow
        self.poolSize = max(1, poolSize)
    }

    /// Parses a `redis://` or `unix://` URL.
    /// - Throws: ``RedisError`` with code `invalidURL`, saying which part is wrong (never echoing a password).
    public init(url: String) throws {
        self.init()
        func invalid(_ why: String) -> RedisError {
            RedisError(.invalidURL, endpoint: Self.redact(url), message: why)
        }
        guard let schemeEnd = url.firstRange(of: "://") else {
            throw invalid("expected redis://host:port/db or unix:///path?db=N")
        }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        var rest = String(url[schemeEnd.upperBound...])
        var query: [String: String] = [:]
        if let q = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: q)...].split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                query[String(parts[0])] = parts.count > 1 ? Self.percentDecode(String(parts[1])) : ""
            }
            rest = String(rest[..<q])
        }
        switch scheme {
        case "redis":
            if let at = rest.lastIndex(of: "@") {
                let credentials = rest[..<at]
                rest = String(rest[rest.index(after: at)...])
                if let colon = credentials.firstIndex(of: ":") {
                    let user = Self.percentDecode(String(credentials[..<colon]))
                    username = user.isEmpty ? nil : user
                    password = Self.percentDecode(String(credentials[credentials.index(after: colon)...]))
                } else if !credentials.isEmpty {
                    // `redis://secret@host`: a bare word is the password, as redis-cli reads it.
                    password = Self.percentDecode(String(credentials))
                }
            }
            var hostPort = rest
            if let slash = rest.firstIndex(of: "/") {
                hostPort = String(rest[..<slash])
                let db = rest[rest.index(after: slash)...]
                if !db.isEmpty {
                    guard let n = Int(db), n >= 0 else { throw invalid("database '\(db)' is not a number") }
                    database = n
                }
            }
            var host = hostPort
            var port = 6379
            if hostPort.hasPrefix("["), let close = hostPort.firstIndex(of: "]") {  // [::1]:6379
                host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
                let after = hostPort[hostPort.index(after: close)...]
                if after.hasPrefix(":") {
                    guard let p = Int(after.dropFirst()), (1...65535).contains(p) else {
                        throw invalid("port '\(after.dropFirst())' is not a port number")
                    }
                    port = p
                }
            } else if let colon = hostPort.lastIndex(of: ":") {
                host = String(hostPort[..<colon])
                let p = hostPort[hostPort.index(after: colon)...]
                guard let n = Int(p), (1...65535).contains(n) else { throw invalid("port '\(p)' is not a port number") }
                port = n
            }
            guard !host.isEmpty else { throw invalid("no host") }
            endpoint = .tcp(host: host, port: port)
        case "unix":
            guard rest.hasPrefix("/") else { throw invalid("a unix URL needs an absolute path: unix:///path/redis.sock") }
            endpoint = .unix(path: rest)
            if let db = query["db"] {
                guard let n = Int(db), n >= 0 else { throw invalid("db '\(db)' is not a number") }
                database = n
            }
            if let user = query["user"], !user.isEmpty { username = user }
            if let pass = query["password"] { password = pass }
        case "rediss":
            throw invalid("TLS (rediss://) is not supported: Debian 12's hiredis 0.14 has no TLS; use stunnel or a local socket")
        default:
            throw invalid("unknown scheme '\(scheme)': use redis:// or unix://")
        }
        if let timeout = query["timeout"] {
            guard let seconds = Double(timeout), seconds > 0 else { throw invalid("timeout '\(timeout)' is not seconds") }
            commandTimeout = .milliseconds(Int(seconds * 1000))
        }
    }

    /// The URL with any password replaced by `***`, safe for logs and error messages.
    public var redactedURL: String {
        switch endpoint {
        case .tcp(let host, let port):
            let auth = password == nil ? (username.map { "\($0)@" } ?? "") : "\(username ?? ""):***@"
            let h = host.contains(":") ? "[\(host)]" : host
            return "redis://\(auth)\(h):\(port)/\(database)"
        case .unix(let path):
            var url = "unix://\(path)?db=\(database)"
            if let username { url += "&user=\(username)" }
            if password != nil { url += "&password=***" }
            return url
        }
    }

    /// Replaces the password in a URL string that failed to parse.
    static func redact(_ url: String) -> String {
        guard let schemeEnd = url.firstRange(of: "://"), let at = url[schemeEnd.upperBound...].lastIndex(of: "@") else {
            return url.replacingPasswordQuery()
        }
        let credentials = url[schemeEnd.upperBound..<at]
        // Empty subsequences kept: in `:password@` the user is empty, not the password.
        let user = credentials.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        return String(url[..<schemeEnd.upperBound]) + (credentials.contains(":") ? "\(user):***" : "***")
            + String(url[at...]).replacingPasswordQuery()
    }

    static func percentDecode(_ text: String) -> String {
        guard text.contains("%") else { return text }
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

extension String {
    fileprivate func replacingPasswordQuery() -> String {
        guard let range = firstRange(of: "password=") else { return self }
        let end = self[range.upperBound...].firstIndex(of: "&") ?? endIndex
        var copy = self
        copy.replaceSubrange(range.upperBound..<end, with: "***")
        return copy
    }
}
