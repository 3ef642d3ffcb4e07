import Logging
import Redis

/// A job type: its stable name, its typed payload, and the work.
///
/// The payload is decoded from the envelope before `run` is called; a payload that does not decode
/// never reaches the handler, it goes to the dead set with the decoding error as its reason.
/// `run` finishing normally acknowledges the job. Throwing ``JobFailure`` picks the disposition
/// (retry, optionally at a time; permanent failure; discard); any other error is retried per
/// ``retryPolicy`` until ``maxAttempts``, then the job is dead.
///
/// Where `run` runs: in a `hoopoe worker` working through a backlog, on one of its shared Redis connections' threads
/// (decisions 0072 and 0076), so its Redis calls join that thread's next write; otherwise on Swift's cooperative pool.
/// It must not block the thread (a synchronous sleep or library call, a long computation): that connection's calls
/// and the other handlers on it wait meanwhile. Await, or move the work off it (`Task.detached`). Lease renewal does
/// not wait for it: the job keeps its lease.
public protocol JobHandler: Sendable {
    /// The handler's input, decoded from the envelope's `payload`.
    associatedtype Payload: Decodable & Sendable
    /// The job type this handler runs, e.g. `sms.send`. Stored in Redis: never rename one in use. A handler whose
    /// `Payload` is a ``JobPayload`` takes it from the payload's ``JobPayload/jobType`` (declared once).
    static var type: String { get }
    /// Attempts before the dead set (the envelope's `max_attempts` overrides it). Default 25.
    var maxAttempts: Int { get }
    /// How long one attempt may run before it is cancelled and fails with a timeout (the envelope's
    /// `timeout` overrides it). Default 5 minutes.
    ///
    /// Cancelled, not stopped: Swift cannot end a task that does not check for cancellation (a blocking call, a loop
    /// that never awaits). The worker settles the attempt at its timeout (a retry, per the policy) and frees its slot;
    /// a handler still running then goes on beside the retry, which may start elsewhere meanwhile, and what it returns
    /// is dropped. A handler should await cancellable calls (the Redis client's, `Task.sleep`, AsyncHTTPClient's), or
    /// be safe to run twice at once, as `sms.send` is with its message lock.
    var timeout: Duration { get }
    /// When to retry after a failure. Default ``RetryPolicy/sidekiq``.
    var retryPolicy: RetryPolicy { get }
    /// Payload keys removed (at any depth, in any case) from the copy kept in the dead set, for secrets (a password) the payload
    /// must carry while the job runs but that must not stay in Redis for the weeks a dead job is kept, or be shown
    /// by the admin commands. Retries keep the whole payload: they need it. Default: none.
    var redactedPayloadKeys: Set<String> { get }
    /// Payload paths this handler reads whose key has one of the usual names of secrets
    /// (``PayloadRedaction/commonSecretKeys``) but holds no secret: `sms.send`'s `tokens.token`, a template's value.
    /// Wherever a payload is shown (job and dead pages, `hoopoe job show`, logs), every other key of such a name is
    /// left out, at any depth: a client that put an API key in a job it had no place in does not have it printed. The
    /// dead-set copy keeps them (a retry runs with it). Paths as `tokens.token`, `items[2].token`. Default: none.
    var payloadPathsNamedLikeSecrets: Set<String> { get }
    /// Does the work.
    /// - Parameters:
    ///   - payload: the decoded input.
    ///   - context: the job's id, attempt, logger and Redis access.
    func run(_ payload: Payload, context: JobContext) async throws
    /// Hears that the engine put this job in the dead set where no run of it concluded: its worker was lost while
    /// running it twice (`killed its worker 2 times (lease expired while it ran)`, decision 0079), whatever attempts it
    /// had left; its lost or cut-off runs used up its `max_attempts` (`its worker was lost 1 time(s) …`, `its envelope
    /// says N attempts were made …`); or its last attempt was cut off by its ``timeout`` (`failed 3 of 3 attempts, the
    /// last timed out after …`). `run` never hears of such an end, so a handler that promises an outcome (an event, a
    /// ledger state: `sms.send`'s `sms.failed`) keeps it here. Not called when `run` returned or threw at the last
    /// attempt: it heard its own failure. Default: nothing.
    ///
    /// Called once, by the worker that buried the job, after the dead set holds it (a retry from the dead set may
    /// already be running beside it: a handler's own records tell), with the payload decoded as for `run` — a payload
    /// that does not decode skips it — and `context.attempt` the attempt that ended the job. At most the handler's
    /// ``timeout`` is waited for; then it is cancelled and the worker goes on. What it throws is logged (masked) and
    /// changes nothing: the job stays dead, and no later run calls it again.
    /// - Parameters:
    ///   - payload: the decoded input.
    ///   - reason: the dead reason, e.g. `killed its worker 2 times (lease expired while it ran)`; for a timeout, with
    ///     what cut the last attempt off.
    ///   - context: the job's id, the attempt that ended it, logger and Redis access.
    func buried(_ payload: Payload, reason: String, context: JobContext) async throws
}

extension JobHandler {
    public var maxAttempts: Int { 25 }
    public var timeout: Duration { .seconds(300) }
    public var retryPolicy: RetryPolicy { .sidekiq }
    public var redactedPayloadKeys: Set<String> { [] }
    public var payloadPathsNamedLikeSecrets: Set<String> { [] }
    public func buried(_ payload: Payload, reason: String, context: JobContext) async throws {}
}

/// What a running job knows about itself.
public struct JobContext: Sendable {
    /// The job's id.
    public let id: String
    /// The job's type.
    public let type: String
    /// The queue it came from.
    public let queue: String
    /// This attempt's number, from 1.
    public let attempt: Int
    /// Attempts allowed in all.
    public let maxAttempts: Int
    /// When it was first enqueued (Unix seconds).
    public let enqueuedAt: Double
    /// The worker's logger, without the job's metadata (``logger`` adds it when asked for).
    let baseLogger: Logger
    /// The engine, to enqueue follow-up jobs.
    public let jobs: JobQueue

    /// A logger with `job.id`, `job.type`, `job.attempt` and `queue` metadata. Made when asked for:
    /// most jobs never log, and four metadata values per job cost more than a no-op job.
    public var logger: Logger {
        var log = baseLogger
        log[metadataKey: "job.id"] = "\(id)"
        log[metadataKey: "job.type"] = "\(type)"
        log[metadataKey: "queue"] = "\(queue)"
        log[metadataKey: "job.attempt"] = "\(attempt)"
        return log
    }
    /// The Redis client, for handlers that keep state in Redis.
    public var redis: RedisClient { jobs.redis }

    /// A context for calling a handler directly (tests, tools); the worker makes its own.
    public init(
        id: String, type: String, queue: String = "default", attempt: Int = 1, maxAttempts: Int = 25,
        enqueuedAt: Double = 0, logger: Logger, jobs: JobQueue
    ) {
        self.id = id
        self.type = type
        self.queue = queue
        self.attempt = attempt
        self.maxAttempts = maxAttempts
        self.enqueuedAt = enqueuedAt
        self.baseLogger = logger
        self.jobs = jobs
    }
}

/// A handler's verdict on a failed attempt, when the default (retry per policy) is not right.
public struct JobFailure: Error, Sendable, CustomStringConvertible {
    /// What to do with the job.
    public enum Disposition: Sendable, Equatable {
        /// Try again: at the given time, or per the retry policy when nil. Counts as an attempt.
        case retry(at: Double?)
        /// Will never succeed (bad input, refused for good): to the dead set at once.
        case permanent
        /// Nothing more to do, and not an error worth keeping (e.g. the work is obsolete): drop it.
        case discard
    }

    /// What to do with the job.
    public let disposition: Disposition
    /// Why, in words a person understands. Kept as the job's `last_error`.
    public let message: String

    /// Retry later; `at` is a Unix time, or nil for the retry policy's delay.
    public static func retry(_ message: String, at: Double? = nil) -> JobFailure {
        JobFailure(disposition: .retry(at: at), message: message)
    }

    /// Fail for good: the job goes to the dead set now.
    public static func permanent(_ message: String) -> JobFailure {
        JobFailure(disposition: .permanent, message: message)
    }

    /// Drop the job without an error.
    public static func discard(_ message: String) -> JobFailure {
        JobFailure(disposition: .discard, message: message)
    }

    /// The job a deferral enqueued in this one's place (``deferred(_:to:)``); nil for any other verdict.
    public var deferredTo: String? = nil

    /// This job is done because the handler enqueued job `id` to do its work later (quiet hours, a daily cap): it
    /// ends like a discard (no attempt burnt), but is logged and recorded as `deferred`, with the link to `id` in
    /// its job history.
    public static func deferred(_ message: String, to id: String) -> JobFailure {
        JobFailure(disposition: .discard, message: message, deferredTo: id)
    }

    public var description: String { message }
}
