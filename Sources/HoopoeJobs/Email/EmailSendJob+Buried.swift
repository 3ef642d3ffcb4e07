import HoopoeCore

extension EmailSendJob {
    /// The engine buried this job where no run of it concluded — a last attempt cut off by its timeout, lost runs
    /// past `max_attempts`, the kill rule (``JobHandler/buried(_:reason:context:)``, decision 0114) — so `email.failed`
    /// says so by message id, as a run's own last attempt does; `job.dead` names only the job. Before, a service
    /// waiting for `email.sent` or `email.failed` heard nothing (a cut-off run skips its own `email.failed`: it cannot
    /// tell a timeout from a shutdown, which hands the job back).
    ///
    /// - `sent` in the ledger: nothing (its `email.sent` was emitted, or is by the next look at the message).
    /// - `sending`: a request may have reached Brevo: `email.failed` says the outcome is unknown.
    /// - otherwise: nothing was sent: `not sent`.
    /// A cut-off run whose request then returns may still record `sent` and emit `email.sent` after this.
    public func buried(_ payload: EmailSendPayload, reason: String, context: JobContext) async throws {
        let record = try await EmailLedger(services: services).record(payload.messageID)
        switch record.state {
        case "sent":
            return
        case "sending":
            try await emitFailed(payload, reason: "outcome unknown: the engine buried its job (\(reason)) while a send was under way; not sent again (it may have been sent)")
        default:
            try await emitFailed(payload, reason: "not sent: the engine buried its job (\(reason)); it is not run again")
        }
    }
}
