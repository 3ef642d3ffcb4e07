import Foundation

/// A run of a job that failed and was retried: which attempt, when it failed, and its error. The envelope keeps the
/// newest few (``JobEnvelope/failedAttempts``) so the dashboard's job page and `hoopoe job show` can show a job's
/// attempts, not only its last error.
///
/// Why in the envelope: the retry writes a new envelope anyway (to the scheduled set, in the same script), so the list
/// costs no Redis command, and it travels with the job into the dead set and job history. Why capped (count and
/// length): an envelope has a size limit, and a job that fails 25 times with a long error must not grow towards it.
public struct FailedAttempt: Codable, Sendable, Hashable {
    /// The attempt that failed (1 for the first run).
    public var attempt: Int
    /// When it failed, Unix seconds.
    public var at: Double
    /// Its error, cut to ``maxErrorLength`` characters, phone numbers and email addresses masked.
    public var error: String

    /// How many earlier attempts an envelope keeps (the newest).
    public static let maxKept = 5
    /// The longest error kept for one attempt, in characters (`last_error` keeps up to 4,096).
    public static let maxErrorLength = 300

    public init(attempt: Int, at: Double, error: String) {
        self.attempt = attempt
        self.at = at
        self.error = Self.capped(PersonalDataMask.mask(error))
    }

    /// `list` with `failure` added last, only the newest ``maxKept`` kept.
    public static func appending(_ failure: FailedAttempt, to list: [FailedAttempt]?) -> [FailedAttempt] {
        Array(((list ?? []) + [failure]).suffix(maxKept))
    }

    /// The attempt as it may be shown: its error with phone numbers masked (an enqueuer may have written it).
    public var masked: FailedAttempt {
        var copy = self
        copy.error = PersonalDataMask.mask(error)
        return copy
    }

    private static func capped(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard scalars.count > maxErrorLength else { return text }
        return String(String.UnicodeScalarView(scalars.prefix(maxErrorLength))) + "…"
    }
}
