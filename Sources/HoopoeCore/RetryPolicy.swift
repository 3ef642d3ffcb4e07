/// How long to wait before the next attempt of a failed job.
///
/// The default is Sidekiq's curve, `attempt⁴ + 15 + rand(10·(attempt+1))` seconds: a quick second try,
/// then backing off to about 20 days of retries over 25 attempts. Jitter spreads the retries of jobs
/// that failed together (a provider outage) so they do not all return at once.
public struct RetryPolicy: Sendable {
    private let delay: @Sendable (_ attempt: Int, _ unit: Double) -> Double

    /// - Parameter delay: seconds to wait after failed attempt `attempt` (1-based), given a uniform
    ///   random number in `0..<1` for jitter.
    public init(delay: @escaping @Sendable (_ attempt: Int, _ unit: Double) -> Double) {
        self.delay = delay
    }

    /// Seconds to wait after attempt `attempt` (1-based) failed.
    /// - Parameters:
    ///   - attempt: the attempt that failed, from 1.
    ///   - unit: a random number in `0..<1` (injectable, so the schedule can be tested exactly).
    public func delay(afterAttempt attempt: Int, unit: Double = Double.random(in: 0..<1)) -> Double {
        let seconds = delay(attempt, unit)
        return seconds.isNaN ? 0 : max(0, seconds)
    }

    /// Sidekiq's curve: `attempt⁴ + 15 + rand(10·(attempt+1))` seconds. In doubles, so no attempt count traps.
    public static let sidekiq = RetryPolicy { attempt, unit in
        let n = Double(attempt)
        return n * n * n * n + 15 + (unit * 10 * (n + 1)).rounded(.down)
    }

    /// `base · 2^(attempt-1)`, capped at `limit`, with ±`jitter` (a fraction) around it.
    public static func exponential(base: Double, limit: Double, jitter: Double = 0.2) -> RetryPolicy {
        RetryPolicy { attempt, unit in
            let raw = min(limit, base * Double(1 << min(max(0, attempt - 1), 40)))
            return raw * (1 + jitter * (2 * unit - 1))
        }
    }

    /// The same delay every time.
    public static func fixed(_ seconds: Double) -> RetryPolicy {
        RetryPolicy { _, _ in seconds }
    }
}
