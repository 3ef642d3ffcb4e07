/// A finished job to acknowledge (``JobStore/acknowledge(_:queue:counter:at:)``).
///
/// A class, not a struct: on its way from the runner through the acknowledger's batches to the script's arguments it
/// is copied ~30 times (every `for`, `allSatisfy` and filter over a batch yields a copy), and as a struct each copy
/// retained and released its eight strings (callgrind, session 12: 640,000 struct destructions for 20,000 jobs).
/// Immutable, so sharing it is safe.
final class Acknowledgement: Sendable {
    let queue: String
    let entryID: String
    /// `entryID` as its two numbers, nil when it is not in Redis's form: the job's ``FetchedJob/held`` when given (read
    /// once a job, at its fetch), else read here.
    let held: HeldEntryID?
    let type: String
    let jobID: String
    let uniqueKey: String?
    /// `processed`, `discarded` or `deferred`.
    let counter: String
    /// The outcome JSON to push to the job's answer list (``QueueKeys/answer(_:)``), when it has `notify`.
    let answer: String?
    /// Its job history record (``HistoryRecord``'s stored text) and the caps of that history; nil when the worker
    /// keeps none.
    let history: (record: [UInt8], limits: JobStore.HistoryLimits)?

    init(
        queue: String, entryID: String, held: HeldEntryID? = nil, type: String, jobID: String, uniqueKey: String?, counter: String,
        answer: String? = nil, history: (record: [UInt8], limits: JobStore.HistoryLimits)? = nil
    ) {
        self.queue = queue
        self.entryID = entryID
        self.held = held ?? HeldEntryID(entryID)
        self.type = type
        self.jobID = jobID
        self.uniqueKey = uniqueKey
        self.counter = counter
        self.answer = answer
        self.history = history
    }
}
