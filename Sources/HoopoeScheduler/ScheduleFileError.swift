import HoopoeCore

/// Why `jobs/schedule.yaml` was refused. The scheduler does not start until every problem is fixed.
///
/// All problems found are reported at once, each naming the task (by name, or by position when the name
/// itself is missing) and the key, with the line, so one edit fixes them all:
///
///     jobs/schedule.yaml: 2 problems, the scheduler cannot start
///       line 4: task "reminders.expiration": cron: invalid cron expression "0 25 * * *": hour: 25 is out of range 0–23
///       line 9: task "sms.delivery_poll": unknown key "cronn" (did you mean "cron"?)
///
/// Its description, and each problem's, is masked (``PersonalDataMask``): a problem quotes what the file wrote (a cron
/// expression, a time zone, a key, a name), and a phone number pasted into the wrong line was printed whole by the
/// scheduler, `hoopoe schedule list` and the dashboard. Every printer of the error goes through this one mask.
public struct ScheduleFileError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of problem. A struct, so kinds can be added without breaking callers.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case unreadable, invalidYAML, invalidStructure, unknownKey, duplicateKey, missingKey, wrongType, invalidName,
                duplicateName, invalidCron, unknownTimeZone, invalidCatchUp, reservedPayloadKey
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The file could not be read.
        public static var unreadable: Self { .init(.unreadable) }
        /// The text is not YAML (often an unquoted value starting with `*` or `@`).
        public static var invalidYAML: Self { .init(.invalidYAML) }
        /// The document is not a mapping with a `tasks:` list of mappings.
        public static var invalidStructure: Self { .init(.invalidStructure) }
        /// A key the format does not have, usually a typo (`cronn`).
        public static var unknownKey: Self { .init(.unknownKey) }
        /// A key given twice in one task.
        public static var duplicateKey: Self { .init(.duplicateKey) }
        /// A required key (`name`, `cron`, `type`) is missing.
        public static var missingKey: Self { .init(.missingKey) }
        /// A value of the wrong kind (a list where text belongs, `enabled: maybe`).
        public static var wrongType: Self { .init(.wrongType) }
        /// A task or queue name with characters that do not belong in a Redis key.
        public static var invalidName: Self { .init(.invalidName) }
        /// Two tasks with the same name.
        public static var duplicateName: Self { .init(.duplicateName) }
        /// The cron expression does not parse.
        public static var invalidCron: Self { .init(.invalidCron) }
        /// `TimeZone(identifier:)` does not know the zone.
        public static var unknownTimeZone: Self { .init(.unknownTimeZone) }
        /// `catch_up` is neither `once` nor `skip`.
        public static var invalidCatchUp: Self { .init(.invalidCatchUp) }
        /// The payload sets `tick`, which the scheduler fills in.
        public static var reservedPayloadKey: Self { .init(.reservedPayloadKey) }

        public var description: String { base.rawValue }
    }

    /// One problem in the file.
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        /// The kind of problem.
        public let code: Code
        /// The task's name, when it has one.
        public let task: String?
        /// The task's position in the list, from 1; nil for problems outside the list.
        public let taskNumber: Int?
        /// The key at fault (`cron`, `time_zone`, ...), when one is.
        public let key: String?
        /// The line in the file, from 1, when known.
        public let line: Int?
        /// What is wrong, in words.
        public let message: String

        /// - Parameters:
        ///   - code: the kind of problem.
        ///   - task: the task's name, if known.
        ///   - taskNumber: the task's position, from 1.
        ///   - key: the key at fault.
        ///   - line: the line, from 1.
        ///   - message: what is wrong.
        public init(_ code: Code, task: String?, taskNumber: Int?, key: String?, line: Int?, message: String) {
            self.code = code
            self.task = task
            self.taskNumber = taskNumber
            self.key = key
            self.line = line
            self.message = message
        }

        public var description: String {
            var parts: [String] = []
            if let line { parts.append("line \(line)") }
            if let task {
                parts.append("task \"\(task)\"")
            } else if let taskNumber {
                parts.append("task #\(taskNumber)")
            }
            if let key { parts.append(key) }
            return PersonalDataMask.mask((parts + [message]).joined(separator: ": "))
        }
    }

    /// The file, as named to the loader.
    public let source: String
    /// Every problem found, in file order.
    public let problems: [Problem]

    /// - Parameters:
    ///   - source: the file's name or path.
    ///   - problems: what is wrong, at least one.
    public init(source: String, problems: [Problem]) {
        self.source = source
        self.problems = problems
    }

    public var description: String {
        let count = problems.count == 1 ? "1 problem" : "\(problems.count) problems"
        // Each problem's description is masked already.
        return PersonalDataMask.mask("\(source): \(count), the scheduler cannot start") + "\n" + problems.map { "  \($0)" }.joined(separator: "\n")
    }
}
