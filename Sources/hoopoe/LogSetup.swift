import Foundation
import Logging

/// Configures swift-log once per process from `LOG_LEVEL` (trace…critical, default info) and
/// `LOG_FORMAT` (`text`, default, or `json` for log shippers). Phone numbers are masked in every line.
enum LogSetup {
    static func bootstrap() {
        let level = Environment.value("LOG_LEVEL").flatMap { Logger.Level(rawValue: $0.lowercased()) } ?? .info
        let json = Environment.value("LOG_FORMAT")?.lowercased() == "json"
        LoggingSystem.bootstrap { label in
            var handler = MaskingLogHandler(label: label, json: json)
            handler.logLevel = level
            return handler
        }
    }

    static func logger(_ label: String) -> Logger { Logger(label: label) }
}

/// One line per event on stderr, text or JSON, with phone numbers masked (`+98912***4567`).
struct MaskingLogHandler: LogHandler {
    let label: String
    let json: Bool
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { $1 } }
        let time = ISO8601DateFormatter.string(from: Date(), timeZone: .gmt, formatOptions: [.withInternetDateTime, .withFractionalSeconds])
        let line: String
        if json {
            var object: [String: String] = ["time": time, "level": "\(event.level)", "label": label, "message": PhoneMask.mask("\(event.message)")]
            for (key, value) in all { object[key] = PhoneMask.mask("\(value)") }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            line = String(decoding: data, as: UTF8.self)
        } else {
            let fields = all.sorted { $0.key < $1.key }.map { "\($0.key)=\(PhoneMask.mask("\($0.value)"))" }.joined(separator: " ")
            line = "\(time) \(event.level) \(label): \(PhoneMask.mask("\(event.message)"))" + (fields.isEmpty ? "" : " \(fields)")
        }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

/// Masks anything that looks like a phone number, keeping the first 5 and last 3 characters: runs of
/// 10 to 15 digits that start with `+`, `0` or `9` (`+98912…`, `0912…`, `98912…`, `912…`), in ASCII or
/// Persian digits. Unix timestamps (`17…`) and Redis entry ids (`17…-0`) do not match.
enum PhoneMask {
    static func mask(_ text: String) -> String {
        guard text.contains(where: \.isNumber) else { return text }
        var result = ""
        var run = ""
        func flush() {
            let digits = run.filter(\.isNumber).count
            let lead = run.first.map { "+09۰۹".contains($0) } ?? false
            if (10...15).contains(digits) && lead {
                result += run.prefix(5) + String(repeating: "*", count: max(0, run.count - 8)) + run.suffix(3)
            } else {
                result += run
            }
            run = ""
        }
        for ch in text {
            if ch.isASCII && (ch.isNumber || (ch == "+" && run.isEmpty)) {
                run.append(ch)
            } else if ("۰"..."۹").contains(ch) {
                run.append(ch)
            } else {
                flush()
                result.append(ch)
            }
        }
        flush()
        return result
    }
}
