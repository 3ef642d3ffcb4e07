import Foundation

/// How to enqueue one job.
public struct EnqueueOptions: Sendable {
    /// The queue (default `default`).
    public var queue: String
    /// Run no earlier than this time; nil runs it now.
    public var runAt: Date?
    /// Refuse a second job with this key while this one is pending or running.
    public var uniqueKey: String?
    /// The longest the unique lock lasts (it is released when the job finishes). Default 24 h after `runAt`.
    public var uniqueFor: Duration?
    /// Enqueue only once per key, ever within `onceFor` (never released early; the scheduler's ticks).
    public var onceKey: String?
    /// How long a once-key is remembered. Default 7 days.
    public var onceFor: Duration
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
    public init(
        queue: String = "default", runAt: Date? = nil, uniqueKey: String? = nil, uniqueFor: Duration? = nil,
        onceKey: String? = nil, onceFor: Duration = .seconds(7 * 86_400), maxAttempts: Int? = nil,
        timeout: Duration? = nil, id: String? = nil, notify: Bool = false
    ) {
        self.queue = queue
        self.runAt = runAt
        self.uniqueKey = uniqueKey
        self.uniqueFor = uniqueFor
        self.onceKey = onceKey
        self.onceFor = onceFor
        self.maxAttempts = maxAttempts
        self.timeout = timeout
        self.id = id
        self.notify = notify
    }

    /// Runs after `delay` from now.
    public static func after(_ delay: Duration, queue: String = "default") -> EnqueueOptions {
        EnqueueOptions(queue: queue, runAt: Date().addingTimeInterval(delay.seconds))
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
