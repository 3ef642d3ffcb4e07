import HoopoeCore

/// A domain job's handler, run with its job's id as ``EventLog/writingJob``: every event it writes, however deep in
/// the job (a provider's alert, a reminder's release), carries the `job` field naming it.
///
/// A wrapper rather than the engine's: the engine runs every job of every type, and most (a library user's, the
/// benchmark's) write no event; only the domain jobs pay for the task-local value. Every requirement of
/// ``JobHandler`` is forwarded (`EventsNameTheirJobTests` compares the registry's entries with the bare handlers').
struct EventsNameTheirJob<Inner: JobHandler>: JobHandler {
    typealias Payload = Inner.Payload
    static var type: String { Inner.type }

    let inner: Inner

    init(_ inner: Inner) { self.inner = inner }

    var maxAttempts: Int { inner.maxAttempts }
    var timeout: Duration { inner.timeout }
    var retryPolicy: RetryPolicy { inner.retryPolicy }
    var redactedPayloadKeys: Set<String> { inner.redactedPayloadKeys }

    func run(_ payload: Payload, context: JobContext) async throws {
        try await EventLog.$writingJob.withValue(context.id) {
            try await inner.run(payload, context: context)
        }
    }
}
