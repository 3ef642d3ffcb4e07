import HoopoeCore
import Providers

/// Checks an `sms.send` payload before any provider is called, so a message Kavenegar would refuse (`431`, `406`,
/// `411`, `424`) fails at once with a reason a person can act on, and never half-way through a fallback.
///
/// Token rules are docs/providers.md §2.4.5/§2.5: `token`, `token2`, `token3` without spaces, `token10` with at most 5,
/// `token20` with at most 8, each 1–100 characters, no other whitespace or newline, no underscore, no separator
/// (`,` `;` `|`: the docs name separators without listing them). The payload must carry exactly the tokens its
/// template declares.
public enum SMSPayloadCheck {
    /// A payload ready to send: its template and the recipient in both providers' formats.
    public struct Checked: Sendable, Equatable {
        public var template: SMSTemplate
        /// `09xxxxxxxxx`, for Kavenegar and the daily-cap key.
        public var nationalPhone: String
        /// `+989xxxxxxxxx`, for IPPanel.
        public var internationalPhone: String
    }

    /// The checked payload, or the reason it can never be sent.
    public static func check(_ payload: SMSSendPayload, templates: SMSTemplates) -> Result<Checked, SMSPayloadProblem> {
        if payload.messageID.isEmpty { return .failure(.init("message_id is empty")) }
        if let notAfter = payload.notAfter, !(notAfter.isFinite && notAfter > 0 && notAfter < ExpiryDate.latest) {
            return .failure(.init("not_after must be a Unix time in seconds before 2200, got \(notAfter)"))
        }
        guard let template = templates[payload.template] else {
            let known = templates.templates.keys.sorted().joined(separator: ", ")
            return .failure(.init("unknown template \(payload.template) (the templates file defines: \(known))"))
        }
        guard let national = nationalMobile(payload.phone) else {
            return .failure(.init("phone \(maskedForReason(payload.phone)) is not an Iranian mobile number (09…, +989…, 00989…)"))
        }
        for name in payload.tokens.keys.sorted() where template.tokens[name] == nil {
            return .failure(.init("token \(name) is not used by template \(template.name) (it takes \(template.tokens.keys.sorted().joined(separator: ", ")))"))
        }
        for name in template.tokens.keys.sorted() {
            guard let value = payload.tokens[name] else {
                return .failure(.init("token \(name) (\(template.tokens[name] ?? "")) is missing for template \(template.name)"))
            }
            if let problem = tokenProblem(value, name: name) { return .failure(.init(problem)) }
        }
        return .success(Checked(template: template, nationalPhone: national, internationalPhone: "+98" + national.dropFirst()))
    }

    /// Why a token value would be refused by Kavenegar, or nil.
    public static func tokenProblem(_ value: String, name: String) -> String? {
        let allowedSpaces = name == "token10" ? 5 : name == "token20" ? 8 : 0
        if value.isEmpty { return "\(name) is empty" }
        if value.count > 100 { return "\(name) is longer than 100 characters" }
        var spaces = 0
        for character in value {
            if character == " " {
                spaces += 1
            } else if character.isWhitespace || character.isNewline {
                return "\(name) contains a newline or other whitespace"
            } else if character == "_" {
                return "\(name) contains an underscore"
            } else if [",", ";", "|"].contains(character) {
                return "\(name) contains a separator (\(character))"
            }
        }
        if spaces > allowedSpaces {
            return "\(name) has \(spaces) space(s); \(allowedSpaces == 0 ? "no spaces" : "at most \(allowedSpaces)") allowed"
        }
        return nil
    }

    /// `09xxxxxxxxx` from `09…`, `9…`, `989…`, `+989…` or `00989…`, in Latin, Persian or Arabic-Indic digits
    /// (`۰۹۱۲…` from a Persian keyboard); nil for anything else.
    public static func nationalMobile(_ phone: String) -> String? {
        let compact = LatinDigits.latin(phone.filter { $0 != " " && $0 != "-" })
        var digits = Substring(compact)
        if digits.hasPrefix("+98") { digits = digits.dropFirst(3) }
        else if digits.hasPrefix("0098") { digits = digits.dropFirst(4) }
        else if digits.hasPrefix("98") && digits.count == 12 { digits = digits.dropFirst(2) }
        else if digits.hasPrefix("0") { digits = digits.dropFirst(1) }
        guard digits.count == 10, digits.hasPrefix("9"), digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return "0" + digits
    }

    /// A phone for a dead-set reason: masked like log lines.
    static func maskedForReason(_ phone: String) -> String { PhoneNumberMask.maskNumber(phone) }
}

/// Why a payload can never be sent.
public struct SMSPayloadProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
