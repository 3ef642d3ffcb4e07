import Redis

extension RedisError {
    /// True when the error means Redis could not be used at all (no connection, no reply in time,
    /// credentials refused, no such database), as opposed to an error reply to one command. Callers report it
    /// (``operatorLine``) with exit 2 and stop instead of piling timeouts on top of each other.
    public var isUnreachable: Bool {
        code == .connectionFailed || code == .connectionLost || code == .timeout || code == .authenticationFailed || code == .closed
            || code == .badDatabase
    }

    /// One line for an operator that says what is wrong in their terms: unreachable, login refused, no such
    /// database, or a command the ACL lacks (never "unreachable" for a server that answered).
    public var operatorLine: String {
        switch code {
        case .authenticationFailed: "Redis \(endpoint) refused the login: \(message)"
        case .badDatabase: "Redis \(endpoint): \(message)"
        case .permissionDenied: description
        case .connectionFailed, .connectionLost, .timeout, .closed: "Redis \(endpoint) unreachable: \(message)"
        default: description
        }
    }
}
