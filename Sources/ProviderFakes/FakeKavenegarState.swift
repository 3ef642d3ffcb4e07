import HoopoeJSON
import Foundation
import Providers

/// The fake Kavenegar account: key, templates, credit, sent messages and their status lifecycle.
///
/// Implements the contracts of providers.md §2 that the client relies on: POST-only, form bodies, the
/// `return`/`entries` envelope with the code mirrored into the HTTP status, `localid` idempotency, the 200/500 batch
/// limits, token checks (`431`/`428`), templates (`424`), credit (`418`), and Table 2 statuses over a lifecycle.
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

    static func errorReply(code: Int, message: String) -> FakeReply {
        .json(code, ["return": ["status": .integer(Int64(code)), "message": .string(message)], "entries": nil])
    }

    static func success(_ entries: JSONValue) -> FakeReply {
        .json(200, ["return": ["status": 200, "message": .string(confirmed)], "entries": entries])
    }

    mutating func handle(_ request: RecordedRequest) -> FakeReply {
        let parts = request.path.dropFirst(FakeEndpoint.kavenegarPrefix.count + 1).split(separator: "/")
        guard parts.count == 3 else { return Self.errorReply(code: 404, message: "متد تعریف نشده است") }
        guard String(parts[0]) == apiKey else { return Self.errorReply(code: 403, message: "API-Key معتبر نمی باشد") }
        guard request.method == "POST" else { return Self.errorReply(code: 405, message: "متد ارسال اشتباه است") }
        let form = request.form
        switch request.endpoint {
        case .kavenegarLookup: return lookup(form)
        case .kavenegarSend: return send(form)
        case .kavenegarStatus: return status(form)
        case .kavenegarAccountInfo:
            return Self.success(["remaincredit": .integer(credit), "expiredate": 13_548_889, "type": "master"])
        default: return Self.errorReply(code: 404, message: "متد تعریف نشده است")
        }
    }

    private mutating func lookup(_ form: [String: String]) -> FakeReply {
        guard let receptor = form["receptor"], let template = form["template"], let token = form["token"] else {
            return Self.errorReply(code: 400, message: "پارامترها ناقص هستند")
        }
        if receptor.isEmpty || template.isEmpty || token.isEmpty {
            return Self.errorReply(code: 406, message: "پارامترهای اجباری خالی ارسال شده اند")
        }
        for (name, spaces) in [("token", 0), ("token2", 0), ("token3", 0), ("token10", 5), ("token20", 8)] {
            guard let value = form[name] else { continue }
            let badCharacter = value.contains { ($0.isWhitespace && $0 != " ") || $0 == "_" || $0 == "," }
            if badCharacter || value.filter({ $0 == " " }).count > spaces || value.count > 100 {
                return Self.errorReply(code: 431, message: "ساختار کد صحیح نمی باشد")
            }
        }
        guard templates.contains(template) else { return Self.errorReply(code: 424, message: "الگوی مورد نظر پیدا نشد") }
        if form["type"] == "call" && !token.allSatisfy({ $0.isASCII && $0.isNumber }) {
            return Self.errorReply(code: 428, message: "ارسال کد از طریق تماس تلفنی امکان پذیر نیست")
        }
        guard credit >= costPerMessage else { return Self.errorReply(code: 418, message: "اعتبار حساب شما کافی نیست") }
        let message = record(receptor: receptor, text: "\(template): \(token)", sender: "10008566", localID: nil)
        return Self.success([entry(message)])
    }

    private mutating func send(_ form: [String: String]) -> FakeReply {
        guard let receptorList = form["receptor"], let text = form["message"] else {
            return Self.errorReply(code: 400, message: "پارامترها ناقص هستند")
        }
        let receptors = receptorList.split(separator: ",").map(String.init)
        if receptors.isEmpty { return Self.errorReply(code: 406, message: "پارامترهای اجباری خالی ارسال شده اند") }
        if receptors.count > 200 { return Self.errorReply(code: 414, message: "حجم درخواست بیش از حد مجاز است") }
        if text.isEmpty || text.count > 900 { return Self.errorReply(code: 413, message: "پیام خالی یا طولانی است") }
        let localIDs = form["localid"].map { $0.split(separator: ",").map(String.init) }
        if let localIDs, localIDs.count != receptors.count {
            return Self.errorReply(code: 400, message: "تعداد localid با گیرنده ها برابر نیست")
        }
        let newCount = receptors.indices.filter { index in localIDs.map { byLocalID[$0[index]] == nil } ?? true }.count
        guard credit >= costPerMessage * Int64(newCount) else {
            return Self.errorReply(code: 418, message: "اعتبار حساب شما کافی نیست")
        }
        var entries: [JSONValue] = []
        for (index, receptor) in receptors.enumerated() {
            let localID = localIDs?[index]
            if let localID, let existing = byLocalID[localID], let message = messages[existing] {
                entries.append(entry(message))  // same localid: not sent again, the existing record is returned
            } else {
                entries.append(entry(record(receptor: receptor, text: text, sender: form["sender"] ?? defaultSender, localID: localID)))
            }
        }
        return Self.success(.array(entries))
    }

    private mutating func status(_ form: [String: String]) -> FakeReply {
        guard let list = form["messageid"], !list.isEmpty else { return Self.errorReply(code: 400, message: "پارامترها ناقص هستند") }
        let ids = list.split(separator: ",").map { Int64($0) ?? -1 }
        if ids.count > 500 { return Self.errorReply(code: 414, message: "حجم درخواست بیش از حد مجاز است") }
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
