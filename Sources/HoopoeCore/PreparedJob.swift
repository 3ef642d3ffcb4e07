/// A job ``JobQueue`` checked and encoded, ready for ``JobStore/enqueue(_:maxEnvelopeBytes:)`` to write.
struct PreparedJob: Sendable {
    /// The job's id.
    let id: String
    /// Its queue.
    let queue: String
    /// When it may run (Unix seconds), nil for now.
    let runAt: Double?
    /// The envelope's JSON bytes, as they will be stored.
    let bytes: [UInt8]
    /// The caller's options (uniqueness, once-key).
    let options: EnqueueOptions

    /// Written with a plain `XADD`: due now, not unique, no once-key.
    var isPlain: Bool { runAt == nil && options.uniqueKey == nil && options.onceKey == nil }
}
