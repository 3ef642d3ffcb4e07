import Foundation
import HoopoeJSON
import Redis

/// The engine's front door: enqueue jobs, and inspect or change them (cancel, dead set, counters).
///
/// Safe to share; every method is one or a few round trips, each state change one Lua script. Every Redis
/// command is built by ``JobStore`` (the engine's one owner of its keys), which the ``Worker`` uses too.
public final class JobQueue: Sendable {
    /// The engine's store: every command on the queues' keys.
    package let store: JobStore
    /// The Redis client, shared with the domain stores of this package (they own keys of their own; the
    /// queues' keys are ``store``'s alone).
    package var redis: RedisClient { store.redis }
    /// The key prefix (`hoopoe`).
    public let namespace: String
    /// The largest envelope accepted at enqueue (default 512 KiB); larger ones are refused with an error.
    public let maxEnvelopeBytes: Int
    /// Whether a cancel made here is recorded in its queue's job history (false when the deployment keeps none:
    /// `HOOPOE_HISTORY_MAX_JOBS=0`). A record written then stayed for good, payload and all: no worker trims a history
    /// it does not keep.
    public let keepsHistory: Bool

    /// - Parameters:
    ///   - redis: the Redis client.
    ///   - namespace: the key prefix.
    ///   - maxEnvelopeBytes: the enqueue size limit; at most ``EnvelopeRules/maxBytes`` (512 KiB), the limit every
    ///     worker and the enqueue script hold to (a larger one is taken as that: such a job would be buried on arrival).
    ///   - keepsHistory: record cancels in job history.
    public init(redis: RedisClient, namespace: String = "hoopoe", maxEnvelopeBytes: Int = 512 * 1024, keepsHistory: Bool = true) {
        store = JobStore(redis: redis, namespace: namespace)
        self.namespace = namespace
        self.maxEnvelopeBytes = min(maxEnvelopeBytes, EnvelopeRules.maxBytes)
        self.keepsHistory = keepsHistory
    }

    /// The keys of `queue` (the wire format, `jobs/PROTOCOL.md`).
    public func keys(_ queue: String) -> QueueKeys { store.keys(queue) }
    /// The keys shared by all queues.
    public var global: GlobalKeys { store.global }

    // MARK: Enqueue

    /// Enqueues one job.
    /// - Parameters:
    ///   - type: the handler's name.
    ///   - payload: its input.
    ///   - options: queue, time, uniqueness.
    /// - Throws: ``EnqueueError`` for a bad queue name, an envelope over the size limit, or a payload holding NaN or an
    ///   infinity (JSON has no such numbers); ``RedisError``.
    @discardableResult
    public func enqueue(type: String, payload: JSONValue, options: EnqueueOptions = EnqueueOptions()) async throws -> EnqueueResult {
        try await enqueueBatch([(type, payload, options)])[0]
    }

    /// Enqueues many jobs in one round trip. Each is independent: a refused duplicate does not stop the
    /// others. Results are in the order given. A job refused before writing (``EnqueueError``, as for
    /// ``enqueue(type:payload:options:)``) throws before any job of the batch is written. An error once the batch was
    /// sent (a command Redis refused, a connection lost between its writes) is an ``EnqueueBatchError`` naming each
    /// job's outcome, so that only the jobs not written are sent again.
    ///
    /// A batch of ``parallelPreparationThreshold`` jobs or more is prepared (checked, its envelopes written) in two
    /// halves at once (decision 0053); the refusal thrown is still the first refused job's in the batch's order.
    public func enqueueBatch(_ jobs: [(type: String, payload: JSONValue, options: EnqueueOptions)]) async throws -> [EnqueueResult] {
        let prepared = try await prepareAll(jobs) { queue, job, parent in
            try queue.prepare(type: job.type, payload: .value(job.payload), options: job.options, enqueuedBy: parent)
        }
        return try await store.enqueue(prepared, maxEnvelopeBytes: maxEnvelopeBytes)
    }

    /// Enqueues one job of a typed payload, its type the payload's ``JobPayload/jobType``. The payload is encoded
    /// once, straight into the envelope.
    /// - Throws: ``EnqueueError`` as ``enqueue(type:payload:options:)`` does, or the payload's `EncodingError`.
    @discardableResult
    public func enqueue(_ payload: some JobPayload, options: EnqueueOptions = EnqueueOptions()) async throws -> EnqueueResult {
        try await enqueueBatch([(payload, options)])[0]
    }

    /// Enqueues many jobs of typed payloads (of any types) in one round trip, as
    /// ``enqueueBatch(_:)-(Array<(type:payload:options:)>)`` does.
    public func enqueueBatch(_ jobs: [(payload: any JobPayload, options: EnqueueOptions)]) async throws -> [EnqueueResult] {
        let prepared = try await prepareAll(jobs) { queue, job, parent in
            try queue.prepare(
                type: type(of: job.payload).jobType, payload: .encoded(try job.payload.encodedJSON()), options: job.options, enqueuedBy: parent)
        }
        return try await store.enqueue(prepared, maxEnvelopeBytes: maxEnvelopeBytes)
    }

    /// The smallest batch prepared in two halves at once (``prepareAll(_:_:)``).
    package static let parallelPreparationThreshold = 128

    /// Every job of a batch prepared, in order, before any is written (a refusal writes nothing), each naming the job
    /// whose handler enqueues them (``CurrentJob/id``, read once a batch) as its ``JobEnvelope/enqueuedBy``.
    ///
    /// Why two halves at once for a large batch: preparing — the checks and each envelope's JSON — is most of an
    /// enqueue's client CPU, and while it runs Redis and the connection's thread wait; the first half on a child task
    /// uses a second core meanwhile (on a pool with one free thread; else it runs after, as before). The CPU a job is
    /// the same. A refusal is the first refused job's in the batch's order: the first half's error wins.
    private func prepareAll<Job: Sendable>(
        _ jobs: [Job], _ prepareOne: @escaping @Sendable (JobQueue, Job, _ enqueuedBy: String?) throws -> PreparedJob
    ) async throws -> [PreparedJob] {
        let parent = CurrentJob.id
        guard jobs.count >= Self.parallelPreparationThreshold else { return try jobs.map { try prepareOne(self, $0, parent) } }
        let middle = jobs.count / 2
        async let first = jobs[..<middle].map { try prepareOne(self, $0, parent) }
        let second = Result { try jobs[middle...].map { try prepareOne(self, $0, parent) } }
        var prepared = try await first
        prepared += try second.get()
        return prepared
    }

    /// A payload as given: a value, or JSON already encoded from a typed payload.
    private enum Payload {
        case value(JSONValue)
        case encoded([UInt8])
    }

    /// A job checked and encoded at this moment, held to ``maxEnvelopeBytes``: what every enqueue writes.
    private func prepare(type: String, payload: Payload, options: EnqueueOptions, enqueuedBy parent: String?) throws -> PreparedJob {
        let job = try envelope(type: type, payload: payload, options: options, enqueuedAt: Date().timeIntervalSince1970, enqueuedBy: parent)
        guard admits(envelopeBytes: job.bytes.count) else {
            throw EnqueueError(
                message: "job \(type) is \(job.bytes.count) bytes, over the \(maxEnvelopeBytes)-byte limit: pass a reference (an id or a URL) instead of the data")
        }
        return job
    }

    /// The size of the envelope an enqueue of this job at `enqueuedAt` writes, byte for byte: measured by the function
    /// the enqueue itself runs, so a check made before the job exists (`hoopoe scheduler`'s start-up check of each
    /// task's tick) cannot count otherwise than its enqueue will. (That check rebuilt the envelope from
    /// ``JobEnvelope``'s public fields: a field the enqueue adds, or writes otherwise, made the two disagree at the
    /// limit.) Held to the limit by ``admits(envelopeBytes:)``, as the enqueue holds it.
    /// - Parameters:
    ///   - type: the handler's name.
    ///   - payload: its input.
    ///   - options: the enqueue's options (its queue is written in the envelope).
    ///   - enqueuedAt: the enqueue time written (Unix seconds); a real enqueue's is the time it is prepared.
    ///   - enqueuedBy: the id of the job enqueueing it (``CurrentJob/id``), nil from outside a job.
    /// - Throws: ``EnqueueError`` for what the enqueue refuses before measuring (a bad name, option or number).
    package func envelopeBytes(
        type: String, payload: JSONValue, options: EnqueueOptions, enqueuedAt: Double, enqueuedBy: String? = nil
    ) throws -> Int {
        try envelope(type: type, payload: .value(payload), options: options, enqueuedAt: enqueuedAt, enqueuedBy: enqueuedBy).bytes.count
    }

    /// Whether an envelope of `bytes` may be enqueued: at most ``maxEnvelopeBytes``. The one comparison every enqueue
    /// and `hoopoe scheduler`'s start-up check make.
    package func admits(envelopeBytes bytes: Int) -> Bool { bytes <= maxEnvelopeBytes }

    /// The envelope of a job enqueued at `now`, checked and encoded, the size limit aside: the one function that
    /// decides which fields a new job's envelope carries, and so the bytes it takes. The enqueue encodes each job
    /// once, here; ``envelopeBytes(type:payload:options:enqueuedAt:enqueuedBy:)`` measures with it.
    private func envelope(
        type: String, payload: Payload, options: EnqueueOptions, enqueuedAt now: Double, enqueuedBy parent: String?
    ) throws -> PreparedJob {
        // The same rules the worker applies (EnvelopeRules): refused here, with the field named, rather than
        // written and sent to the dead set on arrival.
        if let problem = EnvelopeRules.queueProblem(options.queue) {
            throw EnqueueError(message: "'\(options.queue)' is not a queue name: it \(problem)")
        }
        guard !type.isEmpty else { throw EnqueueError(message: "a job needs a type") }
        if let problem = EnvelopeRules.typeProblem(type) { throw EnqueueError(message: "job type \(problem)") }
        if let id = options.id, let problem = EnvelopeRules.idProblem(id) { throw EnqueueError(message: "job id \(problem)") }
        // The option edges (jobs/PROTOCOL.md, "Enqueue options"): a value that would change when or whether the job runs
        // is refused naming the option, not clamped or defaulted.
        if let problem = options.problem(now: now) { throw EnqueueError(message: "job \(type): \(problem)") }
        var envelope = JobEnvelope(id: options.id ?? JobID.make(), type: type, queue: options.queue, enqueuedAt: now)
        envelope.maxAttempts = options.maxAttempts
        envelope.timeout = options.timeout?.seconds
        envelope.uniqueKey = options.uniqueKey
        // For the record, as the clients write it, and for the worker: a lock with a window of its own is not held
        // past it by a retry (JobStore.retry). Within the envelope's limit (30 days): `problem(now:)` refused others.
        envelope.uniqueFor = options.uniqueFor?.seconds
        if options.notify { envelope.notify = true }
        if let runAt = options.runAt?.timeIntervalSince1970, runAt > now { envelope.runAt = runAt }
        if let parent { envelope.enqueuedBy = parent }
        let fields = EnvelopeRules.Fields(
            id: envelope.id, type: type, queue: options.queue, attempt: 0, maxAttempts: options.maxAttempts.map(Double.init),
            timeout: envelope.timeout, enqueuedAt: now, runAt: envelope.runAt, uniqueKey: options.uniqueKey, uniqueFor: nil)
        // The names were checked above (a generated id is valid by construction): the rest once, not those twice.
        if let problem = EnvelopeRules.violation(fields, namesChecked: true) {
            throw EnqueueError(message: problem.replacingOccurrences(of: "invalid envelope: ", with: "job \(type): "))
        }
        let bytes: [UInt8]
        switch payload {
        case .value(let value):
            envelope.payload = value
            bytes = envelope.encoded()
        case .encoded(let json):
            bytes = envelope.encoded(payloadJSON: json)
        }
        // Empty: the payload holds NaN or an infinity, which JSON cannot carry (once written as an empty envelope).
        guard !bytes.isEmpty else { throw EnqueueError(message: "job \(type): the payload holds a number JSON cannot carry (NaN or infinity)") }
        return PreparedJob(id: envelope.id, queue: options.queue, runAt: envelope.runAt, bytes: bytes, options: options)
    }
}
