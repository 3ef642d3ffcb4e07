import Foundation
import HoopoeJSON
import Testing

@testable import HoopoeScheduler

@Suite struct ScheduleFileTests {
    @Test func fullTaskAndDefaults() throws {
        let file = try ScheduleFile(yaml: """
            tasks:
              - name: reminders.expiration
                cron: "0 9 * * *"
                time_zone: Europe/Berlin
                type: reminders.expiration
                queue: reminders
                payload: {days: 3, channel: sms, dry: false, ratio: 0.5, label: "7", tags: [a, b], none: null, big: -1.5e3, zero: 0, on: True}
                enabled: false
                catch_up: skip
              - name: minimal
                cron: "*/10 * * * * *"
                type: minimal.job
            """)
        #expect(file.tasks.count == 2)
        let full = file.tasks[0]
        #expect(full.name == "reminders.expiration")
        #expect(full.cron.source == "0 9 * * *")
        #expect(full.timeZone.identifier == "Europe/Berlin")
        #expect(full.type == "reminders.expiration")
        #expect(full.queue == "reminders")
        #expect(full.payload == ["days": 3, "channel": "sms", "dry": false, "ratio": .double(0.5), "label": "7", "tags": ["a", "b"], "none": nil,
                                 "big": .double(-1500), "zero": 0, "on": true])
        #expect(full.enabled == false)
        #expect(full.catchUp == .skip)
        let minimal = file.tasks[1]
        #expect(minimal.timeZone.identifier == "Asia/Tehran")
        #expect(minimal.queue == "default")
        #expect(minimal.payload == [:])
        #expect(minimal.enabled)
        #expect(minimal.catchUp == .once)
        #expect(minimal.cron.hasSeconds)
        #expect(file.enabledTasks.map(\.name) == ["minimal"])
    }

    /// A task without `time_zone` on a system whose zone database lacks the default (a slim image without tzdata)
    /// stops start-up naming the task and the key: it ran on UTC in silence, 3.5 hours off Tehran time.
    @Test func aMissingDefaultZoneIsAnErrorNotUTC() throws {
        let yaml = "tasks:\n  - {name: nightly, cron: \"0 9 * * *\", type: x}\n  - {name: berlin, cron: \"0 9 * * *\", time_zone: Europe/Berlin, type: x}\n"
        #expect(throws: Never.self) { try ScheduleFile(yaml: yaml, defaultTimeZone: "Asia/Tehran") }
        do {
            _ = try ScheduleFile(yaml: yaml, defaultTimeZone: "No/Such_Zone")
            Issue.record("a task without time_zone loaded without its zone")
        } catch {
            #expect(error.problems.map(\.task) == ["nightly"], "the task that names a zone is fine: \(error)")
            #expect(error.problems.first?.code == .unknownTimeZone && error.problems.first?.key == "time_zone")
            #expect("\(error)".contains("No/Such_Zone") && "\(error)".contains("tzdata"), "\(error)")
        }
    }

    @Test func emptyFilesHaveNoTasks() throws {
        #expect(try ScheduleFile(yaml: "").tasks.isEmpty)
        #expect(try ScheduleFile(yaml: "# nothing yet\n").tasks.isEmpty)
        #expect(try ScheduleFile(yaml: "tasks:\n").tasks.isEmpty)
        #expect(try ScheduleFile(yaml: "tasks: []\n").tasks.isEmpty)
    }

    struct Bad: Sendable, CustomStringConvertible {
        let label: String
        let task: String?
        let key: String?
        let code: ScheduleFileError.Code
        let message: String
        let yaml: String
        var description: String { label }
    }

    static let bad: [Bad] = [
        Bad(label: "invalid cron", task: "a", key: "cron", code: .invalidCron, message: "hour: 25 is out of range 0–23",
            yaml: "- {name: a, cron: \"0 25 * * *\", type: x}"),
        Bad(label: "cron with 4 fields", task: "a", key: "cron", code: .invalidCron, message: "expected 5 fields",
            yaml: "- {name: a, cron: \"0 9 * *\", type: x}"),
        Bad(label: "unknown time zone", task: "a", key: "time_zone", code: .unknownTimeZone, message: "unknown time zone \"Asia/Tehrn\"",
            yaml: "- {name: a, cron: \"0 9 * * *\", time_zone: Asia/Tehrn, type: x}"),
        Bad(label: "missing type", task: "a", key: "type", code: .missingKey, message: "required key is missing",
            yaml: "- {name: a, cron: \"0 9 * * *\"}"),
        Bad(label: "empty type", task: "a", key: "type", code: .wrongType, message: "expected text",
            yaml: "- {name: a, cron: \"0 9 * * *\", type: \"\"}"),
        Bad(label: "missing cron", task: "a", key: "cron", code: .missingKey, message: "required key is missing",
            yaml: "- {name: a, type: x}"),
        Bad(label: "typo in a key", task: "a", key: "cronn", code: .unknownKey, message: "unknown key \"cronn\" (did you mean \"cron\"?)",
            yaml: "- {name: a, cron: \"0 9 * * *\", cronn: \"0 9 * * *\", type: x}"),
        Bad(label: "bad catch_up", task: "a", key: "catch_up", code: .invalidCatchUp, message: "expected once or skip, found \"always\"",
            yaml: "- {name: a, cron: \"0 9 * * *\", type: x, catch_up: always}"),
        Bad(label: "enabled not a boolean", task: "a", key: "enabled", code: .wrongType, message: "expected true or false, found \"maybe\"",
            yaml: "- {name: a, cron: \"0 9 * * *\", type: x, enabled: maybe}"),
        Bad(label: "payload not a mapping", task: "a", key: "payload", code: .wrongType, message: "expected a mapping",
            yaml: "- {name: a, cron: \"0 9 * * *\", type: x, payload: [1, 2]}"),
        Bad(label: "payload sets tick", task: "a", key: "payload", code: .reservedPayloadKey, message: "\"tick\" is reserved",
            yaml: "- {name: a, cron: \"0 9 * * *\", type: x, payload: {tick: 1}}"),
        Bad(label: "name with a colon", task: "a:b", key: "name", code: .invalidName, message: "may hold only letters",
            yaml: "- {name: \"a:b\", cron: \"0 9 * * *\", type: x}"),
        Bad(label: "queue with braces", task: "a", key: "queue", code: .invalidName, message: "queue may only contain",
            yaml: "- {name: a, cron: \"0 9 * * *\", type: x, queue: \"{q}\"}"),
        // The rules every enqueue checks (EnvelopeRules): the scheduler started, then failed each tick in its log.
        Bad(label: "queue starting with a dot", task: "a", key: "queue", code: .invalidName, message: "must not start with '.'",
            yaml: "- {name: a, cron: \"0 9 * * *\", type: x, queue: \"..\"}"),
        Bad(label: "queue of 65 characters", task: "a", key: "queue", code: .invalidName, message: "at most 64",
            yaml: "- {name: a, cron: \"0 9 * * *\", type: x, queue: \"\(String(repeating: "q", count: 65))\"}"),
        Bad(label: "type with a space", task: "a", key: "type", code: .invalidName, message: "job type may only contain",
            yaml: "- {name: a, cron: \"0 9 * * *\", type: \"has space\"}"),
        Bad(label: "key given twice", task: "a", key: "type", code: .duplicateKey, message: "given twice",
            yaml: "- name: a\n  cron: \"0 9 * * *\"\n  type: x\n  type: y"),
        // What JSON cannot carry: every tick's enqueue was refused, in the scheduler's log only.
        Bad(label: "payload holding infinity", task: "a", key: "payload", code: .wrongType, message: ".inf is not a number JSON can carry",
            yaml: "- {name: a, cron: \"0 9 * * *\", type: x, payload: {limit: .inf}}"),
        Bad(label: "payload holding NaN", task: "a", key: "payload", code: .wrongType, message: ".nan is not a number JSON can carry",
            yaml: "- {name: a, cron: \"0 9 * * *\", type: x, payload: {limit: .nan}}"),
        Bad(label: "payload holding 1e400", task: "a", key: "payload", code: .wrongType, message: "1e400 is not a number JSON can carry",
            yaml: "- {name: a, cron: \"0 9 * * *\", type: x, payload: {limits: [1, 1e400]}}"),
        Bad(label: "payload integer beyond 64 bits", task: "a", key: "payload", code: .wrongType,
            message: "99999999999999999999 does not fit a 64-bit integer",
            yaml: "- {name: a, cron: \"0 9 * * *\", type: x, payload: {n: 99999999999999999999}}"),
        // YAML 1.1 base-60: `12:30` resolved to 750 (silently), and a long or large one overflowed inside Yams (a crash).
        Bad(label: "payload holding a base-60 time", task: "a", key: "payload", code: .wrongType, message: "12:30 is a YAML 1.1 base-60 number",
            yaml: "- {name: a, cron: \"0 9 * * *\", type: x, payload: {at: 12:30}}"),
        Bad(label: "payload holding a base-60 number that overflows", task: "a", key: "payload", code: .wrongType,
            message: "1:0:0:0:0:0:0:0:0:0:0 is a YAML 1.1 base-60 number",
            yaml: "- {name: a, cron: \"0 9 * * *\", type: x, payload: {x: 1:0:0:0:0:0:0:0:0:0:0}}"),
        Bad(label: "payload holding a base-60 float", task: "a", key: "payload", code: .wrongType, message: "1:30.5 is a YAML 1.1 base-60 number",
            yaml: "- {name: a, cron: \"0 9 * * *\", type: x, payload: {x: 1:30.5}}"),
        // YAML 1.1's other number and boolean forms: sent as another value than written, without a word.
        Bad(label: "payload holding an octal-looking number", task: "a", key: "payload", code: .wrongType,
            message: "0600 is not a number as JSON writes it (YAML reads it as 384)",
            yaml: "- {name: a, cron: \"0 9 * * *\", type: x, payload: {ttl_seconds: 0600}}"),
        Bad(label: "payload holding a phone number unquoted", task: "a", key: "payload", code: .wrongType,
            message: "0912****567 is not a number as JSON writes it (YAML reads it as 912****567.0)",
            yaml: "- {name: a, cron: \"0 9 * * *\", type: x, payload: {phone: 09121234567}}"),
        Bad(label: "payload holding a hexadecimal number", task: "a", key: "payload", code: .wrongType,
            message: "0x10 is not a number as JSON writes it (YAML reads it as 16)",
            yaml: "- {name: a, cron: \"0 9 * * *\", type: x, payload: {h: 0x10}}"),
        Bad(label: "payload holding a number with underscores", task: "a", key: "payload", code: .wrongType,
            message: "1_000 is not a number as JSON writes it",
            yaml: "- {name: a, cron: \"0 9 * * *\", type: x, payload: {n: 1_000}}"),
        Bad(label: "payload holding a YAML 1.1 boolean", task: "a", key: "payload", code: .wrongType,
            message: "NO is a YAML 1.1 boolean (sent as false)",
            yaml: "- {name: a, cron: \"0 9 * * *\", type: x, payload: {country: NO}}"),
        Bad(label: "payload key given twice", task: "a", key: "payload", code: .wrongType, message: "key \"n\" given twice",
            yaml: "- name: a\n  cron: \"0 9 * * *\"\n  type: x\n  payload:\n    n: 1\n    n: 2"),
    ]

    @Test(arguments: bad)
    func refusesAndNamesTheTaskAndTheKey(_ bad: Bad) {
        let yaml = "tasks:\n" + bad.yaml.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n") + "\n"
        #expect {
            try ScheduleFile(yaml: yaml)
        } throws: { error in
            guard let error = error as? ScheduleFileError, let problem = error.problems.first else { return false }
            #expect(error.problems.count == 1, "\(error)")
            #expect(problem.code == bad.code, "\(error)")
            #expect(problem.task == bad.task)
            #expect(problem.key == bad.key)
            #expect(problem.line != nil)
            let text = error.description
            #expect(text.contains(bad.message), "\(text)")
            if let task = bad.task { #expect(text.contains("task \"\(task)\""), "\(text)") }
            if let key = bad.key { #expect(text.contains(key), "\(text)") }
            return true
        }
    }

    @Test func duplicateNamesNameTheTaskAndTheFirstLine() throws {
        let error = try #require(throws: ScheduleFileError.self) {
            try ScheduleFile(yaml: """
                tasks:
                  - {name: poll, cron: "* * * * *", type: x}
                  - {name: poll, cron: "*/5 * * * *", type: y}
                """)
        }
        #expect(error.problems.map(\.code) == [.duplicateName])
        #expect(error.problems[0].task == "poll")
        #expect(error.problems[0].key == "name")
        #expect(error.description.contains("line 3: task \"poll\": name: another task already has this name (line 2)"), "\(error)")
    }

    @Test func aTaskWithoutANameIsNamedByPosition() throws {
        let error = try #require(throws: ScheduleFileError.self) {
            try ScheduleFile(yaml: "tasks:\n  - {name: ok, cron: \"@daily\", type: x}\n  - {cron: \"@daily\", type: x}\n")
        }
        #expect(error.problems.count == 1)
        #expect(error.problems[0].taskNumber == 2)
        #expect(error.description.contains("line 3: task #2: name: required key is missing"), "\(error)")
    }

    @Test func everyProblemIsReportedAtOnce() throws {
        let error = try #require(throws: ScheduleFileError.self) {
            try ScheduleFile(yaml: """
                tasks:
                  - name: one
                    cron: "0 9 * * *"
                    time_zone: Mars/Olympus
                    type: x
                  - name: two
                    cronn: "0 9 * * *"
                    type: y
                """)
        }
        #expect(error.problems.map(\.task) == ["one", "two", "two"])
        #expect(error.problems.map(\.key) == ["time_zone", "cronn", "cron"])
        #expect(error.problems.map(\.line) == [4, 7, 6])
        #expect(error.description.hasPrefix("jobs/schedule.yaml: 3 problems, the scheduler cannot start\n"))
    }

    @Test func unquotedStarIsExplained() throws {
        let error = try #require(throws: ScheduleFileError.self) {
            try ScheduleFile(yaml: "tasks:\n  - name: a\n    cron: */15 * * * *\n    type: x\n")
        }
        #expect(error.problems.map(\.code) == [.invalidYAML])
        #expect(error.description.contains("Quote cron expressions"))
    }

    @Test func structureErrors() throws {
        let unknownTop = try #require(throws: ScheduleFileError.self) { try ScheduleFile(yaml: "tasks: []\njobs: []\n") }
        #expect(unknownTop.problems.map(\.code) == [.unknownKey])
        let notAList = try #require(throws: ScheduleFileError.self) { try ScheduleFile(yaml: "tasks: {a: 1}\n") }
        #expect(notAList.problems.map(\.code) == [.invalidStructure])
        let noTasks = try #require(throws: ScheduleFileError.self) { try ScheduleFile(yaml: "task:\n  - {name: a}\n") }
        #expect(Set(noTasks.problems.map(\.code)) == [.unknownKey, .missingKey])
    }

    /// A second `tasks:` block (one appended to the file) dropped every task of the first, and the scheduler started.
    @Test func aSecondTasksListIsRefusedNotLastWins() throws {
        let error = try #require(throws: ScheduleFileError.self) {
            try ScheduleFile(yaml: """
                tasks:
                  - {name: a, cron: "* * * * *", type: x}
                tasks:
                  - {name: b, cron: "* * * * *", type: x}
                """)
        }
        #expect(error.problems.map(\.code) == [.duplicateKey])
        #expect(error.problems.first?.key == "tasks")
        #expect(error.description.contains("line 3: tasks: given twice (line 1 has the first)"), "\(error)")
    }

    /// Yams' description of a YAML error quotes the line at fault: a payload's phone number or email address went
    /// unmasked to the scheduler's log, `hoopoe schedule list` and the dashboard's periodic page. The problem says what and
    /// where (line, column), not the text.
    @Test func aYAMLErrorSaysWhereNotTheLinesText() throws {
        let error = try #require(throws: ScheduleFileError.self) {
            try ScheduleFile(yaml: """
                tasks:
                  - name: a
                    cron: "* * * * *"
                    type: x
                    payload: {to: 09121234567, mail: someone@example.com}}
                """)
        }
        #expect(error.problems.map(\.code) == [.invalidYAML])
        #expect(error.problems.map(\.line) == [5])
        #expect(!error.description.contains("9121234567") && !error.description.contains("someone@"), "\(error)")
        #expect(error.description.contains("line 5: not valid YAML: ") && error.description.contains("column"), "\(error)")
        // A scanner's error, with its context, says no more.
        let scanner = try #require(throws: ScheduleFileError.self) {
            try ScheduleFile(yaml: "tasks:\n  - name: \"09121234567 someone@example.com\n    cron: x\n")
        }
        #expect(scanner.problems.map(\.code) == [.invalidYAML])
        #expect(!scanner.description.contains("9121234567") && !scanner.description.contains("someone@"), "\(scanner)")
        #expect(scanner.description.contains("line "), "\(scanner)")
    }

    /// A directory where the file should be (a ConfigMap mounted with subPath whose key is missing) is named as one, not
    /// "The operation could not be completed. (NSCocoaErrorDomain error 256.)".
    @Test func aDirectoryIsNamedAsOne() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("schedule-\(UUID().uuidString).yaml")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: folder) }
        let error = try #require(throws: ScheduleFileError.self) { try ScheduleFile.load(contentsOf: folder) }
        #expect(error.problems.map(\.code) == [.unreadable])
        #expect(error.description.contains("\(folder.path): 1 problem"), "\(error)")
        #expect(error.description.contains("is a directory, not a file (a ConfigMap key missing?"), "\(error)")
        #expect(!error.description.contains("NSCocoaErrorDomain"), "\(error)")
    }

    @Test func unreadableFileNamesThePath() throws {
        let url = URL(fileURLWithPath: "/nonexistent/schedule.yaml")
        let error = try #require(throws: ScheduleFileError.self) { try ScheduleFile.load(contentsOf: url) }
        #expect(error.problems.map(\.code) == [.unreadable])
        #expect(error.description.hasPrefix("/nonexistent/schedule.yaml: "))
    }

    /// The project's own `jobs/schedule.yaml` loads, and its tasks are what the service expects.
    @Test func projectScheduleFile() throws {
        var folder = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
        while folder.path != "/", !FileManager.default.fileExists(atPath: folder.appendingPathComponent(ScheduleFile.defaultPath).path) {
            folder.deleteLastPathComponent()
        }
        let file = try ScheduleFile.load(contentsOf: folder.appendingPathComponent(ScheduleFile.defaultPath))
        #expect(file.tasks.map(\.name) == ["diag.scheduler_canary", "reminders.expiration", "reminders.low_credit", "sms.delivery_poll"])
        #expect(file.tasks.allSatisfy { $0.timeZone.identifier == "Asia/Tehran" })
        #expect(file.enabledTasks.map(\.name) == file.tasks.map(\.name))
        let now = try #require(ISO8601DateFormatter().date(from: "2025-06-01T10:07:30+03:30"))
        let next = Dictionary(uniqueKeysWithValues: file.tasks.map { ($0.name, $0.nextTick(after: now)) })
        #expect(next["reminders.expiration"]! == ISO8601DateFormatter().date(from: "2025-06-02T09:00:00+03:30"))
        #expect(next["reminders.low_credit"]! == ISO8601DateFormatter().date(from: "2025-06-01T10:15:00+03:30"))
        #expect(next["sms.delivery_poll"]! == ISO8601DateFormatter().date(from: "2025-06-01T10:08:00+03:30"))
    }
}
