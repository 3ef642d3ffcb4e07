import Foundation

/// HTTP basic authentication against one password (`HOOPOE_DASHBOARD_PASSWORD`); any user name is accepted.
///
/// Basic auth sends the password with every request in the clear: over anything but loopback, put the dashboard
/// behind a TLS proxy (docs/operating.md, "Dashboard").
public struct BasicAuth: Sendable {
    private let password: [UInt8]

    /// - Parameter password: the one password; must not be empty.
    public init(password: String) { self.password = Array(password.utf8) }

    /// The realm browsers show in their prompt.
    static let challenge = "Basic realm=\"hoopoe dashboard\", charset=\"UTF-8\""

    /// True when the `Authorization` header value carries the password (compared in constant time).
    func accepts(authorization: String?) -> Bool {
        guard let authorization else { return false }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic",
            let decoded = Data(base64Encoded: String(parts[1]).trimmingCharacters(in: .whitespaces))
        else { return false }
        let credentials = Array(decoded)
        guard let colon = credentials.firstIndex(of: UInt8(ascii: ":")) else { return false }
        return ConstantTime.equal(credentials[(colon + 1)...], password)
    }
}
