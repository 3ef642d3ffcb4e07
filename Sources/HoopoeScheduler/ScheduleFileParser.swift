import Foundation
import HoopoeCore
import HoopoeJSON
import Yams

/// Turns the YAML of `jobs/schedule.yaml` into tasks, collecting every problem on the way.
///
/// It walks Yams' node tree instead of decoding with `Codable`: the tree keeps line numbers and the keys
/// as written, which is what lets a message say `line 9: task "x": unknown key "cronn" (did you mean "cron"?)`.
struct ScheduleFileParser {
    let source: String
    /// The zone of a task that names none (``ScheduleFile/defaultTimeZoneIdentifier``; tests give one that is missing).
    let defaultTimeZone: String
    private var problems: [ScheduleFileError.Problem] = []

    static let taskKeys = ["name", "cron", "time_zone", "type", "queue", "payload", "enabled", "catch_up"]

    init(source: String, defaultTimeZone: String = ScheduleFile.defaultTimeZoneIdentifier) {
        self.source = source
        self.defaultTimeZone = defaultTimeZone
    }

    func parse(_ yaml: String) throws(ScheduleFileError) -> [ScheduledTask] {
        var parser = self
        let tasks = parser.tasks(in: yaml)
        guard parser.problems.isEmpty else { throw ScheduleFileError(source: source, problems: parser.problems) }
        return tasks
    }

    private mutating func tasks(in yaml: String) -> [ScheduledTask] {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            let (line, problem) = Self.yamlProblem(error)
            report(.invalidYAML, line: line, "not valid YAML: \(problem). Quote cron expressions and any value starting with * or @")
            return []
        }
        guard let root else { return [] }  // an empty file (or only comments) has no tasks
        guard let mapping = root.mapping else {
            report(.invalidStructure, line: root.mark?.line, "expected a mapping with a `tasks:` list at the top")
            return []
        }
        var list: Node?
        var listLine: Int?
        for (key, value) in mapping {
            if key.string == "tasks" {
                // Yams keeps a repeated key (it does not check), and the last list won: a second `tasks:` block appended
                // to the file dropped every task above it, in silence.
                guard list == nil else {
                    report(.duplicateKey, key: "tasks", line: key.mark?.line,
                           "given twice (line \(listLine ?? 0) has the first): put every task in one `tasks:` list")
                    continue
                }
                list = value
                listLine = key.mark?.line
            } else {
                report(.unknownKey, key: key.string, line: key.mark?.line, "unknown top-level key (the file has only `tasks:`)")
            }
        }
        guard let list else {
            report(.missingKey, key: "tasks", line: root.mark?.line, "the `tasks:` list is missing")
            return []
        }
        if case .scalar = list, list.null != nil { return [] }  // `tasks:` with nothing under it
        guard let sequence = list.sequence else {
            report(.invalidStructure, key: "tasks", line: list.mark?.line, "expected a list of tasks")
            return []
        }
        var tasks: [ScheduledTask] = []
        var firstLineOfName: [String: Int] = [:]
        for (index, node) in sequence.enumerated() {
            guard let task = task(node, number: index + 1) else { continue }
            if let earlier = firstLineOfName[task.name] {
                report(.duplicateName, task: task.name, number: index + 1, key: "name", line: node.mark?.line,
                       "another task already has this name (line \(earlier)); names must be unique")
                continue
            }
            firstLineOfName[task.name] = node.mark?.line ?? 0
            tasks.append(task)
        }
        return tasks
    }

    /// One task, or nil after reporting its problems.
    private mutating func task(_ node: Node, number: Int) -> ScheduledTask? {
        guard let mapping = node.mapping else {
            report(.invalidStructure, number: number, line: node.mark?.line, "expected a mapping of keys (name, cron, type, ...)")
            return nil
        }
        var values: [String: Node] = [:]
        let name = mapping.first { $0.key.string == "name" }?.value.string
        let before = problems.count
        func fail(_ code: ScheduleFileError.Code, _ key: String?, _ at: Node?, _ message: String) {
            report(code, task: name, number: number, key: key, line: (at ?? node).mark?.line, message)
        }
        for (keyNode, value) in mapping {
            guard let key = keyNode.string, keyNode.scalar != nil else {
                fail(.invalidStructure, nil, keyNode, "keys must be plain words")
                continue
            }
            guard Self.taskKeys.contains(key) else {
                let hint = Self.closest(to: key).map { " (did you mean \"\($0)\"?)" } ?? ""
                fail(.unknownKey, key, keyNode, "unknown key \"\(key)\"\(hint); known keys: \(Self.taskKeys.joined(separator: ", "))")
                continue
            }
            guard values[key] == nil else {
                fail(.duplicateKey, key, keyNode, "given twice")
                continue
            }
            values[key] = value
        }

        func text(_ key: String, required: Bool) -> String? {
            guard let value = values[key] else {
                if required { fail(.missingKey, key, nil, "required key is missing") }
                return nil
            }
            guard value.scalar != nil, value.null == nil || Self.tag(of: value) == .str, let string = value.string,
                  !string.trimmingCharacters(in: .whitespaces).isEmpty
            else {
                fail(.wrongType, key, value, "expected text")
                return nil
            }
            return string.trimmingCharacters(in: .whitespaces)
        }

        let checkedName = text("name", required: true).flatMap { candidate -> String? in
            guard Self.isValidName(candidate) else {
                fail(.invalidName, "name", values["name"], "\"\(candidate)\" may hold only letters, digits, '.', '_' and '-' (it is part of Redis keys)")
                return nil
            }
            return candidate
        }
        let cron = text("cron", required: true).flatMap { expression -> CronExpression? in
            do throws(CronExpressionError) {
                return try CronExpression(expression)
            } catch {
                fail(.invalidCron, "cron", values["cron"], error.description)
                return nil
            }
        }
        var timeZone = TimeZone.gmt
        if let identifier = text("time_zone", required: false) {
            if let zone = TimeZone(identifier: identifier) {
                timeZone = zone
            } else {
                // What `TimeZone(identifier:)` takes, said as it is: a name of the system's zone database, and
                // `UTC`/`GMT` with an offset of up to 18 hours (`UTC+3`, `GMT+03:30`), which it takes too.
                fail(.unknownTimeZone, "time_zone", values["time_zone"],
                     "unknown time zone \"\(identifier)\": use a name of the zone database (IANA) such as Asia/Tehran or Europe/Berlin "
                        + "(case matters), or UTC or GMT with an offset of up to 18 hours, such as UTC+3 or GMT+03:30")
            }
        } else if let zone = TimeZone(identifier: defaultTimeZone) {
            timeZone = zone
        } else {
            // Not UTC in silence: a task meant for 09:00 Tehran time would run at 12:30.
            fail(.unknownTimeZone, "time_zone", nil,
                 "no time_zone given, and the default \(defaultTimeZone) is not in this system's zone database: install tzdata, or give time_zone")
        }
        // The type and the queue by the rules every enqueue checks (``EnvelopeRules``): a task whose every enqueue
        // is refused started, and failed each tick in the log only.
        var type = text("type", required: true)
        if let given = type, let problem = EnvelopeRules.typeProblem(given) {
            fail(.invalidName, "type", values["type"], "job type \(problem)")
            type = nil
        }
        var queue = ScheduleFile.defaultQueue
        if let given = text("queue", required: false) {
            if let problem = EnvelopeRules.queueProblem(given) {
                fail(.invalidName, "queue", values["queue"], "queue \(problem)")
            } else {
                queue = given
            }
        }
        var payload: JSONValue = .object([:])
        if let value = values["payload"], value.null == nil || Self.tag(of: value) == .str {
            if value.mapping != nil {
                do throws(PayloadProblem) {
                    payload = try Self.json(value)
                    if payload[ScheduleFile.tickPayloadKey] != nil {
                        fail(.reservedPayloadKey, "payload", value,
                             "\"\(ScheduleFile.tickPayloadKey)\" is reserved: the scheduler sets it to the tick's time (Unix seconds)")
                    }
                } catch {
                    report(.wrongType, task: name, number: number, key: "payload", line: error.line ?? value.mark?.line, error.message)
                }
            } else {
                fail(.wrongType, "payload", value, "expected a mapping (the job's JSON object), e.g. {} or {days: 3}")
            }
        }
        var enabled = true
        if let value = values["enabled"] {
            if value.scalar != nil, Self.tag(of: value) == .bool, let flag = value.bool {
                enabled = flag
            } else if value.scalar != nil, Self.tag(of: value) == .str, let written = value.string,
                      let flag = Self.quotedBoolean(written) {
                // `enabled: "false"` read as "expected true or false, found "false"": true to the letter, and no help.
                fail(.wrongType, "enabled", value, "expected true or false, found the string \"\(written)\": write \(flag) unquoted")
            } else {
                fail(.wrongType, "enabled", value, "expected true or false, found \"\(value.string ?? "a non-scalar")\"")
            }
        }
        var catchUp = CatchUpPolicy.once
        if let value = values["catch_up"] {
            if value.scalar != nil, let policy = value.string.flatMap(CatchUpPolicy.init(rawValue:)) {
                catchUp = policy
            } else {
                fail(.invalidCatchUp, "catch_up", value, "expected once or skip, found \"\(value.string ?? "a non-scalar")\"")
            }
        }

        guard problems.count == before, let checkedName, let cron, let type else { return nil }
        return ScheduledTask(
            name: checkedName, cron: cron, timeZone: timeZone, type: type, queue: queue, payload: payload,
            enabled: enabled, catchUp: catchUp)
    }

    /// The boolean a quoted text spells (`"false"`, `'True'`, `" yes "`: YAML's words for true and false, any case),
    /// written as YAML writes it unquoted; nil for any other text.
    static func quotedBoolean(_ text: String) -> String? {
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "true", "yes", "on": "true"
        case "false", "no", "off": "false"
        default: nil
        }
    }

    /// A YAML error as its line and what is wrong, without the file's text: Yams' description quotes the line at fault,
    /// and that line (a payload's phone number or email address) went to the scheduler's log, `hoopoe schedule list` and
    /// the dashboard's periodic page. libyaml's problem and context are fixed phrases ("mapping values are not allowed
    /// in this context"); masked all the same (``PersonalDataMask``), as is the description of an error of another kind.
    static func yamlProblem(_ error: any Error) -> (line: Int?, problem: String) {
        guard let error = error as? YamlError else { return (nil, PersonalDataMask.mask("\(error)")) }
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            // Yams' context says "in line L, column C" of itself, and ends with a newline.
            let during = context.map { " (\($0.text), from line \($0.mark.line), column \($0.mark.column))" } ?? ""
            return (mark.line, PersonalDataMask.mask("\(problem) at column \(mark.column)\(during)"))
        case .reader(let problem, let offset, _, let yaml):
            // Bytes that are not text: the offset (in characters) gives the line.
            let line = offset.map { offset in yaml.prefix(offset).reduce(1) { $1 == "\n" ? $0 + 1 : $0 } }
            return (line, PersonalDataMask.mask(problem))
        default:
            return (nil, PersonalDataMask.mask("\(error)"))
        }
    }

    private mutating func report(
        _ code: ScheduleFileError.Code, task: String? = nil, number: Int? = nil, key: String? = nil, line: Int?, _ message: String
    ) {
        problems.append(.init(code, task: task, taskNumber: number, key: key, line: line, message: message))
    }

    /// Task and queue names end up inside Redis keys (`hoopoe:schedule:<task>:last`,
    /// `hoopoe:{<queue>}:...`): no spaces, colons or braces.
    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "._-".unicodeScalars.contains(scalar))
        }
    }

    /// The known key within two edits of a misspelt one.
    static func closest(to key: String) -> String? {
        taskKeys.map { ($0, editDistance(key.lowercased(), $0)) }.filter { $0.1 <= 2 }.min { $0.1 < $1.1 }?.0
    }

    private static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }

    /// The node's resolved tag (`Tag.name` is internal in Yams 5, its description is the name).
    static func tag(of node: Node) -> Tag.Name {
        Tag.Name(rawValue: node.tag.description)
    }

    /// Whether `text` is a number in JSON's own syntax (RFC 8259: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`).
    static func isJSONNumber(_ text: String) -> Bool {
        var bytes = Substring(text).utf8[...]
        func digits() -> Int {
            let count = bytes.prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }.count
            bytes = bytes.dropFirst(count)
            return count
        }
        if bytes.first == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
        if bytes.first == UInt8(ascii: "0") {
            bytes = bytes.dropFirst()
        } else if digits() == 0 {
            return false
        }
        if bytes.first == UInt8(ascii: ".") {
            bytes = bytes.dropFirst()
            guard digits() > 0 else { return false }
        }
        if bytes.first == UInt8(ascii: "e") || bytes.first == UInt8(ascii: "E") {
            bytes = bytes.dropFirst()
            if bytes.first == UInt8(ascii: "+") || bytes.first == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
            guard digits() > 0 else { return false }
        }
        return bytes.isEmpty
    }

    /// Why a payload cannot become the job's JSON, and where.
    struct PayloadProblem: Error {
        let message: String
        /// The line of the value or key at fault.
        let line: Int?

        init(message: String, node: Node) {
            self.message = message
            line = node.mark?.line
        }
    }

    /// A YAML node as JSON: scalars by their resolved tag (`3` → integer, `"3"` → string, `true` → true).
    /// - Throws: what JSON cannot carry, or would carry otherwise than written: a number beyond 64-bit integers or
    ///   doubles, infinity or NaN (`.inf`, `1e400`: every tick's enqueue was refused, in the log only), a YAML 1.1
    ///   base-60 number (`12:30`), a key given twice (Yams keeps both, and the last won), a key that is not text;
    ///   and a number or a boolean not written as JSON writes it, which YAML 1.1 reads as another value: `0600` (octal:
    ///   384), `0x10`, `1_000`, `09121234567` (a phone number sent as 9121234567), `NO` or `off` (false: a country
    ///   code sent as a boolean). Each is refused at start-up, naming the line, rather than sent changed.
    static func json(_ node: Node) throws(PayloadProblem) -> JSONValue {
        switch node {
        case .scalar:
            let written = node.string ?? ""
            switch tag(of: node) {
            case .null: return .null
            case .bool:
                guard let value = ["true": true, "false": false][written.lowercased()] else {
                    throw PayloadProblem(message: "\(written) is a YAML 1.1 boolean (sent as \(node.bool ?? false)); write true or false, or quote it to send text", node: node)
                }
                return .bool(value)
            case .int where written.contains(":"), .float where written.contains(":"):
                // YAML 1.1 reads `12:30` as 750 (sexagesimal), and Yams' conversion of a long one overflows (a trap).
                throw PayloadProblem(message: "\(written) is a YAML 1.1 base-60 number (12:30 would be sent as 750); quote it to send text", node: node)
            case .int where !Self.isJSONNumber(written), .float where !Self.isJSONNumber(written) && !written.lowercased().hasSuffix("inf") && !written.lowercased().hasSuffix("nan"):
                // Masked: the usual such value is an unquoted phone number, and this message goes to the scheduler's log.
                let read = node.int.map(String.init) ?? node.float.map { "\($0)" } ?? "another number"
                throw PayloadProblem(message: "\(PersonalDataMask.mask(written)) is not a number as JSON writes it (YAML reads it as \(PersonalDataMask.mask(read))); write it in decimal, or quote it to send text", node: node)
            case .int:
                guard let value = node.int else { throw PayloadProblem(message: "\(written) does not fit a 64-bit integer; quote it to send text", node: node) }
                return .integer(Int64(value))
            case .float:
                guard let value = node.float, value.isFinite else {
                    throw PayloadProblem(message: "\(written) is not a number JSON can carry (infinity, NaN, or beyond ±1.8e308); quote it to send text", node: node)
                }
                return .double(value)
            default: return .string(written)
            }
        case .sequence(let sequence):
            var elements: [JSONValue] = []
            for element in sequence { elements.append(try json(element)) }
            return .array(elements)
        case .mapping(let mapping):
            var members: [String: JSONValue] = [:]
            for (key, value) in mapping {
                guard key.scalar != nil, let name = key.string else { throw PayloadProblem(message: "payload keys must be text", node: key) }
                guard members[name] == nil else { throw PayloadProblem(message: "key \"\(name)\" given twice", node: key) }
                members[name] = try json(value)
            }
            return .object(members)
        @unknown default:
            throw PayloadProblem(message: "not a JSON value", node: node)
        }
    }
}

extension ScheduleFile {
    /// Each task's `time_zone` as the file writes it, by task name: `hoopoe schedule list` shows it so. The zone
    /// ``ScheduledTask/timeZone`` holds names itself otherwise: `UTC` is `GMT`, `UTC+3` is `GMT+0300`, and the listing
    /// showed a zone the file does not name. Tasks without a `time_zone` (or that are not mappings) are left out; a
    /// text that is not YAML gives none.
    /// - Parameter yaml: the file's text, as given to ``init(yaml:source:)``.
    public static func writtenTimeZones(yaml: String) -> [String: String] {
        guard let root = try? Yams.compose(yaml: yaml), let list = root.mapping?.first(where: { $0.key.string == "tasks" })?.value.sequence
        else { return [:] }
        var zones: [String: String] = [:]
        for task in list {
            guard let mapping = task.mapping, let name = mapping.first(where: { $0.key.string == "name" })?.value.string,
                  let zone = mapping.first(where: { $0.key.string == "time_zone" })?.value.string
            else { continue }
            zones[name.trimmingCharacters(in: .whitespaces)] = zone.trimmingCharacters(in: .whitespaces)
        }
        return zones
    }
}
