import HoopoeJSON
import Foundation
import Providers

/// The fake Kavenegar account: key, templates, credit, sent messages and their status lifecycle.
///
/// Implements the contracts of seed 002 / docs/providers.md §2 that a client meets: parameters by GET query or POST form
/// (the seed accepts both; other methods `405`), the `return`/`entries` envelope with the code mirrored into the HTTP
/// status and Table 1's own messages (``FakeKavenegarCodes``), `localid` idempotency, the 200/500 batch limits,
/// receptor formats (`411` — a raw `+` in a form body arrives as a space and fails here, as it does there), the
/// account's lines (`412`), the send date (`417`), links when the account is link-restricted (`420`), token checks
/// (`431`/`428`), the `tag`'s characters (`607`), templates (`424`), credit (`418`), and Table 2 statuses over a
/// lifecycle. Tags are not registered: any well-formed tag passes, where Kavenegar also wants it made in the panel.
struct FakeKavenegarState: Sendable {
    struct Message: Sendable {
        var id: Int64
        var receptor: String
        var text: String
        var sender: String
        var localID: String?
        var date: Int64
        var cost: Int64
        var lifecycle: [Int]
        var step: Int
        var status: Int { lifecycle[min(step, lifecycle.count - 1)] }
    }

    var apiKey: String
    var templates: Set<String>
    var credit: Int64
    var costPerMessage: Int64 = 120
    var defaultSender = "10004346"
    /// The account's dedicated lines, in their short form; a `sender` outside them is `412`.
    var lines: Set<String> = ["10004346"]
    /// When true, a link in a message or token is refused with `420` ("using links is restricted for you").
    var linksRestricted = false
    /// The fake's clock for the `date` check (Unix seconds); tests of `417` need no other.
    var now: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
    /// Statuses a new message goes through, one step per `sms/status` read (Table 2 codes).
    var lifecycle: [Int] = [1, 4, 10]
    var messages: [Int64: Message] = [:]
    var byLocalID: [String: Int64] = [:]
    var nextID: Int64 = 8_792_343

    static let confirmed = "تایید شد"

    static func statusText(_ status: Int) -> String {
        switch status {
        case 1: "در صف ارسال"
        case 2: "زمان بندی شده"
        case 4, 5: "ارسال به مخابرات"
        case 6: "خطا در ارسال پیام"
        case 10: "رسیده به گیرنده"
        case 11: "نرسیده به گیرنده"
        case 13: "ارسال پیام از سمت کاربر لغو شده یا در ارسال آن مشکلی پیش آمده"
        case 14: "بلاک شده"
        case 100: "شناسه پیامک نامعتبر است"
        default: "نامشخص"
        }
    }

    static func errorReply(code: Int, message: String? = nil) -> FakeReply {
        FakeKavenegarCodes.errorReply(code: code, message: message)
    }

    static func success(_ entries: JSONValue) -> FakeReply {
        .json(200, ["return": ["status": 200, "message": .string(confirmed)], "entries": entries])
    }

    mutating func handle(_ request: RecordedRequest) -> FakeReply {
        let parts = request.path.dropFirst(FakeEndpoint.kavenegarPrefix.count + 1).split(separator: "/")
        guard parts.count == 3 else { return Self.errorReply(code: 404) }
        guard String(parts[0]) == apiKey else { return Self.errorReply(code: 403) }
        // The seed: parameters "by GET or POST"; the query counts for both, a POST form wins on a clash.
        guard request.method == "GET" || request.method == "POST" else { return Self.errorReply(code: 405) }
        let form = request.method == "POST" ? request.query.merging(request.form) { $1 } : request.query
        switch request.endpoint {
        case .kavenegarLookup: return lookup(form)
        case .kavenegarSend: return send(form)
        case .kavenegarStatus: return status(form)
        case .kavenegarAccountInfo:
            return Self.success(["remaincredit": .integer(credit), "expiredate": 13_548_889, "type": "master"])
        case .kavenegarSelectOutbox: return selectOutbox(form)
        case .kavenegarLatestOutbox: return latestOutbox(form)
        default: return Self.errorReply(code: 404)
        }
    }

    /// The receptor formats of the seed: `09121234567`, `00989121234567`, `+989121234567`, `9121234567`.
    static func isMobile(_ receptor: String) -> Bool {
        var digits = Substring(receptor)
        for prefix in ["+98", "0098", "0"] where digits.hasPrefix(prefix) {
            digits = digits.dropFirst(prefix.count)
            break
        }
        return digits.count == 10 && digits.first == "9" && digits.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// `verify/lookup` also takes international numbers (`00` + country code) and Iranian landlines (it then calls).
    static func isLookupReceptor(_ receptor: String) -> Bool {
        if isMobile(receptor) { return true }
        let digits = receptor.allSatisfy { $0.isASCII && $0.isNumber }
        if digits && receptor.hasPrefix("00") && (10...17).contains(receptor.count) { return true }
        return digits && receptor.count == 11 && receptor.hasPrefix("0") && receptor.dropFirst().first != "9"
    }

    /// A sender line in its short form: `+9810004346` and `009810004346` are `10004346`.
    static func shortLine(_ sender: String) -> String {
        for prefix in ["+98", "0098"] where sender.hasPrefix(prefix) { return String(sender.dropFirst(prefix.count)) }
        return sender
    }

    /// Whether a `tag` is well formed (seed 002, `sms/send` and `verify/lookup`): 1 to 200 English letters and digits,
    /// `-`, and `ـ` (U+0640, as the seed writes it) or `_` (what it probably means, docs/providers.md §2.4.1: both
    /// pass until a sandbox settles it); no space and no other character (`&`, `*`, …). Else `607`.
    static func isTag(_ tag: String) -> Bool {
        (1...200).contains(tag.count)
            && tag.unicodeScalars.allSatisfy { scalar in
                ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
                    || scalar == "-" || scalar == "_" || scalar == "\u{0640}"
            }
    }

    /// What the fake takes for a link: a scheme or a `www.` host.
    static func containsLink(_ text: String) -> Bool {
        let lower = text.lowercased()
        return lower.contains("http://") || lower.contains("https://") || lower.contains("www.")
    }

    private mutating func lookup(_ form: [String: String]) -> FakeReply {
        guard let receptor = form["receptor"], let template = form["template"], let token = form["token"] else {
            return Self.errorReply(code: 400)
        }
        if receptor.isEmpty || template.isEmpty || token.isEmpty { return Self.errorReply(code: 406) }
        guard Self.isLookupReceptor(receptor) else { return Self.errorReply(code: 411) }
        let tokenNames = [("token", 0), ("token2", 0), ("token3", 0), ("token10", 5), ("token20", 8)]
        for (name, spaces) in tokenNames {
            guard let value = form[name] else { continue }
            let badCharacter = value.contains { ($0.isWhitespace && $0 != " ") || $0 == "_" || $0 == "," }
            if badCharacter || value.filter({ $0 == " " }).count > spaces || value.count > 100 {
                return Self.errorReply(code: 431)
            }
        }
        if let tag = form["tag"], !Self.isTag(tag) { return Self.errorReply(code: 607) }
        if linksRestricted && tokenNames.contains(where: { form[$0.0].map(Self.containsLink) ?? false }) {
            return Self.errorReply(code: 420)
        }
        guard templates.contains(template) else { return Self.errorReply(code: 424) }
        if form["type"] == "call" && !token.allSatisfy({ $0.isASCII && $0.isNumber }) {
            return Self.errorReply(code: 428)
        }
        guard credit >= costPerMessage else { return Self.errorReply(code: 418) }
        // The filled template, as the outbox shows it: here the template's name and every token's value.
        let filled = ["token", "token2", "token3", "token10", "token20"].compactMap { form[$0] }.joined(separator: " ")
        let message = record(receptor: receptor, text: "\(template): \(filled)", sender: "10008566", localID: nil)
        return Self.success([entry(message)])
    }

    private mutating func send(_ form: [String: String]) -> FakeReply {
        guard let receptorList = form["receptor"], let text = form["message"] else { return Self.errorReply(code: 400) }
        let receptors = receptorList.split(separator: ",").map(String.init)
        if receptors.isEmpty { return Self.errorReply(code: 406) }
        if receptors.count > 200 { return Self.errorReply(code: 414) }
        guard receptors.allSatisfy(Self.isMobile) else { return Self.errorReply(code: 411) }
        if text.isEmpty || text.count > 900 { return Self.errorReply(code: 413) }
        let sender = form["sender"].flatMap { $0.isEmpty ? nil : $0 } ?? defaultSender
        guard lines.contains(Self.shortLine(sender)) else { return Self.errorReply(code: 412) }
        if let date = form["date"], !date.isEmpty {
            // A Unix time, not in the past (a few seconds of clock skew forgiven).
            guard let when = Int64(date), when >= now() - 5 else { return Self.errorReply(code: 417) }
        }
        if let tag = form["tag"], !Self.isTag(tag) { return Self.errorReply(code: 607) }
        if linksRestricted && Self.containsLink(text) { return Self.errorReply(code: 420) }
        let localIDs = form["localid"].map { $0.split(separator: ",").map(String.init) }
        if let localIDs, localIDs.count != receptors.count {
            return Self.errorReply(code: 400)
        }
        let newCount = receptors.indices.filter { index in localIDs.map { byLocalID[$0[index]] == nil } ?? true }.count
        guard credit >= costPerMessage * Int64(newCount) else { return Self.errorReply(code: 418) }
        var entries: [JSONValue] = []
        for (index, receptor) in receptors.enumerated() {
            let localID = localIDs?[index]
            if let localID, let existing = byLocalID[localID], let message = messages[existing] {
                entries.append(entry(message))  // same localid: not sent again, the existing record is returned
            } else {
                entries.append(entry(record(receptor: receptor, text: text, sender: sender, localID: localID)))
            }
        }
        return Self.success(.array(entries))
    }

    private mutating func status(_ form: [String: String]) -> FakeReply {
        guard let list = form["messageid"], !list.isEmpty else { return Self.errorReply(code: 400) }
        let ids = list.split(separator: ",").map { Int64($0) ?? -1 }
        if ids.count > 500 { return Self.errorReply(code: 414) }
        var entries: [JSONValue] = []
        for id in ids {
            if var message = messages[id] {
                message.step += 1
                messages[id] = message
                entries.append(["messageid": .integer(id), "status": .integer(Int64(message.status)), "statustext": .string(Self.statusText(message.status))])
            } else {
                entries.append(["messageid": .integer(id), "status": 100, "statustext": .string(Self.statusText(100))])
            }
        }
        return Self.success(.array(entries))
    }

    /// `sms/selectoutbox`: `startdate` required, at most 3 days back; `enddate` empty for "until now", else not
    /// before the start and at most a day after it (`417`); `sender` filters; at most 500 rows, oldest first.
    private func selectOutbox(_ form: [String: String]) -> FakeReply {
        guard let startText = form["startdate"], !startText.isEmpty else { return Self.errorReply(code: 400) }
        guard let start = Int64(startText), start >= now() - 3 * 86_400 else { return Self.errorReply(code: 417) }
        var end = Int64.max
        if let endText = form["enddate"], !endText.isEmpty {
            guard let value = Int64(endText), value >= start, value - start <= 86_400 else { return Self.errorReply(code: 417) }
            end = value
        }
        let rows = outbox(sender: form["sender"]).filter { (start...end).contains($0.date) }
        return Self.success(.array(rows.prefix(500).map(entry)))
    }

    /// `sms/latestoutbox`: the last `pagesize` (default 500; above 500: `400`) messages, newest first.
    private func latestOutbox(_ form: [String: String]) -> FakeReply {
        let size = form["pagesize"].flatMap { $0.isEmpty ? nil : $0 }.map { Int($0) ?? -1 } ?? 500
        guard (1...500).contains(size) else { return Self.errorReply(code: 400) }
        return Self.success(.array(outbox(sender: form["sender"]).reversed().prefix(size).map(entry)))
    }

    private func outbox(sender: String?) -> [Message] {
        let all = messages.values.sorted { $0.id < $1.id }
        guard let sender, !sender.isEmpty else { return all }
        return all.filter { Self.shortLine($0.sender) == Self.shortLine(sender) }
    }

    private mutating func record(receptor: String, text: String, sender: String, localID: String?) -> Message {
        let message = Message(
            id: nextID, receptor: receptor, text: text, sender: sender, localID: localID,
            date: Int64(Date().timeIntervalSince1970), cost: costPerMessage, lifecycle: lifecycle.isEmpty ? [1] : lifecycle, step: 0)
        nextID += 1
        credit -= costPerMessage
        messages[message.id] = message
        if let localID { byLocalID[localID] = message.id }
        return message
    }

    private func entry(_ message: Message) -> JSONValue {
        [
            "messageid": .integer(message.id), "message": .string(message.text), "status": .integer(Int64(message.status)),
            "statustext": .string(Self.statusText(message.status)), "sender": .string(message.sender),
            "receptor": .string(message.receptor), "date": .integer(message.date), "cost": .integer(message.cost),
        ]
    }
}
