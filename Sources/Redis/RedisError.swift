/// An error from the Redis client.
///
/// Every error names the server (host and port, or socket path) and the command that failed, so an
/// operator can tell which Redis and which call; none ever carries a password or a command's arguments,
/// which may hold secrets or personal data.
public struct RedisError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is. A struct, so codes can be added without breaking callers.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case invalidURL, connectionFailed, connectionLost, timeout, authenticationFailed, server, protocolError,
                closed, permissionDenied, badDatabase, notReplicated
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The configuration URL could not be parsed.
        public static var invalidURL: Self { .init(.invalidURL) }
        /// No connection could be made within the reconnect window (refused, unreachable, DNS).
        public static var connectionFailed: Self { .init(.connectionFailed) }
        /// The connection dropped while a command was in flight: the command may or may not have run.
        public static var connectionLost: Self { .init(.connectionLost) }
        /// The server did not answer within the command timeout: the command may or may not have run.
        public static var timeout: Self { .init(.timeout) }
        /// The login was refused: AUTH's (wrong password, unknown ACL user), or `NOAUTH` to the connect's first
        /// command (a server that needs a password, and the URL gives none). Final: retrying cannot mend it.
        public static var authenticationFailed: Self { .init(.authenticationFailed) }
        /// The server answered with an error reply (`ERR`, `WRONGTYPE`, `NOSCRIPT`, ...).
        public static var server: Self { .init(.server) }
        /// The bytes from the server were not valid RESP.
        public static var protocolError: Self { .init(.protocolError) }
        /// The client was closed.
        public static var closed: Self { .init(.closed) }
        /// The server refused a command because the user's ACL lacks it (or a key or channel it names): a `NOPERM`
        /// reply. Redis works; this user may not do this. ``RedisError/command`` names the command sent (for a
        /// script, `EVALSHA <name>`), the message what the server refused.
        public static var permissionDenied: Self { .init(.permissionDenied) }
        /// `SELECT` of the URL's database number was refused: the server has no such database (`databases` in its
        /// configuration). Not an authentication problem.
        public static var badDatabase: Self { .init(.badDatabase) }
        /// A durable write (``RedisConfiguration/waitReplicas`` above 0) ran on the primary, but fewer replicas than asked
        /// acknowledged it within the wait timeout (`WAIT`): a failover now could lose it. The write is not undone.
        public static var notReplicated: Self { .init(.notReplicated) }

        public var description: String { base.rawValue }
    }

    /// The kind of failure.
    public let code: Code
    /// The server, as `host:port` or a socket path; never with credentials.
    public let endpoint: String
    /// The command name (its first word only: arguments can hold secrets).
    public let command: String?
    /// What went wrong, in words: the server's error reply or the system's reason.
    public let message: String
    /// A connect that trying again cannot mend, whatever its code: the server's certificate is not trusted, or a TLS
    /// file cannot be used. (A refused login and a missing database say so by their codes.)
    public let isFinal: Bool

    /// - Parameters:
    ///   - code: the kind of failure.
    ///   - endpoint: the server, without credentials.
    ///   - command: the command's name, if one was running.
    ///   - message: the reason.
    ///   - isFinal: trying again cannot mend it.
    public init(_ code: Code, endpoint: String, command: String? = nil, message: String, isFinal: Bool = false) {
        self.code = code
        self.endpoint = endpoint
        self.command = command
        self.message = message
        self.isFinal = isFinal
    }

    /// The error for an error reply: ``Code/permissionDenied`` for `NOPERM` (and its form inside a Lua script),
    /// else ``Code/server``.
    public static func reply(_ message: String, endpoint: String, command: String?) -> RedisError {
        let denied = message.hasPrefix("NOPERM") || message.contains(scriptPermissionMarker)
        return RedisError(denied ? .permissionDenied : .server, endpoint: endpoint, command: command, message: message)
    }

    /// What Redis 7 answers when a script calls a command the caller's ACL lacks (an `ERR`, not a `NOPERM`).
    public static let scriptPermissionMarker = "The user executing the script can't run this command"

    /// True when the command may have run even though no reply came back. Callers must not blindly
    /// repeat a non-idempotent command after such an error.
    /// `notReplicated` counts: the write ran, but whether it survives a failover is not known.
    public var outcomeUnknown: Bool { code == .connectionLost || code == .timeout || code == .notReplicated }

    /// True for an error reply a server gives, having run nothing, while it cannot serve for a moment: `LOADING` (it
    /// reads its data after a restart), `TRYAGAIN` (a slot migrating), `CLUSTERDOWN` (an election), `MASTERDOWN` (a
    /// replica that lost its primary). Waiting mends it, as it mends a refused connection.
    public var isMomentaryRefusal: Bool {
        code == .server && ["LOADING", "TRYAGAIN", "CLUSTERDOWN", "MASTERDOWN"].contains { message.hasPrefix($0) }
    }

    /// True for an error reply refusing a write, having run nothing, while the server serves reads: `NOREPLICAS`
    /// (`min-replicas-to-write` unmet), `READONLY` (a replica), `MISCONF` (a failed save; it refuses `PING` too), `OOM`
    /// (`maxmemory`). The server's state, not the caller's: waiting (a replica back, a disk freed) mends it.
    public var refusesWrites: Bool { code == .server && Self.refusesWrites(message) }

    /// Whether an error reply's text is one of ``refusesWrites``'s (a script's error names it first too).
    public static func refusesWrites(_ message: String) -> Bool {
        ["NOREPLICAS", "READONLY", "MISCONF", "OOM"].contains(message.prefix { $0 != " " })
    }

    public var description: String {
        if code == .permissionDenied {
            return "Redis \(endpoint) refused \(command ?? "a command"): the ACL of this user lacks it (\(message))"
        }
        var text = "Redis \(endpoint)"
        if let command { text += " \(command)" }
        return text + ": \(code): \(message)"
    }
}
