extension KavenegarClient {
    /// Where and how to reach Kavenegar.
    public struct Configuration: Sendable {
        /// Everything before the key: `https://api.kavenegar.com/v1` in production, a fake's URL in tests.
        public var baseURL: String
        /// The API key. It is a URL path segment, so it is redacted from every log line and error.
        public var apiKey: String
        /// Our dedicated line for `sms/send`; nil uses the account's default line.
        public var sender: String?
        /// Connect/total limits; SMS defaults (5 s / 15 s).
        public var timeouts: ProviderTimeouts

        /// Creates a configuration.
        public init(
            baseURL: String = "https://api.kavenegar.com/v1",
            apiKey: String,
            sender: String? = nil,
            timeouts: ProviderTimeouts = .sms
        ) {
            self.baseURL = baseURL
            self.apiKey = apiKey
            self.sender = sender
            self.timeouts = timeouts
        }
    }
}
