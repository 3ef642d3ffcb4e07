import HoopoeCore

/// A domain job's handler, run with its job's id as ``CurrentJob/id``: every event it writes, however deep in the job
/// (a provider's alert, a reminder's release), carries the `job` field naming it, and every job it enqueues names it
/// as `enqueued_by` (decision 0091).
///
/// A wrapper rather than the engine's: the engine runs every job of every type, and most (a library user's, the
/// benchmark's) write no event and enqueue nothing; only the domain jobs pay for the task-local value. Every
/// requirement of ``JobHandler`` is forwarded (`RunAsCurrentJobTests` checks each).
struct RunAsCurrentJob<Inner: JobHandler>: JobHandler {
    typealias Payload = Inner.Payload
    static var type: String { Inner.type }

    let inner: Inner

    init(_ inner: Inner) { self.inner = inner }

    var maxAttempts: Int { inner.maxAttempts }
    var timeout: Duration { inner.timeout }
    var retryPolicy: RetryPolicy { inner.retryPolicy }
    var redactedPayloadKeys: Set<String> { inner.redactedPayloadKeys }
    var payloadPathsNamedLikeSecrets: Set<String> { inner.payloadPathsNamedLikeSecrets }

    func run(_ payload: Payload, context: JobContext) async throws {
        try await CurrentJob.$id.withValue(context.id) {
            try await inner.run(payload, context: context)
        }
    }

    func buried(_ payload: Payload, reason: String, context: JobContext) async throws {
        try await CurrentJob.$id.withValue(context.id) {
            try await inner.buried(payload, reason: reason, context: context)
        }
    }
}
