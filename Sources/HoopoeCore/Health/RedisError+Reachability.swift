import Redis

extension RedisError {
    /// True when the error means Redis could not be used at all (no connection, no reply in time,
    /// credentials refused), as opposed to an error reply to one command. Callers report the first
    /// as "unreachable" (exit 2) and stop instead of piling timeouts on top of each other.
    public var isUnreachable: Bool {
        code == .connectionFailed || code == .connectionLost || code == .timeout || code == .authenticationFailed || code == .closed
    }
}
