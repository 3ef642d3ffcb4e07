/// A finished job to acknowledge (``JobStore/acknowledge(_:queue:counter:at:)``).
struct Acknowledgement: Sendable {
    let queue: String
    let entryID: String
    let type: String
    let jobID: String
    let uniqueKey: String?
    /// `processed`, `discarded` or `deferred`.
    let counter: String
    /// The outcome JSON to push to the job's answer list (``QueueKeys/answer(_:)``), when it has `notify`.
    var answer: String? = nil
    /// Its job history record (``HistoryRecord``'s stored text) and the caps of that history; nil when the worker
    /// keeps none.
    var history: (record: String, limits: JobStore.HistoryLimits)? = nil
}
