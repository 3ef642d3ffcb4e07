import Foundation

/// Free text a person typed (a first name, a service name) made into a value Kavenegar's spaced tokens take, where it
/// enters rather than weeks later at send time (decision record 0108).
///
/// Kavenegar's tokens hold "Persian and English letters and digits" (seed 002) and it answers 422 ("an unsuitable
/// character") for anything else, a refusal for good: a user named `Sara 🌸` lost every reminder. So letters, digits
/// and `-` are kept and anything else (separators `_ , ; |`, whitespace, emoji, brackets, `!`) becomes a space; then
/// the token's word limit and 100 characters. ``SMSPayloadCheck/tokenProblem(_:name:)`` stays looser on purpose: our
/// own templates send dates (`1403/09/25`) and links in other tokens.
enum SMSTokenText {
    /// The longest value any token takes.
    static let maxLength = 100

    /// `text` with only letters, digits and `-` kept, at most `maxSpaces + 1` words (one space between them) and
    /// ``maxLength`` characters; "" when nothing is left.
    /// - Parameters:
    ///   - text: what a person or another service wrote.
    ///   - maxSpaces: the token's limit: 5 for `token10`, 8 for `token20`.
    static func words(_ text: String, maxSpaces: Int) -> String {
        let spaced = String(text.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : " " })
        let words = spaced.split(separator: " ").prefix(maxSpaces + 1).joined(separator: " ")
        return String(words.prefix(maxLength)).trimmingCharacters(in: .whitespaces)
    }
}
