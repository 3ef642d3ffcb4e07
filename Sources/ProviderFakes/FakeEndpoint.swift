/// The endpoints the fakes implement; faults are programmed per endpoint.
public enum FakeEndpoint: String, Sendable, Hashable, CaseIterable {
    case kavenegarLookup = "kavenegar verify/lookup"
    case kavenegarSend = "kavenegar sms/send"
    case kavenegarStatus = "kavenegar sms/status"
    case kavenegarAccountInfo = "kavenegar account/info"
    case kavenegarSelectOutbox = "kavenegar sms/selectoutbox"
    case kavenegarLatestOutbox = "kavenegar sms/latestoutbox"
    case kavenegarOther = "kavenegar other"
    case ippanelSend = "ippanel send"
    case ippanelRecipients = "ippanel report/recipients"
    case ippanelByBulk = "ippanel report/by_bulk"
    case ippanelNewList = "ippanel report/new_list"
    case ippanelBulkStats = "ippanel report/bulk_stats"
    case ippanelCredit = "ippanel payment/credit/mine"
    case ippanelOther = "ippanel other"
    case brevoCreateChild = "brevo create child"
    case brevoListChildren = "brevo list children"
    case brevoGetChild = "brevo get child"
    case brevoCreationStatus = "brevo creation status"
    case brevoAddCredits = "brevo add credits"
    case brevoAssociateIP = "brevo associate ip"
    case brevoSendEmail = "brevo send transactional email"
    case brevoEmailEvents = "brevo transactional email events"
    case brevoOther = "brevo other"
    case unknown

    /// `kavenegar`, `ippanel`, `brevo`, or empty for ``unknown``.
    var provider: String {
        let first = String(rawValue.prefix { $0 != " " })
        return self == .unknown ? "" : first
    }

    /// Path prefixes under which each fake lives on the shared server.
    static let kavenegarPrefix = "/kavenegar/v1"
    static let ippanelPrefix = "/ippanel/v1"
    static let brevoPrefix = "/brevo/v3"

    /// Identifies the endpoint from a method and a path (query excluded).
    static func identify(method: String, path: String) -> FakeEndpoint {
        if path.hasPrefix(kavenegarPrefix + "/") {
            // /kavenegar/v1/{key}/{scope}/{method}.json
            let parts = path.dropFirst(kavenegarPrefix.count + 1).split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 3 else { return .kavenegarOther }
            switch "\(parts[1])/\(parts[2])" {
            case "verify/lookup.json": return .kavenegarLookup
            case "sms/send.json": return .kavenegarSend
            case "sms/status.json": return .kavenegarStatus
            case "account/info.json": return .kavenegarAccountInfo
            case "sms/selectoutbox.json": return .kavenegarSelectOutbox
            case "sms/latestoutbox.json": return .kavenegarLatestOutbox
            default: return .kavenegarOther
            }
        }
        if path.hasPrefix(ippanelPrefix + "/") {
            let rest = String(path.dropFirst(ippanelPrefix.count))
            if rest == "/api/send" { return .ippanelSend }
            if rest == "/api/report/recipients" { return .ippanelRecipients }
            if rest.hasPrefix("/api/report/by_bulk/") { return .ippanelByBulk }
            if rest == "/api/report/new_list" { return .ippanelNewList }
            if rest == "/api/report/bulk_stats" { return .ippanelBulkStats }
            if rest == "/api/payment/credit/mine" { return .ippanelCredit }
            return .ippanelOther
        }
        if path.hasPrefix(brevoPrefix + "/") {
            let parts = path.dropFirst(brevoPrefix.count + 1).split(separator: "/").map(String.init)
            if parts == ["smtp", "email"] { return method == "POST" ? .brevoSendEmail : .brevoOther }
            if parts == ["smtp", "statistics", "events"] { return method == "GET" ? .brevoEmailEvents : .brevoOther }
            guard parts.count >= 2, parts[0] == "reseller", parts[1] == "children" else { return .brevoOther }
            switch (method, parts.count, parts.dropFirst(3).joined(separator: "/")) {
            case ("POST", 2, _): return .brevoCreateChild
            case ("GET", 2, _): return .brevoListChildren
            case ("GET", 3, _): return .brevoGetChild
            case ("GET", 4, "accountCreationStatus"): return .brevoCreationStatus
            case ("POST", 5, "credits/add"): return .brevoAddCredits
            case ("POST", 5, "ips/associate"): return .brevoAssociateIP
            default: return .brevoOther
            }
        }
        return .unknown
    }
}
