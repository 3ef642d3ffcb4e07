import Foundation

/// How to enqueue one job.
public struct EnqueueOptions: Sendable {
    /// The queue (default `default`).
    public var queue: String
    /// Run no earlier than this time; nil runs it now.
    public var runAt: Date?
    /// Refuse a second job with this key while this one is pending or running.
    public var uniqueKey: String?
    /// The longest the unique lock lasts (it is released when the job finishes): more than 0, at most 30 days, and only
    /// with a ``uniqueKey``. Default 24 h after `runAt`, which must then be at most ``EnvelopeRules/maxKeySeconds`` away.
    public var uniqueFor: Duration?
    /// Enqueue only once per key, ever within `onceFor` (never released early; the scheduler's ticks).
    public var onceKey: String?
    /// How long a once-key is remembered: more than 0, at most ``EnvelopeRules/maxKeySeconds`` (about 31 years), and
    /// only with a ``onceKey``. Default 7 days.
    public var onceFor: Duration {
        get { givenOnceFor ?? Self.defaultOnceFor }
        set { givenOnceFor = newValue }
    }
    /// ``onceFor`` as the caller set it, nil for the default: one set without a ``onceKey`` is refused (the caller meant
    /// a once-only job and would get a plain one, run by every call).
    private var givenOnceFor: Duration?
    /// ``onceFor``'s default: 7 days.
    public static let defaultOnceFor: Duration = .seconds(7 * 86_400)
    /// Attempts before the dead set; nil uses the handler's default.
    public var maxAttempts: Int?
    /// Per-attempt time limit; nil uses the handler's default.
    public var timeout: Duration?
    /// A caller-chosen id; nil makes one. A job with a ``uniqueKey`` or ``onceKey`` sent again with its id (its first
    /// reply lost) is reported in, not refused by itself; a plain job sent twice is two jobs, and runs twice.
    public var id: String?
    /// Ask for the outcome: the worker pushes it to ``QueueKeys/answer(_:)`` when the job settles for good
    /// (``JobEnvelope/notify``, decision 0006).
    public var notify: Bool

    /// - Parameters:
    ///   - queue: the queue.
    ///   - runAt: the earliest run time.
    ///   - uniqueKey: refuse duplicates while pending or running.
    ///   - onceFor: how long `onceKey` is remembered; nil: 7 days.
    public init(
        queue: String = "default", runAt: Date? = nil, uniqueKey: String? = nil, uniqueFor: Duration? = nil,
        onceKey: String? = nil, onceFor: Duration? = nil, maxAttempts: Int? = nil,
        timeout: Duration? = nil, id: String? = nil, notify: Bool = false
    ) {
        self.queue = queue
        self.runAt = runAt
        self.uniqueKey = uniqueKey
        self.uniqueFor = uniqueFor
        self.onceKey = onceKey
        self.givenOnceFor = onceFor
        self.maxAttempts = maxAttempts
        self.timeout = timeout
        self.id = id
        self.notify = notify
    }

    /// Runs after `delay` from now.
    public static func after(_ delay: Duration, queue: String = "default") -> EnqueueOptions {
        EnqueueOptions(queue: queue, runAt: Date().addingTimeInterval(delay.seconds))
    }

    /// Why these options cannot mean what the caller asked, or nil: the option edges of `jobs/PROTOCOL.md` ("Enqueue
    /// options") that the envelope rules do not cover, each named as the clients name it in their refusals (`run_at`,
    /// `unique_for`, `once_for`).
    ///
    /// Why refused rather than clamped or defaulted: each changed when or whether the job runs, silently. A `runAt`
    /// before 1970 ran at once; a `uniqueFor` past 30 days was held but left out of the envelope, so a retry's lock
    /// fell back to a day; a unique job due past ~31 years got a lock cut to 10⁹ s, which lapsed while it waited; a
    /// `onceFor` of 0 or less was a 1-second once-key (a second job a second later ran), one past 10⁹ s was cut to it;
    /// and a `uniqueFor` or `onceFor` without its key made a plain job, enqueued again by every call.
    /// - Parameter now: the enqueue's time, Unix seconds (a unique job's default lock runs from it).
    package func problem(now: Double) -> String? {
        let limit = EnvelopeRules.describe(EnvelopeRules.maxKeySeconds)
        if let runAt = runAt?.timeIntervalSince1970, !(runAt >= 0) {
            return "run_at must be Unix seconds >= 0, a time from 1970 on (got \(EnvelopeRules.describe(runAt)))"
        }
        if let uniqueFor = uniqueFor?.seconds {
            guard uniqueKey != nil else { return "unique_for needs a unique_key: without one the job is not unique" }
            guard uniqueFor > 0 && uniqueFor <= EnvelopeRules.maxUniqueFor else {
                return "unique_for must be > 0 and <= 2592000 seconds (got \(EnvelopeRules.describe(uniqueFor)))"
            }
        } else if uniqueKey != nil, let runAt = runAt?.timeIntervalSince1970, runAt - now + 86_400 > EnvelopeRules.maxKeySeconds {
            return "run_at is \(EnvelopeRules.describe((runAt - now).rounded(.up))) seconds ahead, too far for a unique job: its lock lasts "
                + "until 24 h after the run time, at most \(limit) seconds (about 31 years); give unique_for or an earlier run_at"
        }
        if let onceFor = givenOnceFor?.seconds {
            guard onceKey != nil else { return "once_for needs a once_key: without one the job is not once-only" }
            guard onceFor > 0 && onceFor <= EnvelopeRules.maxKeySeconds else {
                return "once_for must be > 0 and <= \(limit) seconds, about 31 years (got \(EnvelopeRules.describe(onceFor)))"
            }
        }
        return nil
    }
}

/// What an enqueue did.
public enum EnqueueResult: Sendable, Hashable {
    /// Ready to run now.
    case enqueued(id: String)
    /// Waiting for its `runAt`.
    case scheduled(id: String)
    /// Refused: a job with the same unique key (this id) is pending or running.
    case duplicate(existingID: String)
    /// Refused: this once-key was already used (by this id).
    case alreadyEnqueued(existingID: String)

    /// The id of the job this call created, or of the one that holds its unique key or once-key.
    public var jobID: String {
        switch self {
        case .enqueued(let id), .scheduled(let id), .duplicate(let id), .alreadyEnqueued(let id): id
        }
    }

    /// The id of the job this call created, if it created one.
    public var createdID: String? {
        switch self {
        case .enqueued(let id), .scheduled(let id): id
        case .duplicate, .alreadyEnqueued: nil
        }
    }
}

/// Why an enqueue was refused before reaching the queue.
public struct EnqueueError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    package var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }
}
