import Foundation
import HoopoeJSON
import Redis

/// The engine's front door: enqueue jobs, and inspect or change them (cancel, dead set, counters).
///
/// Safe to share; every method is one or a few round trips, each state change one Lua script. The
/// worker (``Worker``) uses the same keys and scripts to fetch and settle jobs.
public final class JobQueue: Sendable {
    /// The Redis client.
    public let redis: RedisClient
    /// The key prefix (`hoopoe`).
    public let namespace: String
    /// The largest envelope accepted at enqueue (default 512 KiB); larger ones are refused with an error.
    public let maxEnvelopeBytes: Int

    /// - Parameters:
    ///   - redis: the Redis client.
    ///   - namespace: the key prefix.
    ///   - maxEnvelopeBytes: the enqueue size limit.
    public init(redis: RedisClient, namespace: String = "hoopoe", maxEnvelopeBytes: Int = 512 * 1024) {
        self.redis = redis
        self.namespace = namespace
        self.maxEnvelopeBytes = maxEnvelopeBytes
    }

    /// The keys of `queue`.
    public func keys(_ queue: String) -> QueueKeys { QueueKeys(queue: queue, namespace: namespace) }
    /// The keys shared by all queues.
    public var global: GlobalKeys { GlobalKeys(namespace: namespace) }

    // MARK: Enqueue

    /// Enqueues one job.
    /// - Parameters:
    ///   - type: the handler's name.
    ///   - payload: its input.
    ///   - options: queue, time, uniqueness.
    /// - Throws: ``EnqueueError`` for a bad queue name or an envelope over the size limit; ``RedisError``.
    @discardableResult
    public func enqueue(type: String, payload: JSONValue, options: EnqueueOptions = EnqueueOptions()) async throws -> EnqueueResult {
        try await enqueueBatch([(type, payload, options)])[0]
    }

    /// Enqueues many jobs in one round trip. Each is independent: a refused duplicate does not stop the
    /// others. Results are in the order given.
    public func enqueueBatch(_ jobs: [(type: String, payload: JSONValue, options: EnqueueOptions)]) async throws -> [EnqueueResult] {
        let prepared = try jobs.map { try prepare(type: $0.type, payload: $0.payload, options: $0.options) }
        // Jobs that are plain (now, not unique, not once) go straight to the stream: one XADD each.
        // The others go through the enqueue script.
        var results = [EnqueueResult?](repeating: nil, count: prepared.count)
        var plain: [(Int, RedisCommand)] = []
        var scripted: [(Int, (keys: [String], arguments: [String]))] = []
        for (index, job) in prepared.enumerated() {
            if job.isPlain {
                var xadd = RedisCommand("XADD", keys(job.envelope.queue).stream, "*", "job")
                xadd.append(bytes: job.bytes)
                plain.append((index, xadd))
                results[index] = .enqueued(id: job.envelope.id)
            } else {
                scripted.append((index, job.scriptCall(keys(job.envelope.queue), maxBytes: maxEnvelopeBytes)))
            }
        }
        if !plain.isEmpty {
            for (reply, (_, command)) in zip(try await redis.pipeline(plain.map(\.1)), plain) {
                if let message = reply.errorMessage {
                    throw RedisError.reply(message, endpoint: redis.configuration.endpoint.description, command: command.name)
                }
            }
        }
        if !scripted.isEmpty {
            let replies = try await redis.pipeline(QueueScripts.enqueue, calls: scripted.map(\.1))
            for (reply, (index, _)) in zip(replies, scripted) {
                results[index] = try Self.enqueueResult(reply, redis: redis)
            }
        }
        return results.map { $0! }
    }

    private struct PreparedJob {
        let envelope: JobEnvelope
        let bytes: [UInt8]
        let options: EnqueueOptions

        var isPlain: Bool { envelope.runAt == nil && options.uniqueKey == nil && options.onceKey == nil }

        func scriptCall(_ keys: QueueKeys, maxBytes: Int) -> (keys: [String], arguments: [String]) {
            let now = Date().timeIntervalSince1970
            let uniqueSeconds = options.uniqueFor.map { $0.seconds } ?? (max(0, (envelope.runAt ?? now) - now) + 86_400)
            return (
                [keys.stream, keys.scheduled, keys.scheduledJobs, keys.unique(options.uniqueKey ?? "-"), keys.once(options.onceKey ?? "-")],
                [
                    String(decoding: bytes, as: UTF8.self), envelope.id, envelope.runAt.map { String($0) } ?? "0",
                    options.uniqueKey == nil ? "" : Self.wholeSeconds(uniqueSeconds),
                    options.onceKey == nil ? "" : Self.wholeSeconds(options.onceFor.seconds), String(maxBytes),
                ]
            )
        }

        /// A TTL in whole seconds for `SET EX`: at least 1, at most 10⁹ (~31 years: Redis refuses an expiry whose
        /// milliseconds overflow), and never a conversion that traps, whatever `Duration` the caller passed.
        static func wholeSeconds(_ seconds: Double) -> String {
            guard seconds.isFinite else { return "1000000000" }
            return String(Int(min(1e9, max(1, seconds.rounded(.up)))))
        }
    }

    private func prepare(type: String, payload: JSONValue, options: EnqueueOptions) throws -> PreparedJob {
        // The same rules the worker applies (EnvelopeRules): refused here, with the field named, rather than
        // written and sent to the dead set on arrival.
        if let problem = EnvelopeRules.queueProblem(options.queue) {
            throw EnqueueError(message: "'\(options.queue)' is not a queue name: it \(problem)")
        }
        guard !type.isEmpty else { throw EnqueueError(message: "a job needs a type") }
        if let problem = EnvelopeRules.typeProblem(type) { throw EnqueueError(message: "job type \(problem)") }
        if let id = options.id, let problem = EnvelopeRules.idProblem(id) { throw EnqueueError(message: "job id \(problem)") }
        let now = Date().timeIntervalSince1970
        var envelope = JobEnvelope(id: options.id ?? JobID.make(), type: type, queue: options.queue, payload: payload, enqueuedAt: now)
        envelope.maxAttempts = options.maxAttempts
        envelope.timeout = options.timeout?.seconds
        envelope.uniqueKey = options.uniqueKey
        if options.notify { envelope.notify = true }
        if let runAt = options.runAt?.timeIntervalSince1970, runAt > now { envelope.runAt = runAt }
        let fields = EnvelopeRules.Fields(
            id: envelope.id, type: type, queue: options.queue, attempt: 0, maxAttempts: options.maxAttempts.map(Double.init),
            timeout: envelope.timeout, enqueuedAt: now, runAt: envelope.runAt, uniqueKey: options.uniqueKey, uniqueFor: nil)
        if let problem = EnvelopeRules.violation(fields) {
            throw EnqueueError(message: problem.replacingOccurrences(of: "invalid envelope: ", with: "job \(type): "))
        }
        if let uniqueFor = options.uniqueFor?.seconds, !(uniqueFor > 0) {
            throw EnqueueError(message: "job \(type): the unique lock's duration must be > 0 (got \(uniqueFor) s)")
        }
        let bytes = envelope.encoded()
        guard bytes.count <= maxEnvelopeBytes else {
            throw EnqueueError(message: "job \(type) is \(bytes.count) bytes, over the \(maxEnvelopeBytes)-byte limit: pass a reference (an id or a URL) instead of the data")
        }
        return PreparedJob(envelope: envelope, bytes: bytes, options: options)
    }

    private static func enqueueResult(_ reply: RedisReply, redis: RedisClient) throws -> EnqueueResult {
        if let message = reply.errorMessage {
            throw message.hasPrefix("HOOPOE ")
                ? EnqueueError(message: String(message.dropFirst(7)))
                : RedisError.reply(message, endpoint: redis.configuration.endpoint.description, command: "EVALSHA enqueue")
        }
        guard let parts = reply.array, parts.count == 2, let kind = parts[0].string, let id = parts[1].string else {
            throw RedisError(.protocolError, endpoint: redis.configuration.endpoint.description, command: "EVALSHA enqueue", message: "unexpected reply \(reply)")
        }
        switch kind {
        case "enqueued": return .enqueued(id: id)
        case "scheduled": return .scheduled(id: id)
        case "duplicate": return .duplicate(existingID: id)
        default: return .alreadyEnqueued(existingID: id)
        }
    }
}
