/// A finished job to acknowledge (``JobStore/acknowledge(_:queue:counter:day:)``).
struct Acknowledgement: Sendable {
    let queue: String
    let entryID: String
    let type: String
    let jobID: String
    let uniqueKey: String?
    /// `processed` or `discarded`.
    let counter: String
    /// The outcome JSON to push to the job's answer list (``QueueKeys/answer(_:)``), when it has `notify`.
    var answer: String? = nil
}
