extension IPPanelClient {
    /// Where and how to reach IPPanel Edge.
    public struct Configuration: Sendable {
        /// `https://edge.ippanel.com/v1` in production (the supplied doc says http; the official SDKs use https).
        /// Endpoint paths (`/api/send`, …) are appended to it.
        public var baseURL: String
        /// The panel-generated API key, sent raw in `Authorization`.
        ///
        /// Raw vs `Bearer` is an open question (docs/providers.md §3.1, §6.1): the endpoint pages and the official SDK
        /// send it raw, the docs' landing page shows `Bearer`. Raw until a sandbox says otherwise.
        public var apiKey: String
        /// Our line, E.164 (`+983000505`), used as `from_number`.
        public var fromNumber: String
        /// Connect/total limits; SMS defaults (5 s / 15 s).
        public var timeouts: ProviderTimeouts

        /// Creates a configuration.
        public init(
            baseURL: String = "https://edge.ippanel.com/v1",
            apiKey: String,
            fromNumber: String,
            timeouts: ProviderTimeouts = .sms
        ) {
            self.baseURL = baseURL
            self.apiKey = apiKey
            self.fromNumber = fromNumber
            self.timeouts = timeouts
        }
    }
}
