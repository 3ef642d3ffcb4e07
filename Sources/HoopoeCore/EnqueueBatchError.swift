/// A batch some of whose jobs may be in Redis when an error came: one outcome a job, in the batch's order, and the
/// first error. Thrown by ``JobQueue/enqueueBatch(_:)-(Array<(type:payload:options:)>)`` for a batch of two jobs or
/// more once anything was sent (a one-job enqueue throws its error alone).
///
/// Why: a batch's plain jobs are `XADD`s and the rest scripts, each independent. Throwing the first refusal alone hid
/// that the jobs around it were written: sending the batch again ran those twice, giving up dropped the rest
/// (decision 0080 §4, which the clients follow too).
public struct EnqueueBatchError: Error, CustomStringConvertible {
    /// What became of one job of the batch.
    public enum Outcome: Sendable {
        /// Written, or refused as a duplicate or an already used once-key: the result a one-job enqueue returns.
        case written(EnqueueResult)
        /// Its command was refused (nothing of it written): the error a one-job enqueue throws.
        case failed(any Error)
        /// Sent without an answer (a lost connection, a timeout): it may or may not be in.
        case unknown
    }

    /// One outcome a job, in the batch's order.
    public let outcomes: [Outcome]
    /// The first error, in the batch's order.
    public let firstError: any Error

    public var description: String {
        var written = 0, failed = 0, unknown = 0
        for outcome in outcomes {
            switch outcome {
            case .written: written += 1
            case .failed: failed += 1
            case .unknown: unknown += 1
            }
        }
        return "\(failed + unknown) of \(outcomes.count) jobs not enqueued (\(failed) refused, \(unknown) without an answer; "
            + "\(written) written: do not send those again): \(firstError)"
    }
}
