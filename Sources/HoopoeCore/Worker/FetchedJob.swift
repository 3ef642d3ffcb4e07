/// A job this worker holds: read from a stream, not yet settled.
struct FetchedJob: Sendable {
    /// The queue.
    let queue: String
    /// The stream entry id (what is acknowledged).
    let entryID: String
    /// The envelope as it was stored (decoded only when run: a malformed one must still be reported).
    let bytes: [UInt8]
    /// How many times the stream has delivered it (1 unless it was recovered from a lost worker).
    let deliveries: Int
    /// Moved here from the scheduled set by the promote script (the entry's `promoted` field): its time was
    /// decided by its score there, so it is not checked for an early `run_at` again.
    var promoted = false
}
