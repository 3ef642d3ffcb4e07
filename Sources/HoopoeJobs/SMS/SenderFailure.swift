import Providers

/// One provider's failure to take a message in a run of `sms.send`, and whether it ends that provider's part.
///
/// Most failures say by their disposition whether to try again. Kavenegar's `402` ("operation failed", meaning not
/// documented) is retried up to a cap the provider table sets (about 3 attempts, docs/providers.md §2.6), counted
/// per message in the ledger; past it the failure is as final as an alert that needs the payload changed.
struct SenderFailure: Sendable {
    var error: ProviderError
    /// The provider's cap on attempts, when this failure reached it.
    var capReached: Int? = nil

    /// A permanent refusal by a provider tried after one that failed only for now (``SMSSendJob``): final for this
    /// provider, not for the message.
    var refusedForGood = false

    /// True when trying this provider again cannot help: an alert that needs the payload changed, a capped code whose
    /// cap is reached, or a permanent refusal.
    var isFinal: Bool { capReached != nil || refusedForGood || error.disposition == .alert(requeueAfterFix: false) }

    var description: String {
        guard let capReached else { return error.description }
        return "\(error.description); \(error.provider) \(error.code) is tried at most \(capReached) times: given up"
    }
}
