/// A job this worker holds: read from a stream, not yet settled.
struct FetchedJob: Sendable {
    /// The queue.
    let queue: String
    /// The stream entry id (what is acknowledged).
    let entryID: String
    /// `entryID` as its two numbers, nil when it is not in Redis's form: read once here, for holding it, releasing it
    /// and ordering its acknowledgement (``Leases``, ``Acknowledgement/held``), which read it three times a job before
    /// (~220 instructions each, callgrind, session 27).
    let held: HeldEntryID?
    /// The envelope as it was stored (decoded only when run: a malformed one must still be reported).
    let bytes: [UInt8]
    /// How many times the stream has delivered it (1 unless it was recovered from a lost worker).
    let deliveries: Int
    /// Moved here from the scheduled set by the promote script (the entry's `promoted` field): its time was
    /// decided by its score there, so it is not checked for an early `run_at` again.
    var promoted = false
    /// Of the deliveries before this one, how many a worker is known to have started and then lost (it marks a
    /// recovered job before running it: ``JobStore/markRecoveredRun(queue:entryID:)``). The others were lost before
    /// anyone knew: the first delivery's run, or a fetch held in a lost worker's buffer and never started.
    var knownLostRuns = 0

    /// What a buffer leaves where it moved a job out (``JobBuffer``): no job, and nothing to retain.
    static var vacated: FetchedJob { FetchedJob(queue: "", entryID: "", held: nil, bytes: [], deliveries: 0) }

    private init(queue: String, entryID: String, held: HeldEntryID?, bytes: [UInt8], deliveries: Int) {
        self.queue = queue
        self.entryID = entryID
        self.held = held
        self.bytes = bytes
        self.deliveries = deliveries
    }

    init(queue: String, entryID: String, bytes: [UInt8], deliveries: Int, promoted: Bool = false, knownLostRuns: Int = 0) {
        self.queue = queue
        self.entryID = entryID
        held = HeldEntryID(entryID)
        self.bytes = bytes
        self.deliveries = deliveries
        self.promoted = promoted
        self.knownLostRuns = knownLostRuns
    }
}
