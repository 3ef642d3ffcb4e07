extension BrevoClient {
    /// Where and how to reach the Brevo reseller API.
    public struct Configuration: Sendable {
        /// `https://api.brevo.com/v3` (legacy host `https://api.sendinblue.com/v3` has the same paths).
        public var baseURL: String
        /// The reseller (master) account's v3 key, sent as `api-key`.
        public var apiKey: String
        /// Optional `partner-key`, sent along with `api-key`. Whether the account needs it is an open question
        /// (docs/providers.md §6.3).
        public var partnerKey: String?
        /// Connect/total limits; Brevo defaults (5 s / 30 s).
        public var timeouts: ProviderTimeouts

        /// Creates a configuration.
        public init(
            baseURL: String = "https://api.brevo.com/v3",
            apiKey: String,
            partnerKey: String? = nil,
            timeouts: ProviderTimeouts = .brevo
        ) {
            self.baseURL = baseURL
            self.apiKey = apiKey
            self.partnerKey = partnerKey
            self.timeouts = timeouts
        }
    }
}
