import Foundation
import HoopoeCore

/// How `sendinblue.register` retries and waits, read from the environment (deploy/hoopoe.env.example).
///
/// A registration that keeps failing (Brevo down, the reseller pool empty) must keep trying for at least a day
/// (issue 6): the retry policy is exponential from ``retryBase`` to ``retryCap`` and ``maxAttempts`` is computed so
/// that the attempts, at the shortest delays the jitter allows, span ``retryHours``.
public struct RegistrationSettings: Sendable, Equatable {
    /// `REGISTRATION_RETRY_HOURS` (default 48, 24…720): how long a failing registration keeps being retried.
    public var retryHours = 48
    /// `REGISTRATION_RETRY_BASE_SECONDS` (default 30): the first retry's delay; it doubles per attempt.
    public var retryBase = 30
    /// `REGISTRATION_RETRY_MAX_SECONDS` (default 3600): the longest delay between attempts. Also how long a job
    /// is parked after an operator alert (docs/providers.md §1: 15–60 minutes), so parked attempts do not shorten the span.
    public var retryCap = 3600
    /// `REGISTRATION_STATUS_POLLS` (default 4, 1…10): creation-status reads within one attempt before the job
    /// steps aside (a retry) instead of holding a worker slot while Brevo finishes.
    public var statusPolls = 4
    /// `REGISTRATION_STATUS_POLL_SECONDS` (default 1): the wait before the second in-job read; it doubles each
    /// read (1, 2, 4 s: 7 s of waiting with the defaults).
    public var statusPollInterval = 1.0

    /// Jitter of the retry delays (±20 %), spreading jobs that failed together.
    static let jitter = 0.2

    /// Exponential from ``retryBase`` seconds, doubling, capped at ``retryCap``, ±20 %.
    public var retryPolicy: RetryPolicy {
        .exponential(base: Double(retryBase), limit: Double(retryCap), jitter: Self.jitter)
    }

    /// The least number of attempts whose waits, each at its shortest (the lower jitter bound), add up to
    /// ``retryHours``: a registration that fails every time is still being tried that long after its first attempt.
    /// At most an envelope's limit (``EnvelopeRules/maxAttempts``, 1000): a maximum delay too short for the window
    /// (e.g. 120 s for 48 h) shortens the window instead. More attempts were cut short at attempt 1001, the job
    /// buried as a corrupt envelope without its `sendinblue.failed`.
    public var maxAttempts: Int {
        let span = Double(retryHours) * 3600
        var waited = 0.0
        var attempts = 1
        while waited < span, attempts < EnvelopeRules.maxAttempts {
            waited += shortestDelay(afterAttempt: attempts)
            attempts += 1
        }
        return attempts
    }

    /// How long ``maxAttempts`` attempts span at their shortest waits, in seconds: under ``retryHours`` when the cap of
    /// 1000 attempts cut it (a maximum delay too short for the window).
    public var spannedSeconds: Double {
        (1..<maxAttempts).reduce(0) { $0 + shortestDelay(afterAttempt: $1) }
    }

    /// The shortest wait after failed attempt `attempt` the policy can pick.
    func shortestDelay(afterAttempt attempt: Int) -> Double {
        retryPolicy.delay(afterAttempt: attempt, unit: 0)
    }

    /// How long an attempt that hit an operator alert (key revoked, pool empty) waits before trying again.
    public var alertPark: Duration { .seconds(retryCap) }
}

extension RegistrationSettings {
    /// Reads the settings.
    /// - Throws: ``ConfigurationError`` naming the variable.
    public init(environment env: EnvironmentReader) throws(ConfigurationError) {
        retryHours = try env.integer("REGISTRATION_RETRY_HOURS", default: retryHours, in: 24...720)
        retryBase = try env.integer("REGISTRATION_RETRY_BASE_SECONDS", default: retryBase, in: 1...3600)
        retryCap = try env.integer("REGISTRATION_RETRY_MAX_SECONDS", default: retryCap, in: 1...86_400)
        guard retryCap >= retryBase else {
            throw ConfigurationError(
                key: "REGISTRATION_RETRY_MAX_SECONDS", message: "must be at least REGISTRATION_RETRY_BASE_SECONDS (\(retryBase)), got \(retryCap)")
        }
        statusPolls = try env.integer("REGISTRATION_STATUS_POLLS", default: statusPolls, in: 1...10)
        statusPollInterval = try env.seconds("REGISTRATION_STATUS_POLL_SECONDS", default: statusPollInterval)
        // The polls wait in the job (doubling): a bound keeps the attempt inside its timeout and the sleep convertible.
        guard statusPollInterval <= 60 else {
            throw ConfigurationError(key: "REGISTRATION_STATUS_POLL_SECONDS", message: "expected 0-60 seconds, got \(statusPollInterval)")
        }
    }
}
