/// The result of one named check: a status, one line for a person, and numbers for a machine.
///
/// Names are stable (`redis`, `workers`, `queue:default`, ...) because alerting rules and dashboards
/// key on them; the message may change wording between versions, the numbers' keys may not.
public struct HealthFinding: Sendable, Hashable {
    /// The check's stable name, e.g. `redis_second_connection` or `queue:default`.
    public let name: String
    /// ok, warn or fail.
    public let status: HealthStatus
    /// One line saying what was found and, when not ok, what to do.
    public let message: String
    /// Measurements behind the status (`round_trip_ms`, `latency_seconds`, ...), snake_case keys.
    public let numbers: [String: Double]

    /// - Parameters:
    ///   - name: the check's stable name.
    ///   - status: ok, warn or fail.
    ///   - message: one line for a person.
    ///   - numbers: measurements, snake_case keys.
    public init(name: String, status: HealthStatus, message: String, numbers: [String: Double] = [:]) {
        self.name = name
        self.status = status
        self.message = message
        self.numbers = numbers
    }
}
