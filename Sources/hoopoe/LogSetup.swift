import ArgumentParser
import Foundation
import HoopoeCore
import Logging
import Synchronization

/// Configures swift-log once per process from `LOG_LEVEL` (trace…critical, default info) and
/// `LOG_FORMAT` (`text`, default, or `json` for log shippers). Phone numbers are masked in every line.
enum LogSetup {
    /// - Throws: exit 78 (EX_CONFIG) naming the variable, for a level or format it does not know: `LOG_FORMAT=jsn`
    ///   quietly logged text a log shipper could not parse, and `LOG_LEVEL=verbose` quietly logged at info.
    static func bootstrap() throws {
        var level = Logger.Level.info
        if let text = Environment.value("LOG_LEVEL") {
            // `warn` and `err`, as many tools spell them, are taken: refused, a deployment that set them would not start.
            let aliases = ["warn": Logger.Level.warning, "err": .error]
            guard let known = Logger.Level(rawValue: text.lowercased()) ?? aliases[text.lowercased()] else {
                let levels = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
                printError("bad configuration: LOG_LEVEL: \(PrintableText.oneLine("'\(text)'")) is not a level (\(levels))")
                throw ExitCode(78)
            }
            level = known
        }
        var json = false
        if let text = Environment.value("LOG_FORMAT") {
            guard ["text", "json"].contains(text.lowercased()) else {
                printError("bad configuration: LOG_FORMAT: \(PrintableText.oneLine("'\(text)'")) is not a format (text, json)")
                throw ExitCode(78)
            }
            json = text.lowercased() == "json"
        }
        let (chosenLevel, chosenJSON) = (level, json)
        LoggingSystem.bootstrap { label in
            var handler = MaskingLogHandler(label: label, json: chosenJSON)
            handler.logLevel = chosenLevel
            return handler
        }
    }

    static func logger(_ label: String) -> Logger { Logger(label: label) }
}

/// One line per event on stderr, text or JSON, with phone numbers and email addresses masked (`+9891*****567`, `s***@example.com`). In text, the message's and
/// the values' control characters are written as escapes (``PrintableText``): a job type holding a newline cannot
/// forge a line.
///
/// A line is written whole, one at a time, and bounded: the message at ``maxMessage`` characters, each value at
/// ``maxValue`` (cut after masking, so no cut leaves part of an address unmasked). Lines over a pipe's atomic write
/// (4 KiB) written from several threads at once were spliced into each other — a 60 KB job type in a dead job's line —
/// and `LOG_FORMAT=json` gave lines no shipper could parse, when many jobs failed at once.
struct MaskingLogHandler: LogHandler {
    static let maxMessage = 4096
    static let maxValue = 1024
    /// Held while a line is written: one process's lines never interleave.
    private static let writing = Mutex(())

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
        let time = LogTimestamp.now()
        let line: String
        let message = Self.shown("\(event.message)", limit: Self.maxMessage)
        if json {
            var object: [String: String] = ["time": time, "level": "\(event.level)", "label": label, "message": message]
            for (key, value) in all { object[key] = Self.shown("\(value)", limit: Self.maxValue) }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            line = String(decoding: data, as: UTF8.self)
        } else {
            let fields = all.sorted { $0.key < $1.key }.map { "\($0.key)=\(PrintableText.oneLine(Self.shown("\($0.value)", limit: Self.maxValue)))" }.joined(separator: " ")
            line = "\(time) \(event.level) \(label): \(PrintableText.oneLine(message))" + (fields.isEmpty ? "" : " \(fields)")
        }
        let bytes = Data((line + "\n").utf8)
        Self.writing.withLock { _ in FileHandle.standardError.write(bytes) }
    }

    /// `text` masked, then cut to `limit` characters with a note of its length.
    static func shown(_ text: String, limit: Int) -> String {
        let masked = PersonalDataMask.mask(text)
        let (kept, cut) = TextCut.prefix(masked, scalars: limit)
        return cut ? kept + "… (\(masked.unicodeScalars.count) characters)" : kept
    }
}
