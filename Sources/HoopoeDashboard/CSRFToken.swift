import Crypto
import Foundation

/// The token every state-changing form carries, so a page on another site cannot make the operator's browser
/// retry or delete jobs (cross-site request forgery).
///
/// One random token per dashboard process (256 bits from the system's generator), written into each form as a
/// hidden field and checked on every POST in constant time. Another site can make the browser send a POST but
/// cannot read a dashboard page to learn the token (the same-origin rule, and `X-Frame-Options: DENY`). A restart
/// makes a new token, so a form left open across a restart is refused once: reload and submit again.
public struct CSRFToken: Sendable {
    /// The token, hex.
    public let value: String

    /// A fresh random token.
    public init() {
        var generator = SystemRandomNumberGenerator()
        value = (0..<32).map { _ in
            let byte = UInt8.random(in: 0...255, using: &generator)
            return String(byte, radix: 16).count == 1 ? "0" + String(byte, radix: 16) : String(byte, radix: 16)
        }.joined()
    }

    /// A token with a given value (tests).
    public init(value: String) { self.value = value }

    /// True when `candidate` is this token.
    public func accepts(_ candidate: String?) -> Bool {
        guard let candidate else { return false }
        return ConstantTime.equal(Array(candidate.utf8), Array(value.utf8))
    }

    /// The hidden form field.
    var field: HTML { "<input type=\"hidden\" name=\"csrf\" value=\"\(value)\">" }

    /// A seal on `notice` (an HMAC keyed by this token): an action's redirect carries it beside the notice, and a page
    /// shows a notice only with its seal, so a link from elsewhere (`/dead?notice=Session expired, log in at …`)
    /// cannot put its own words in the dashboard's status banner.
    func seal(_ notice: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Array(notice.utf8), using: SymmetricKey(data: Array(value.utf8)))
        return code.prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    /// True when `seal` is ``seal(_:)``'s for `notice`.
    func opens(_ notice: String, seal candidate: String?) -> Bool {
        guard let candidate else { return false }
        return ConstantTime.equal(Array(candidate.utf8), Array(seal(notice).utf8))
    }
}
